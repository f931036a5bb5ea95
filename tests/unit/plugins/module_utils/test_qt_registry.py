"""The registry model, the .reg codec and the delta engine, on states parsed from real ``wine reg export`` files.

tests/fixtures/windows/*.export.reg are wine's own output (tests/wine/test_registry.py re-creates them and checks
they have not changed). PyQt5 is the oracle for Qt's text form of values (QSettingsPrivate::variantToString), which
Qt's Windows backend also uses; the Windows registry types themselves come from the vendor manual's Annex A.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
import yaml

from ansible_collections.medimaging.starviewer.plugins.module_utils.qt_ini import INVALID, QtUrl, variant_url_raw
from ansible_collections.medimaging.starviewer.plugins.module_utils.qt_registry import (
    REG_BINARY,
    REG_DWORD,
    REG_EXPAND_SZ,
    REG_MULTI_SZ,
    REG_QWORD,
    REG_SZ,
    Desired,
    Op,
    RegValue,
    apply_ops,
    delta,
    describe,
    export_ops,
    op_from_module,
    op_to_module,
    parse_reg,
    qt_key,
    qt_value,
    reg_state,
    reg_value,
    render_reg,
    render_state,
    settings_desired,
    state_from_module,
    state_text,
    state_to_module,
    subtree,
    values_desired,
    with_ancestors,
)
from ansible_collections.medimaging.starviewer.plugins.module_utils.starviewer import build_settings

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "windows"
KEY = "HKEY_LOCAL_MACHINE\\SOFTWARE\\GILab\\Starviewer"


def fixture_state(name: str) -> dict:
    return reg_state((FIXTURES / f"{name}.export.reg").read_bytes(), KEY)


def desired(name: str = "config.yml") -> Desired:
    settings = build_settings(yaml.safe_load((FIXTURES / name).read_text(encoding="utf-8")))
    return settings_desired(settings["set"], settings["remove"], settings["arrays"])


# -- canonical values (lessons from ansible-modules-extras#3134, ansible#26049, ansible#19213) --------------------


@pytest.mark.parametrize("spelling", [-1, 0xFFFFFFFF, "0xffffffff", "4294967295", "-1", b"\xff\xff\xff\xff"])
def test_dword_spellings_of_the_same_bits_are_equal(spelling):
    assert reg_value(REG_DWORD, spelling) == RegValue(REG_DWORD, 0xFFFFFFFF)


@pytest.mark.parametrize("spelling", [0, "0", "0x0", b"\x00\x00\x00\x00"])
def test_dword_zero(spelling):
    assert reg_value(REG_DWORD, spelling) == RegValue(REG_DWORD, 0)


@pytest.mark.parametrize("bad", [1 << 32, -(1 << 31) - 1, True, 1.0, "12x", b"\x01\x02"])
def test_dword_out_of_range_or_not_a_number(bad):
    with pytest.raises(ValueError):
        reg_value(REG_DWORD, bad)


def test_qword_is_unsigned_64_bit():
    assert reg_value(REG_QWORD, -1) == RegValue(REG_QWORD, (1 << 64) - 1)
    assert reg_value(REG_QWORD, b"\x01" + b"\x00" * 7) == RegValue(REG_QWORD, 1)


@pytest.mark.parametrize(("spelling", "expected"), [
    (b"", b""), ("", b""), ([], b""),
    (b"\x05", b"\x05"), ("05", b"\x05"), ([5], b"\x05"), ("5", None),
    ("40,00,56,00", b"@\x00V\x00"), ("40005600", b"@\x00V\x00"), ([64, 0, 86, 0], b"@\x00V\x00"),
    (bytearray(b"\x00\xff"), b"\x00\xff"),
])
def test_binary_spellings(spelling, expected):
    if expected is None:
        with pytest.raises(ValueError):
            reg_value(REG_BINARY, spelling)
    else:
        assert reg_value(REG_BINARY, spelling) == RegValue(REG_BINARY, expected)


def test_expand_sz_is_kept_unexpanded():
    assert reg_value(REG_EXPAND_SZ, "%ProgramData%\\x") == RegValue(REG_EXPAND_SZ, "%ProgramData%\\x")
    assert reg_value(REG_EXPAND_SZ, "x") != reg_value(REG_SZ, "x")


def test_string_and_list_from_raw_bytes():
    assert reg_value(REG_SZ, "ab\x00cd\x00".encode("utf-16-le")) == RegValue(REG_SZ, "ab")
    assert reg_value(REG_MULTI_SZ, "a\x00b\x00\x00".encode("utf-16-le")) == RegValue(REG_MULTI_SZ, ("a", "b"))
    # Windows ends a REG_MULTI_SZ at the first empty string
    assert reg_value(REG_MULTI_SZ, "a\x00\x00b\x00\x00".encode("utf-16-le")) == RegValue(REG_MULTI_SZ, ("a",))
    with pytest.raises(ValueError):
        reg_value(REG_MULTI_SZ, ["a", ""])
    with pytest.raises(ValueError):
        reg_value("REG_FOO", "x")


# -- how Qt 5 stores values ------------------------------------------------------------------------------------


def test_qt_types():
    assert qt_value(True) == RegValue(REG_SZ, "true")
    assert qt_value(False) == RegValue(REG_SZ, "false")
    assert qt_value(11112) == RegValue(REG_DWORD, 0x2B68)
    assert qt_value(-1) == RegValue(REG_DWORD, 0xFFFFFFFF)
    assert qt_value("4007") == RegValue(REG_SZ, "4007")
    assert qt_value(["MG", "CR"]) == RegValue(REG_MULTI_SZ, ("MG", "CR"))
    assert qt_value(INVALID) == RegValue(REG_SZ, "@Invalid()")
    for bad in (1 << 32, 1.5, [], [""], ["a\x00"], "a\x00b", {"a": 1}):
        with pytest.raises(ValueError):
            qt_value(bad)


def test_url_is_binary_utf16_of_the_variant_text_without_terminator():
    value = qt_value(QtUrl("http://10.0.0.2/wado/"))
    assert value.kind == REG_BINARY
    # The manual's Annex A bytes for this URL.
    manual = bytes.fromhex("".join([
        "400056006100720069006100", "6e0074002800000000000000", "1100000000000000150068007400740070003a002f00",
        "2f00310030002e0030002e0030002e0032002f00770061006400", "6f002f002900"]))
    assert value.data == manual
    assert value.data.decode("utf-16-le") == variant_url_raw("http://10.0.0.2/wado/")
    assert not value.data.endswith(b"\x00\x00")


def test_leading_at_is_doubled_like_qt_does(qt):
    """Qt's text form doubles a leading @ (PyQt5 shows it through the INI backend, which shares variantToString)."""
    written = qt.formatted(["@PACS", "no@", ["@CR", "MG"]])
    assert written[:2] == ["@@PACS", "no@"]
    assert qt_value("@PACS") == RegValue(REG_SZ, "@@PACS")
    assert qt_value("no@") == RegValue(REG_SZ, "no@")
    assert qt_value(["@CR", "MG"]) == RegValue(REG_MULTI_SZ, ("@@CR", "MG"))
    assert written[2] == "@@CR, MG"


