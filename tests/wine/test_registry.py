"""Every .reg the collection writes goes through wine: ``reg import``, then ``reg export``, then the exported bytes or
values are compared with what was meant. wine's importer skips bad lines and still exits 0, so exit codes prove
nothing on their own.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from fake_windows import APPLY, READ, WineRegistry, make_action

from ansible_collections.medimaging.starviewer.plugins.action.starviewer_registry import ActionModule as RegistryAction
from ansible_collections.medimaging.starviewer.plugins.module_utils.qt_registry import (
    REG_BINARY,
    REG_DWORD,
    REG_EXPAND_SZ,
    REG_MULTI_SZ,
    REG_SZ,
    Desired,
    RegValue,
    apply_ops,
    delta,
    export_ops,
    parse_reg,
    reg_state,
    render_reg,
    render_state,
    settings_desired,
    with_ancestors,
)
from ansible_collections.medimaging.starviewer.plugins.module_utils.settings_args import encode_values
from ansible_collections.medimaging.starviewer.plugins.module_utils.starviewer import build_settings

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "windows"
KEY = "HKEY_LOCAL_MACHINE\\SOFTWARE\\GILab\\Starviewer"
REGEN = os.environ.get("STARVIEWER_REGEN_FIXTURES") == "1"


def to_reg(text: str) -> bytes:
    return b"\xff\xfe" + text.replace("\n", "\r\n").encode("utf-16-le", "surrogatepass")


def config(name: str = "config.yml") -> dict:
    return yaml.safe_load((FIXTURES / name).read_text(encoding="utf-8"))


def settings_of(cfg: dict) -> dict:
    return build_settings(cfg)


def desired_of(cfg: dict):
    settings = settings_of(cfg)
    return settings_desired(settings["set"], settings["remove"], settings["arrays"])


def exported_state(wine) -> dict | None:
    data = wine.reg_export(KEY)
    return None if data is None else reg_state(data, KEY)


@pytest.mark.parametrize("name", ["three-pacs", "four-pacs", "drifted"])
def test_fixtures_are_what_wine_exports(wine, name):
    """The registry fixtures of the unit tests are real ``wine reg export`` output of their sources."""
    source = to_reg((FIXTURES / f"{name}.src.txt").read_text(encoding="utf-8"))
    assert wine.reg_import(source).returncode == 0
    exported = wine.reg_export(KEY)
    target = FIXTURES / f"{name}.export.reg"
    if REGEN:
        target.write_bytes(exported)
    assert exported == target.read_bytes()


@pytest.mark.parametrize("name", ["config.yml", "annex-a.yml"])
def test_state_writer_is_byte_identical_to_wine_export(wine, name):
    """render_state writes what ``wine reg export`` writes: same escaping, types, order and hex line wrapping."""
    state = apply_ops({}, delta({}, desired_of(config(name))))
    written = render_state(KEY, state)
    assert wine.reg_import(written).returncode == 0
    assert wine.reg_export(KEY) == written


def test_export_file_enforces_the_configuration_on_a_drifted_registry(wine):
    """The group-policy .reg (export_ops) leaves, over any start, exactly the values the roles write."""
    desired = desired_of(config())
    assert wine.reg_import((FIXTURES / "drifted.export.reg").read_bytes()).returncode == 0
    before = exported_state(wine)
    assert wine.reg_import(render_reg(KEY, export_ops(desired))).returncode == 0
    after = exported_state(wine)
    assert delta(after, desired) == []
    # The arrays hold exactly what the roles write, stale items and values included.
    roles = apply_ops(before, delta(before, desired))
    for key in with_ancestors(roles):
        assert after.get(key) == roles[key], key
    assert set(after) == set(with_ancestors(roles))
    # Keys nobody manages survive.
    assert after["Shortcuts"] == before["Shortcuts"]
    assert after["Hanging-Protocols"]["path"] == RegValue(REG_EXPAND_SZ, "%PROGRAMDATA%\\hp")


SCENARIOS = {
    "fresh": None,
    "identical": "three-pacs",
    "drifted": "drifted",
    "shorter": "four-pacs",
}


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_settings_action_through_wine(wine, scenario):
    """The settings role's action plugin, its PowerShell modules replaced by wine (a mock: no Windows host here)."""
    if SCENARIOS[scenario]:
        assert wine.reg_import((FIXTURES / f"{SCENARIOS[scenario]}.export.reg").read_bytes()).returncode == 0
    before = exported_state(wine) or {}
    settings = settings_of(config())
    args = {
        "path": "SOFTWARE\\GILab\\Starviewer",
        "settings": {
            "set": encode_values(settings["set"]),
            "remove": settings["remove"],
            "arrays": {k: [encode_values(i) for i in v] for k, v in settings["arrays"].items()},
        },
    }
    registry = WineRegistry(wine)
    result = make_action(RegistryAction, args, registry).run(task_vars={})
    assert not result.get("failed"), result
    assert result["changed"] is (scenario != "identical")
    assert registry.calls == ([READ] if scenario == "identical" else [READ, APPLY])

    after = exported_state(wine)
    desired = desired_of(config())
    assert delta(after, desired) == []
    assert after == with_ancestors(apply_ops(before, delta(before, desired)))
    if scenario == "shorter":
        assert "PacsList\\4" in before and "PacsList\\4" not in after
        assert {"action": "delete_key", "key": "PacsList\\4"} in result["operations"]
    if scenario == "drifted":
        assert after["PacsList\\1"]["PacsPort"] == RegValue(REG_DWORD, 11112)
        assert "Foo" not in after["PacsList\\1"]
        assert after["PacsList\\3"]["BaseUri"].kind == REG_BINARY
        assert after["PACS\\PacsParam"]["localPort"] == RegValue(REG_SZ, "4007")  # existing key case is kept
        assert "PACS\\pacsparam" not in after
        assert "imagePath" not in after["PACS\\cache"]
        assert not any(key.startswith("2DViewer\\Annotations") for key in after)
        assert "ExternalApplications\\2" not in after
        assert after["Shortcuts"]["Zoom"] == RegValue(REG_MULTI_SZ, ("Ctrl+Z",))
        assert after[""]["scaleFactor"] == RegValue(REG_DWORD, 1)
        # -1 was already there as 0xffffffff: not rewritten
        assert not any(op.get("name") == "sortOrder" for op in result["operations"])

    # A second run reads once and changes nothing.
    registry.calls.clear()
    again = make_action(RegistryAction, args, registry).run(task_vars={})
    assert again["changed"] is False and registry.calls == [READ]
    assert exported_state(wine) == after