@pytest.mark.parametrize(("key", "expected"), [
    ("PACS/pacsparam/AETitle", ("PACS\\pacsparam", "AETitle")),
    ("scaleFactor", ("", "scaleFactor")),
    ("/PacsList/size", ("PacsList", "size")),
    ("2DViewer/Measurement/measurementDisplayVerbosity", ("2DViewer\\Measurement", "measurementDisplayVerbosity")),
])
def test_qt_key_to_subkey_and_value(key, expected):
    assert qt_key(key) == expected


def test_desired_state_of_the_test_configuration():
    want = desired()
    assert want.exact_trees == ("PacsList", "ExternalApplications")
    assert want.delete_trees == ("2DViewer\\Annotations",)
    assert want.delete_values == (("PACS\\cache", "imagePath"),)
    assert want.values["PacsList"] == {"size": RegValue(REG_DWORD, 3)}
    assert want.values["PacsList\\1"]["PacsPort"] == RegValue(REG_DWORD, 11112)
    assert want.values["PacsList\\1"]["AETitle"] == RegValue(REG_SZ, "@@PACS,1;=")
    assert "BaseUri" not in want.values["PacsList\\1"] and "AETitle" not in want.values["PacsList\\2"]
    assert want.values["PACS\\pacsparam"]["localPort"] == RegValue(REG_SZ, "4007")
    assert want.values["PACS"]["defaultPACSListToQuery"] == RegValue(REG_SZ, "")
    assert want.values["PACS"]["defaultPACSListToQuery2"].data.endswith("\\\\")
    assert "\U00012256" in want.values["PACS"]["defaultPACSListToQuery2"].data
    assert want.values["PACS\\cache"]["minimumSpaceRequiredToRetrieveInGbytes"] == RegValue(REG_DWORD, 5)
    assert want.values["PACS\\cache"]["MaximumDaysNotViewedStudy"] == RegValue(REG_SZ, "14")


def test_written_and_removed_at_once_is_refused():
    with pytest.raises(ValueError, match="both written and removed"):
        settings_desired({"PacsList/1/ID": "0"}, ["PacsList"])


# -- delta engine on wine's exports ------------------------------------------------------------------------------


def _check_reaches(current: dict, want: Desired) -> dict:
    ops = delta(current, want)
    after = apply_ops(current, ops)
    assert delta(after, want) == []
    return after


def test_fresh_host_gets_keys_and_values_only():
    ops = delta({}, desired())
    assert {op.action for op in ops} == {"create_key", "set_value"}
    assert Op("create_key", "PacsList") in ops
    assert ops.index(Op("create_key", "PacsList")) < ops.index(
        Op("set_value", "PacsList", "size", RegValue(REG_DWORD, 3)))
    assert apply_ops({}, ops) == with_ancestors(apply_ops({}, ops))
    assert _check_reaches({}, desired()) == fixture_state("three-pacs")


def test_identical_host_needs_nothing():
    assert delta(fixture_state("three-pacs"), desired()) == []


def test_shorter_list_deletes_only_the_stale_subkey():
    current = fixture_state("four-pacs")
    ops = delta(current, desired())
    assert ops == [
        Op("set_value", "PacsList", "size", RegValue(REG_DWORD, 3), RegValue(REG_DWORD, 4)),
        Op("delete_key", "PacsList\\4"),
    ]
    assert _check_reaches(current, desired()) == fixture_state("three-pacs")


def test_drifted_host():
    current = fixture_state("drifted")
    ops = delta(current, desired())
    by_target = {(op.action, op.key, op.name): op for op in ops}
    assert set(by_target) == {
        ("set_value", "PACS", "defaultPACSListToQuery"),
        ("set_value", "PACS\\PacsParam", "localPort"),  # the existing key, whatever its case
        ("set_value", "PacsList", "size"),
        ("set_value", "PacsList\\1", "PacsPort"),
        ("set_value", "PacsList\\2", "Description"),
        ("set_value", "PacsList\\3", "BaseUri"),
        ("set_value", "ExternalApplications", "size"),
        ("delete_value", "PacsList", ""),
        ("delete_value", "PacsList\\1", "Foo"),
        ("delete_value", "PACS\\cache", "imagePath"),
        ("delete_key", "2DViewer\\Annotations", None),
        ("delete_key", "PacsList\\4", None),
        ("delete_key", "ExternalApplications\\2", None),
    }
    assert by_target[("set_value", "PacsList\\1", "PacsPort")].old == RegValue(REG_SZ, "11112")
    assert by_target[("set_value", "PACS\\PacsParam", "localPort")].old == RegValue(REG_DWORD, 4007)
    # writes first, then value deletions, then key deletions; a stale subtree is deleted once, from its top
    actions = [op.action for op in ops]
    assert actions == sorted(actions, key=["create_key", "set_value", "delete_value", "delete_key"].index)
    after = _check_reaches(current, desired())
    for untouched in ("Shortcuts", "Hanging-Protocols"):
        assert after[untouched] == current[untouched]
    assert after[""]["scaleFactor"] == RegValue(REG_DWORD, 1)
    assert "PacsList\\4\\Nested" not in after