def test_check_mode_reports_per_value_and_writes_nothing(wine):
    assert wine.reg_import((FIXTURES / "four-pacs.export.reg").read_bytes()).returncode == 0
    before = wine.reg_export(KEY)
    settings = settings_of(config())
    args = {"path": "SOFTWARE\\GILab\\Starviewer",
            "settings": {"set": encode_values(settings["set"]), "remove": settings["remove"],
                         "arrays": {k: [encode_values(i) for i in v] for k, v in settings["arrays"].items()}}}
    registry = WineRegistry(wine)
    result = make_action(RegistryAction, args, registry, check_mode=True).run(task_vars={})
    assert result["changed"] is True
    assert registry.calls == [READ]
    assert wine.reg_export(KEY) == before
    assert '[HKLM\\SOFTWARE\\GILab\\Starviewer\\PacsList\\4]\n"AETitle" = REG_SZ "PACS4"' in result["diff"]["before"]
    assert "PacsList\\4]" not in result["diff"]["after"]
    assert '"size" = REG_DWORD 4 (0x00000004)' in result["diff"]["before"]
    assert '"size" = REG_DWORD 3 (0x00000003)' in result["diff"]["after"]


def test_wine_skips_bad_lines_with_exit_code_zero_but_the_parser_refuses_them(wine):
    text = "Windows Registry Editor Version 5.00\n\n[%s\\T]\n\"Bad\"=dword:zz\n\"Good\"=\"x\"\n\n" % KEY
    data = to_reg(text)
    assert wine.reg_import(data).returncode == 0
    assert reg_state(wine.reg_export(KEY), KEY) == {"": {}, "T": {"Good": RegValue(REG_SZ, "x")}}
    with pytest.raises(ValueError, match="bad dword"):
        parse_reg(data)


def test_utf8_with_bom_is_rejected_by_wine_and_by_the_parser(wine):
    data = b"\xef\xbb\xbf" + ("Windows Registry Editor Version 5.00\r\n\r\n[%s]\r\n\"A\"=\"b\"\r\n" % KEY).encode()
    assert wine.reg_import(data).returncode == 1
    assert wine.reg_export(KEY) is None
    with pytest.raises(ValueError, match="byte order mark"):
        parse_reg(data)


def test_values_wine_stores_match_the_bytes_written(wine):
    """Boundary values: empty and one-byte binary, DWORD 0 and 0xffffffff, surrogate pairs, quotes, backslashes."""
    state = {
        "": {
            "empty": RegValue(REG_BINARY, b""),
            "one": RegValue(REG_BINARY, b"\x05"),
            "zero": RegValue(REG_DWORD, 0),
            "max": RegValue(REG_DWORD, 0xFFFFFFFF),
            "text": RegValue(REG_SZ, 'Cl\u00ednica \U00012256 "q" \\\\ end\\'),
            "lines": RegValue(REG_SZ, "two\r\nlines"),
            "list": RegValue(REG_MULTI_SZ, ("a", "\U00012256")),
            "": RegValue(REG_SZ, "default"),
        },
        "Sub key\\\u00e9": {"x" * 90: RegValue(REG_BINARY, bytes(range(100)))},
    }
    written = render_reg(KEY, delta({}, Desired(values=state)))
    assert wine.reg_import(written).returncode == 0
    exported = wine.reg_export(KEY)
    assert reg_state(exported, KEY) == with_ancestors(state)
    # wine writes the CR/LF string with \r\n escapes, this writer as hex(1); every other line is the same
    ours = _logical_lines(render_state(KEY, reg_state(exported, KEY)))
    theirs = _logical_lines(exported)
    assert [line for line in ours if not line.startswith('"lines"=')] == [
        line for line in theirs if not line.startswith('"lines"=')]
    assert '"lines"="two\\r\\nlines"' in theirs
    assert '"lines"=hex(1):74,00,77,00,6f,00,0d,00,0a,00,6c,00,69,00,6e,00,65,00,73,00,00,00' in ours


def _logical_lines(data: bytes) -> list[str]:
    """Lines of a .reg file with hex continuations joined."""
    out: list[str] = []
    pending = ""
    for line in data[2:].decode("utf-16-le", "surrogatepass").split("\r\n"):
        if pending:
            line = pending + line.lstrip(" ")
        if line.endswith("\\"):
            pending = line[:-1]
            continue
        pending = ""
        out.append(line)
    return out