def test_key_and_value_names_compare_without_case():
    current = {"pacslist": {"SIZE": RegValue(REG_DWORD, 1)}, "pacslist\\1": {"id": RegValue(REG_SZ, "0")}}
    want = settings_desired({}, (), {"PacsList": [{"ID": "0"}]})
    assert delta(current, want) == []


def test_values_mode_only_ensures():
    current = {"": {"URL Protocol": RegValue(REG_SZ, ""), "Extra": RegValue(REG_SZ, "1")},
               "shell\\open\\command": {"": RegValue(REG_SZ, "other.exe")}}
    command = '"C:\\x\\starviewer.exe" --url "%1"'
    want = values_desired({"": {"URL Protocol": ""}, "shell\\open\\command": {"": command}})
    assert delta(current, want) == [Op("set_value", "shell\\open\\command", "", RegValue(
        REG_SZ, '"C:\\x\\starviewer.exe" --url "%1"'), RegValue(REG_SZ, "other.exe"))]


def test_removed_list_setting_goes_whole_and_plain_key_as_a_value():
    current = {"ExternalApplications": {"size": RegValue(REG_DWORD, 1)},
               "ExternalApplications\\1": {"name": RegValue(REG_SZ, "a")},
               "PACS\\cache": {"imagePath": RegValue(REG_SZ, "x"), "keep": RegValue(REG_SZ, "y")}}
    want = settings_desired({}, ["ExternalApplications", "PACS/cache/imagePath"])
    assert delta(current, want) == [Op("delete_value", "PACS\\cache", "imagePath", None, RegValue(REG_SZ, "x")),
                                    Op("delete_key", "ExternalApplications")]
    assert delta({}, want) == []


def test_two_hundred_pacs_round_trip():
    pacs = [{"type": "DIMSE", "ae_title": "PACS%d" % i, "hostname": "10.0.%d.%d" % (i // 250, i % 250 + 1),
             "port": 104 + i} for i in range(200)]
    settings = build_settings({"starviewer_pacs": pacs})
    want = settings_desired(settings["set"], settings["remove"], settings["arrays"])
    after = _check_reaches({}, want)
    assert after["PacsList"]["size"] == RegValue(REG_DWORD, 200)
    assert after["PacsList\\200"]["PacsPort"] == RegValue(REG_DWORD, 303)


# -- .reg writer and parser --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["three-pacs", "four-pacs", "drifted"])
def test_writer_reproduces_wine_export_byte_for_byte(name):
    data = (FIXTURES / f"{name}.export.reg").read_bytes()
    assert render_state(KEY, reg_state(data, KEY)) == data


def test_hex_wrapping_like_regedit():
    def lines(name: str, size: int) -> list[str]:
        data = render_reg("HKLM\\X", [Op("set_value", "", name, RegValue(REG_BINARY, bytes(size)))])
        return data[2:].decode("utf-16-le").split("\r\n")[3:-2]

    first = lines("BaseUri", 100)
    assert first[0] == '"BaseUri"=hex:' + "00," * 21 + "\\"
    assert all(line.startswith("  ") and len(line) <= 80 for line in first[1:])
    assert first[1] == "  " + "00," * 25 + "\\"
    assert lines("BaseUri", 21) == ['"BaseUri"=hex:' + "00," * 20 + "00"]
    assert lines("x" * 75, 2) == ['"%s"=hex:00,\\' % ("x" * 75), "  00"]
    assert lines("e", 0) == ['"e"=hex:']
    # width counts UTF-16 code units: a surrogate pair takes two (wine 8 breaks this name's line after 22 bytes)
    assert lines("\u00e9\U00012256x", 40)[0] == '"\u00e9\U00012256x"=hex:' + "00," * 22 + "\\"


def test_render_reg_layout():
    ops = [Op("delete_key", "PacsList"), Op("create_key", "PacsList"),
           Op("set_value", "PacsList", "size", RegValue(REG_DWORD, 2)),
           Op("delete_value", "PACS", 'a"b\\c'), Op("set_value", "", "", RegValue(REG_SZ, 'q"\\'))]
    data = render_reg("HKLM\\SOFTWARE\\GILab\\Starviewer", ops)
    assert data[:2] == b"\xff\xfe"
    assert data[2:].decode("utf-16-le") == (
        "Windows Registry Editor Version 5.00\r\n\r\n"
        "[-HKEY_LOCAL_MACHINE\\SOFTWARE\\GILab\\Starviewer\\PacsList]\r\n\r\n"
        "[HKEY_LOCAL_MACHINE\\SOFTWARE\\GILab\\Starviewer\\PacsList]\r\n\"size\"=dword:00000002\r\n\r\n"
        "[HKEY_LOCAL_MACHINE\\SOFTWARE\\GILab\\Starviewer\\PACS]\r\n\"a\\\"b\\\\c\"=-\r\n\r\n"
        "[HKEY_LOCAL_MACHINE\\SOFTWARE\\GILab\\Starviewer]\r\n@=\"q\\\"\\\\\"\r\n\r\n")
    parsed = [op for _path, op in parse_reg(data)]
    assert parsed[0] == Op("delete_key", "HKEY_LOCAL_MACHINE\\SOFTWARE\\GILab\\Starviewer\\PacsList")
    assert parsed[4] == Op("delete_value", "HKEY_LOCAL_MACHINE\\SOFTWARE\\GILab\\Starviewer\\PACS", 'a"b\\c')
    assert parsed[-1].value == RegValue(REG_SZ, 'q"\\')


def test_export_file_deletes_arrays_whole_before_writing_them():
    ops = export_ops(desired())
    assert ops[:3] == [Op("delete_key", "2DViewer\\Annotations"), Op("delete_key", "PacsList"),
                       Op("delete_key", "ExternalApplications")]
    assert ops[3] == Op("delete_value", "PACS\\cache", "imagePath")
    assert apply_ops(fixture_state("drifted"), ops) == apply_ops(
        fixture_state("drifted"), delta(fixture_state("drifted"), desired()))


@pytest.mark.parametrize(("text", "error"), [
    ('[K]\r\n"a"=dword:zz', "bad dword"),
    ('[K]\r\n"a"="x\\q"', "unknown escape"),
    ('[K]\r\n"a"="x', "unterminated"),
    ('"a"="x"', "outside a key"),
    ('[K]\r\n"a"=hex:0,1', "bad hex"),
    ('[K]\r\n"a"=hex(4):01,00', "of 2 bytes"),
    ('[K]\r\nnot a value', "unexpected line"),
    ('[K]\r\n"a"=hex:01,\\', "continuation at end"),
])
def test_parser_refuses_what_it_does_not_understand(text, error):
    data = b"\xff\xfe" + ("Windows Registry Editor Version 5.00\r\n\r\n" + text).encode("utf-16-le")
    with pytest.raises(ValueError, match=error):
        parse_reg(data)


def test_parser_needs_regedit5_utf16():
    with pytest.raises(ValueError, match="byte order mark"):
        parse_reg(b"Windows Registry Editor Version 5.00\r\n")
    with pytest.raises(ValueError, match="first line"):
        parse_reg(b"\xff\xfe" + "REGEDIT4\r\n".encode("utf-16-le"))


def test_parser_reads_wine_escapes_and_all_types():
    text = ('[K]\r\n"s"="a\\nb\\r\\"\\\\"\r\n"e"=hex(2):25,00,00,00\r\n"q"=hex(b):01,00,00,00,00,00,00,00\r\n'
            '"m"=hex(7):61,00,00,00,00,00\r\n"n"=hex(0):\r\n"b"=hex(5):00,00,00,01\r\n"x"=-\r\n')
    data = b"\xff\xfe" + ("Windows Registry Editor Version 5.00\r\n\r\n" + text).encode("utf-16-le")
    state = reg_state(data)
    assert state["K"] == {"s": RegValue(REG_SZ, 'a\nb\r"\\'), "e": RegValue(REG_EXPAND_SZ, "%"),
                          "q": RegValue(REG_QWORD, 1), "m": RegValue(REG_MULTI_SZ, ("a",)),
                          "n": RegValue("REG_NONE", b""), "b": RegValue("REG_DWORD_BIG_ENDIAN", b"\x00\x00\x00\x01")}
    assert render_state("HKLM\\K", state["K"] and {"": state["K"]})  # every type can be written back


def test_subtree_is_case_insensitive_and_relative():
    root = "HKEY_LOCAL_MACHINE\\Software\\GILab\\Starviewer"
    state = {root: {}, root + "\\A": {}}
    assert subtree(state, KEY) == {"": {}, "A": {}}
    assert subtree(state, KEY + "\\Missing") is None


# -- transport to and from the PowerShell modules ----------------------------------------------------------------


def test_state_from_module_canonicalises():
    tree = {"exists": True, "keys": [
        {"key": "", "values": [{"name": "d", "type": "REG_DWORD", "data": -1},
                               {"name": "b", "type": "REG_BINARY", "data": base64.b64encode(b"\x05").decode()},
                               {"name": "e", "type": "REG_BINARY", "data": ""},
                               {"name": "m", "type": "REG_MULTI_SZ", "data": ["a", "", "b"]},
                               {"name": "u", "type": "REG_UNKNOWN", "data": "AQ=="}]},
        {"key": "Sub", "values": []}]}
    state = state_from_module(tree)
    assert state == {"": {"d": RegValue(REG_DWORD, 0xFFFFFFFF), "b": RegValue(REG_BINARY, b"\x05"),
                          "e": RegValue(REG_BINARY, b""), "m": RegValue(REG_MULTI_SZ, ("a",)),
                          "u": RegValue("REG_UNKNOWN", b"\x01")}, "Sub": {}}
    assert state_from_module({"exists": False, "keys": []}) is None
    with pytest.raises(ValueError, match="base64"):
        state_from_module({"exists": True, "keys": [{"key": "", "values": [
            {"name": "b", "type": "REG_BINARY", "data": "not base64!"}]}]})


def test_transport_round_trips():
    state = fixture_state("drifted")
    assert state_from_module(state_to_module(state)) == with_ancestors(state)
    for op in delta(state, desired()):
        assert op_from_module(op_to_module(op)) == op._replace(old=None)


def test_descriptions_for_diffs():
    assert describe(RegValue(REG_DWORD, 11112)) == "REG_DWORD 11112 (0x00002b68)"
    assert describe(qt_value(QtUrl("http://10.0.0.2/wado/"))).startswith("REG_BINARY QUrl http://10.0.0.2/wado/ (40,00")
    assert describe(RegValue(REG_SZ, 'a"b')) == 'REG_SZ "a\\"b"'
    assert describe(None) == "(absent)"
    text = state_text({"PacsList": {"size": RegValue(REG_DWORD, 1)}}, "HKLM\\X")
    assert text == '[HKLM\\X]\n[HKLM\\X\\PacsList]\n"size" = REG_DWORD 1 (0x00000001)\n'
