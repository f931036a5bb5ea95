# Copyright: contributors to medimaging.starviewer
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests for module_utils/starviewer.py: keys, PACS list, default PACS, AE title expressions, access level file."""

from __future__ import annotations

import random

import pytest

from ansible_collections.medimaging.starviewer.plugins.module_utils import starviewer as sv
from ansible_collections.medimaging.starviewer.plugins.module_utils.qt_ini import QtUrl, format_value

# ---------------------------------------------------------------------------------------------------------------
# Fixtures from the vendor manual
# ---------------------------------------------------------------------------------------------------------------

# Annex A, "Linux": what Qt writes for the three-PACS example (local port 4007).
ANNEX_A_LINUX_PACSLIST = r"""
1\AETitle=PACS1
1\Description=PACS 1 (DIMSE)
1\ID=0
1\Institution=Hospital 1
1\Location=Local 1
1\PacsHostname=10.0.0.1
1\PacsPort=11112
1\QueryRetrieveServiceEnabled=true
1\StoreServiceEnabled=true
1\StoreServicePort=11112
1\Type=DIMSE
2\BaseUri=@Variant(\0\0\0\x11\0\0\0\x15http://10.0.0.2/wado/)
2\Description=PACS 2 (WADO)
2\ID=1
2\Institution=Hospital 2
2\Location=Local 2
2\Type=WADO
3\AETitle=PACS3
3\BaseUri=@Variant(\0\0\0\x11\0\0\0\x19http://10.0.0.3/wado-uri/)
3\Description=PACS 3 (WADO-URI + DIMSE)
3\ID=2
3\Institution=Hospital 3
3\Location=Local 3
3\PacsHostname=10.0.0.3
3\PacsPort=11112
3\QueryRetrieveServiceEnabled=true
3\StoreServiceEnabled=true
3\StoreServicePort=11112
3\Type=WADO-URI+DIMSE
size=3
""".strip().splitlines()

ANNEX_A_PACS = [
    {"type": "DIMSE", "ae_title": "PACS1", "hostname": "10.0.0.1", "port": 11112,
     "institution": "Hospital 1", "location": "Local 1", "description": "PACS 1 (DIMSE)"},
    {"type": "WADO", "base_uri": "http://10.0.0.2/wado/",
     "institution": "Hospital 2", "location": "Local 2", "description": "PACS 2 (WADO)"},
    {"type": "WADO-URI+DIMSE", "ae_title": "PACS3", "hostname": "10.0.0.3", "port": 11112,
     "base_uri": "http://10.0.0.3/wado-uri/",
     "institution": "Hospital 3", "location": "Local 3", "description": "PACS 3 (WADO-URI + DIMSE)"},
]

# Section 1.4.2.2: the default PACS example (raw value; the manual prints it INI-escaped).
MANUAL_DEFAULT_PACS = [
    {"ae_title": "PACS", "hostname": "1.2.3.4", "port": 1234, "query_by_default": True},
    {"type": "WADO", "base_uri": "http://example.com/wado/", "query_by_default": True},
    {"type": "WADO-URI+DIMSE", "base_uri": "http://example.com/wado-uri", "ae_title": "PACS1",
     "hostname": "10.0.0.1", "port": 11112, "query_by_default": True},
]
MANUAL_DEFAULT_PACS_INI = (r"PACS1.2.3.4:1234\\\\http://example.com/wado/\\\\"
                           r"http://example.com/wado-uri\xd808\xde56PACS110.0.0.1:11112\\\\")


def _array_lines(name_items: list[dict]) -> list[str]:
    """INI lines of one array section as Qt writes them (fields sorted, then size)."""
    lines = []
    for index, item in enumerate(name_items, start=1):
        for field in sorted(item):
            lines.append(f"{index}\\{field}={format_value(item[field])}")
    lines.append(f"size={len(name_items)}")
    return lines


# ---------------------------------------------------------------------------------------------------------------
# Error type
# ---------------------------------------------------------------------------------------------------------------


def test_error_message_format():
    err = sv.StarviewerInputError("starviewer_pacs[1].port", 70000, "an integer from 0 to 65535")
    assert str(err) == "starviewer_pacs[1].port: got 70000; allowed: an integer from 0 to 65535"
    assert isinstance(err, ValueError)
    assert (err.variable, err.value, err.allowed) == ("starviewer_pacs[1].port", 70000, "an integer from 0 to 65535")


# ---------------------------------------------------------------------------------------------------------------
# Setting keys and values
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("key", "kind"), [
    ("PACS/cache/imagePath", "string"),
    ("PACS/cache/deleteOldStudiesHasNotViewedInDays", "bool"),
    ("PACS/cache/MaximumDaysNotViewedStudy", "string"),
    ("PACS/cache/minimumSpaceRequiredToRetrieveInGbytes", "uint"),
    ("PACS/cache/GbytesOfOldStudiesToDeleteIfNotEnoughSapaceAvailable", "uint"),
    ("PACS/pacsparam/localPort", "string"),
    ("PACS/pacsparam/timeout", "string"),
    ("PACS/risRequests/listenPort", "int"),
    ("MammographyAutoOrientationExceptions", "stringlist"),
    ("PacsList", "array"),
    ("ExternalApplications", "array"),
    ("2DViewer/Annotations", "array"),
    ("Shortcuts/ZoomTool", "stringlist"),
    ("ComparisionModeDivision", "string"),
])
def test_setting_type(key, kind):
    assert sv.setting_type(key) == kind


@pytest.mark.parametrize("key", ["pacs/cache/imagePath", "PACS/cache/ImagePath", "Shortcuts/", "Shortcuts/a/b", "",
                                 "PACS/RetrievingStudy", None, 3])
def test_setting_type_unknown(key):
    assert sv.setting_type(key) is None


def test_settings_table_uses_only_known_types():
    assert set(sv.SETTINGS.values()) <= {"string", "int", "uint", "bool", "stringlist", "url", "array"}
    # Spot checks against behaviour section 2 (keys are case-sensitive and the typo "Sapace" is part of one).
    for key in ("PACS/defaultPACSListToQuery2", "PACS/pacsparam/AETitle", "InstitutionInformation/InstitutionEmail",
                "DICOMDIR/DICOMDIRBurningApplicationHasDifferentCDDVDParameters", "Starviewer-Language/languageLocale",
                "Extensions/dontShowMedicalDeviceInformationDialog",
                "2DViewer/Measurement/SUVMeasurementNormalizationType"):
        assert key in sv.SETTINGS


@pytest.mark.parametrize(("key", "value", "expected"), [
    ("PACS/cache/deleteOldStudiesHasNotViewedInDays", True, True),
    ("PACS/cache/deleteOldStudiesHasNotViewedInDays", "false", False),
    ("PACS/cache/deleteOldStudiesHasNotViewedInDays", "True", True),
    ("PACS/risRequests/listenPort", 11110, 11110),
    ("PACS/risRequests/listenPort", "11110", 11110),
    ("PACS/cache/minimumSpaceRequiredToRetrieveInGbytes", 5, 5),
    ("PACS/cache/MaximumDaysNotViewedStudy", 7, "7"),
    ("PACS/cache/MaximumDaysNotViewedStudy", "30", "30"),
    ("PACS/pacsparam/timeout", 20, "20"),
    ("PACS/pacsparam/MaxConnects", "15", "15"),
    ("PACS/cache/imagePath", "/srv/starviewer/cache/", "/srv/starviewer/cache/"),
    ("PACS/cache/imagePath", "%HOMEPATH%/.starviewer/pacs/dicom/", "%HOMEPATH%/.starviewer/pacs/dicom/"),
    ("InstitutionInformation/InstitutionPhoneNumber", 972000000, "972000000"),
    ("MammographyAutoOrientationExceptions", ["BAV", "BAG"], ["BAV", "BAG"]),
    ("Shortcuts/ZoomTool", ["Z"], ["Z"]),
    ("ComparisionModeDivision", "CurrentTopPriorBottom", "CurrentTopPriorBottom"),
    ("Tools/MagnifyingGlassZoomFactor", "1.5", "1.5"),
    ("CheckVersionInterval", 7, 7),
])
def test_coerce_setting_accepts(key, value, expected):
    result = sv.coerce_setting(key, value, f"starviewer_settings[{key!r}]")
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(("key", "value", "message"), [
    ("PACS/cache/deleteOldStudiesHasNotViewedInDays", "yes",
     "starviewer_settings['k']: got 'yes'; allowed: true or false"),
    ("PACS/cache/deleteOldStudiesHasNotViewedInDays", 1, "got 1; allowed: true or false"),
    ("PACS/risRequests/listenPort", True, "got True; allowed: an integer from 0 to 65535"),
    ("PACS/risRequests/listenPort", 65536, "got 65536; allowed: an integer from 0 to 65535"),
    ("PACS/risRequests/listenPort", "11110x", "got '11110x'; allowed: an integer from 0 to 65535"),
    ("PACS/risRequests/listenPort", 1.5, "got 1.5; allowed: an integer from 0 to 65535"),
    ("PACS/cache/minimumSpaceRequiredToRetrieveInGbytes", -1, "allowed: an integer from 0 to 999"),
    ("PACS/pacsparam/timeout", 100, "got 100; allowed: an integer from 0 to 99"),
    ("PACS/pacsparam/MaxConnects", 0, "got 0; allowed: an integer from 1 to 15"),
    ("PACS/cache/imagePath", "/srv/cache", "allowed: a directory path ending with /"),
    ("InstitutionInformation/InstitutionName", True, "got True; allowed: a string"),
    ("InstitutionInformation/InstitutionName", None, "got None; allowed: a string"),
    ("MammographyAutoOrientationExceptions", [], "allowed: a non-empty list of strings"),
    ("MammographyAutoOrientationExceptions", "BAV", "allowed: a non-empty list of strings"),
    ("ComparisionModeDivision", "LeftRight", "allowed: one of CurrentLeftPriorRight, "),
    ("2DViewer/Annotations", [], "list settings such as 2DViewer/Annotations cannot be set"),
    ("PacsList", [], "use starviewer_pacs instead"),
])
def test_coerce_setting_rejects(key, value, message):
    with pytest.raises(sv.StarviewerInputError) as info:
        sv.coerce_setting(key, value, "starviewer_settings['k']")
    assert message in str(info.value)
    assert str(info.value).startswith("starviewer_settings['k']: got ")


def test_coerce_setting_stringlist_item_named():
    with pytest.raises(sv.StarviewerInputError, match=r"^v\[1\]: got 3; allowed: a string$"):
        sv.coerce_setting("MammographyAutoOrientationExceptions", ["BAV", 3], "v")


@pytest.mark.parametrize(("key", "suggestion"), [
    ("PACS/cache/imagepath", "did you mean 'PACS/cache/imagePath'? names are case-sensitive"),
    ("PACS/cache/imgePath", "did you mean 'PACS/cache/imagePath'?"),
    ("PACS/cache/GbytesOfOldStudiesToDeleteIfNotEnoughSpaceAvailable",
     "did you mean 'PACS/cache/GbytesOfOldStudiesToDeleteIfNotEnoughSapaceAvailable'?"),
])
def test_unknown_key_suggests(key, suggestion):
    with pytest.raises(sv.StarviewerInputError) as info:
        sv.coerce_setting(key, "x", f"starviewer_settings[{key!r}]")
    text = str(info.value)
    assert text.startswith(f"starviewer_settings[{key!r}]: got {key!r}; allowed: a Starviewer 2.0 setting key")
    assert suggestion in text


def test_unknown_key_without_suggestion():
    with pytest.raises(sv.StarviewerInputError) as info:
        sv.coerce_setting("Completely/Different", 1, "v")
    assert "did you mean" not in str(info.value)


def test_state_key_is_explained():
    with pytest.raises(sv.StarviewerInputError, match="window state or bookkeeping"):
        sv.coerce_setting("geometry", "x", "v")


# ---------------------------------------------------------------------------------------------------------------
# AE titles
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("title", "problem"), [
    ("", "is empty"),
    ("A" * 17, "is 17 characters long; DICOM allows at most 16"),
    ("   ", "consists only of spaces"),
    (" PACS", "leading or trailing spaces"),
    ("PACS ", "leading or trailing spaces"),
    ("PA\\CS", "contains a backslash"),
    ("PA\tCS", "contains control characters"),
    ("PA\x7fCS", "contains control characters"),
    ("PACSÉ", "contains non-ASCII characters"),
    (17, "is not a string"),
])
def test_ae_title_problems(title, problem):
    assert any(problem in text for text in sv.ae_title_problems(title))


@pytest.mark.parametrize("title", ["A", "A" * 16, "PACS_1", "@.@", "a b", "x,y;z=1", "~!#$%&'()*+-./:",
                                   "<>?[]^`{|}\"@_"])
def test_ae_title_problems_none(title):
    assert sv.ae_title_problems(title) == []


# ---------------------------------------------------------------------------------------------------------------
# Expressions (SettingsParser)
# ---------------------------------------------------------------------------------------------------------------

HOST = "RADWS-0042"
HOME = "/home/jdoe"


@pytest.mark.parametrize(("expr", "ip", "expected"), [
    # Vendor manual section 4.2.1 and Annex A
    ("%IP.3%[2:x]%IP.4%[3:x]", "10.80.9.2", "x9xx2"),
    ("%IP.3%[1:]%IP.4%[3:]", "10.80.9.2", "92"),
    ("WORKSTATION%IP.4%[3:0]", "10.80.9.2", "WORKSTATION002"),
    ("WORKSTATION%IP.4%[3:0]", "10.80.9.198", "WORKSTATION198"),
    ("%HOSTNAME%SV", "10.0.0.1", "RADWS-0042SV"),
    # Truncation keeps the LAST characters (QString::right), unlike the manual's "first n"
    ("%IP.4%[1:]", "10.0.0.198", "8"),
    ("%HOSTNAME%[4:]", None, "0042"),
    ("%HOSTNAME%[4:x]", None, "0042"),
    ("%IP%[5:]", "10.80.9.2", "0.9.2"),
    # Padding is on the left, only with a pad character, up to n
    ("%IP.4%[3:0]", "10.0.0.7", "007"),
    ("%IP.4%[08:0]", "10.0.0.7", "00000007"),
    ("%IP.4%[5:]", "10.0.0.7", "7"),
    ("%IP.4%[3:]]", "10.0.0.7", "]]7"),
    ("%IP.4%[3:%]", "10.0.0.7", "%%7"),
    # n = 0 and n beyond int range give the empty string
    ("A%HOSTNAME%[0:x]B", None, "AB"),
    ("A%HOSTNAME%[0:]B", None, "AB"),
    ("A%HOSTNAME%[99999999999:x]B", None, "AB"),
    ("A%HOSTNAME%[2147483648:]B", None, "AB"),
    # A multi-character or space pad is not a mask: variable replaced, mask text kept
    ("%HOSTNAME%[4:ab]", None, "RADWS-0042[4:ab]"),
    ("%HOSTNAME%[4: ]", None, "RADWS-0042[4: ]"),
    ("%HOSTNAME%[:x]", None, "RADWS-0042[:x]"),
    # Unknown, lower-case and USERNAME stay verbatim
    ("%USERNAME%", "10.0.0.1", "%USERNAME%"),
    ("%hostname%", "10.0.0.1", "%hostname%"),
    ("%FOO%-%IP.4%", "10.0.0.1", "%FOO%-1"),
    # The unescaped "." of IP.n: these match a key that does not exist and become empty
    ("A%IPX1%B", "10.0.0.1", "AB"),
    ("A%IP%1%B", "10.0.0.1", "AB"),
    ("A%IP.5%B", "10.0.0.1", "A%IP.5%B"),
    ("%IP%.1%", "10.0.0.1", "10.0.0.1.1%"),
    # No IPv4 address
    ("%IP%", None, "N/A"),
    ("%IP.4%", None, "[N/A]"),
    ("WS%IP.4%[3:0]", None, "WS/A]"),
    # HOMEPATH and repeated keys
    ("%HOMEPATH%/x", "10.0.0.1", "/home/jdoe/x"),
    ("%IP.1%%IP.1%", "10.0.0.1", "1010"),
    # A replacement can complete a new token (rescan from the start)
    ("%%IPX1%IP%", "10.0.0.1", "10.0.0.1"),
    ("", "10.0.0.1", ""),
    ("%%%%", "10.0.0.1", "%%%%"),
])
def test_ae_title_expr(expr, ip, expected):
    assert sv.ae_title_expr(expr, HOST, ip, HOME) == expected


def test_ae_title_expr_counts_utf16_units():
    # QString::right and padding count UTF-16 code units; an astral pad character is not one \S.
    assert sv.ae_title_expr("%HOMEPATH%[1:]", "h", None, "a\U00012256") == "\ude56"
    assert sv.ae_title_expr("%HOMEPATH%[2:]", "h", None, "a\U00012256") == "\U00012256"
    assert sv.ae_title_expr("%HOMEPATH%[3:]", "h", None, "a\U00012256") == "a\U00012256"
    assert sv.ae_title_expr("%HOSTNAME%[3:\U00012256]", "h", None, "") == "h[3:\U00012256]"
    assert sv.ae_title_expr("%HOSTNAME%[3:\u00e9]", "h", None, "") == "\u00e9\u00e9h"
    assert sv.ae_title_expr("%HOSTNAME%[3:\x1c]", "h", None, "") == "\x1c\x1ch"  # not a space for Qt
    assert sv.ae_title_expr("%HOSTNAME%[3:\xa0]", "h", None, "") == "h[3:\xa0]"  # a space for Qt


def test_ae_title_expr_unicode_digits_in_mask():
    # \d matches any Unicode decimal digit, but toInt() only reads ASCII digits: width 0.
    assert sv.ae_title_expr("A%HOSTNAME%[\u0663:x]B", HOST, None, HOME) == "AB"


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"ip": "10.0.0"}, "ip: got '10.0.0'; allowed: a dotted IPv4 address"),
    ({"ip": "010.0.0.1"}, "ip: got '010.0.0.1'"),
    ({"ip": "fe80::1"}, "ip: got 'fe80::1'"),
    ({"ip": "10.0.0.1\n"}, "ip: got '10.0.0.1\\n'"),
    ({"hostname": None}, "hostname: got None; allowed: a string"),
    ({"homepath": 3}, "homepath: got 3; allowed: a string"),
    ({"expr": None}, "expr: got None; allowed: a string"),
])
def test_ae_title_expr_rejects(kwargs, message):
    args = {"expr": "%IP%", "hostname": HOST, "ip": "10.0.0.1", "homepath": HOME}
    args.update(kwargs)
    with pytest.raises(sv.StarviewerInputError) as info:
        sv.ae_title_expr(**args)
    assert message in str(info.value)


def test_ae_title_expr_never_ending():
    with pytest.raises(sv.StarviewerInputError, match="loop forever"):
        sv.ae_title_expr("%HOMEPATH%", HOST, None, "/home/%HOMEPATH%")


def test_ae_title_expr_huge_padding_refused():
    with pytest.raises(sv.StarviewerInputError, match="mask widths up to"):
        sv.ae_title_expr("%IP.4%[2147483647:0]", HOST, "10.0.0.1", HOME)


def test_expression_variables():
    assert sv.expression_variables("A%HOSTNAME%[3:x]%IP.4%%IPX1%%USERNAME%") == ["HOSTNAME", "IP.4", "IPX1"]


# --- QRegExp oracle: Starviewer's loop rebuilt on PyQt5's QRegExp, compared on generated inputs ----------------

def _qt_parse(expr: str, table: dict[str, str]) -> str | None:
    """SettingsParser::parse with the real QRegExp; None when it would not finish."""
    from PyQt5.QtCore import QLocale, QRegExp

    keys = sorted(table)
    reg = QRegExp("(%" + "%|%".join(keys) + "%)" + r"(\[\d+:\S?\])?")
    mask_reg = QRegExp(r"\[(\d+):(\S)?\]")
    text = expr
    for _n in range(200):
        index = reg.indexIn(text)
        if index == -1:
            return text
        key, mask = reg.cap(1), reg.cap(2)
        value = table.get(key.replace("%", ""), "")
        if mask:
            assert mask_reg.indexIn(mask) != -1
            width, ok = QLocale.c().toInt(mask_reg.cap(1))
            width = width if ok else 0
            value = "" if width == 0 else value[-width:]
            if mask_reg.cap(2):
                value = value.rjust(width, mask_reg.cap(2)[0])
        text = text[:index] + value + text[index + len(key) + len(mask):]
    return None


_PIECES = ["%", "%", "%", "IP", "IP", ".", "1", "4", "5", "X", "[", "]", ":", "3", "0", "x", " ", "\n",
           "HOSTNAME", "HOMEPATH", "USERNAME", "HOST", "\u0663", "\xa0", "\x1c", "\u00e9", "%IP.4%", "%IP%",
           "[2:", "[0:]", ":]", "[12:0]", "%%"]


def _utf16(text: str) -> str:
    data = text.encode("utf-16-le", "surrogatepass")
    return "".join(chr(int.from_bytes(data[i:i + 2], "little")) for i in range(0, len(data), 2))


@pytest.mark.parametrize("ip", ["10.80.9.2", None])
def test_ae_title_expr_matches_qregexp(ip):
    pytest.importorskip("PyQt5.QtCore")
    rng = random.Random(20240227)
    table = {"HOSTNAME": "radws-0042", "HOMEPATH": "/home/jdoe"}
    if ip:
        table.update({"IP": ip, **{f"IP.{n + 1}": part for n, part in enumerate(ip.split("."))}})
    else:
        table.update({"IP": "N/A", "IP.1": "[N/A]", "IP.2": "[N/A]", "IP.3": "[N/A]", "IP.4": "[N/A]"})
    checked = 0
    for _n in range(4000):
        expr = "".join(rng.choice(_PIECES) for _n in range(rng.randint(1, 9)))
        expected = _qt_parse(expr, table)
        if expected is None:
            continue
        assert _utf16(sv.ae_title_expr(expr, table["HOSTNAME"], ip, table["HOMEPATH"])) == expected, expr
        checked += 1
    assert checked > 3000


def test_find_token_matches_qregexp_first_match():
    qtcore = pytest.importorskip("PyQt5.QtCore")
    reg = qtcore.QRegExp("(%" + "%|%".join(sv._PARSER_KEYS) + "%)" + r"(\[\d+:\S?\])?")
    rng = random.Random(7)
    for _n in range(4000):
        text = "".join(rng.choice(_PIECES) for _n in range(rng.randint(1, 8)))
        index = reg.indexIn(text)
        token = sv._find_token(sv._utf16_units(text))
        if index == -1:
            assert token is None, text
        else:
            assert token == (index, len(reg.cap(1)), len(reg.cap(2))), text


def test_qt_space_set_matches_qregexp():
    qtcore = pytest.importorskip("PyQt5.QtCore")
    non_space = qtcore.QRegExp(r"\S")
    spaces = {code for code in range(0x10000) if not 0xD800 <= code <= 0xDFFF and not non_space.exactMatch(chr(code))}
    assert spaces == set(sv._QT_SPACES)


# ---------------------------------------------------------------------------------------------------------------
# PACS list
# ---------------------------------------------------------------------------------------------------------------


def test_normalize_pacs_defaults():
    [dimse, wado] = sv.normalize_pacs([{"ae_title": "PACS1", "hostname": "10.0.0.1", "port": 104},
                                       {"type": "WADO", "base_uri": "https://pacs.example.org/dicom-web/"}])
    assert dimse == {"type": "DIMSE", "ae_title": "PACS1", "hostname": "10.0.0.1", "port": 104,
                     "query_retrieve_enabled": True, "store_enabled": True, "store_port": 104, "base_uri": None,
                     "institution": "", "location": "", "description": "", "query_by_default": False}
    assert wado["ae_title"] is None and wado["port"] is None and wado["store_enabled"] is None
    assert wado["base_uri"] == "https://pacs.example.org/dicom-web/"


def test_normalize_pacs_port_strings_and_store_port():
    [item] = sv.normalize_pacs([{"ae_title": "A", "hostname": "h", "port": "11112", "store_port": "104",
                                 "query_retrieve_enabled": "false"}])
    assert (item["port"], item["store_port"], item["query_retrieve_enabled"]) == (11112, 104, False)


def test_normalize_pacs_null_means_not_given():
    [item] = sv.normalize_pacs([{"type": "WADO", "base_uri": "http://h/", "ae_title": None, "institution": None}])
    assert item["ae_title"] is None and item["institution"] == ""
    [item] = sv.normalize_pacs([{"type": None, "ae_title": "A", "hostname": "h", "port": 104, "store_port": None}])
    assert (item["type"], item["store_port"]) == ("DIMSE", 104)


def test_pacs_array_annex_a_matches_manual_linux_ini():
    pacs = sv.normalize_pacs(ANNEX_A_PACS)
    assert _array_lines(sv.pacs_array(pacs)) == ANNEX_A_LINUX_PACSLIST


def test_pacs_array_types():
    [dimse, wado, hybrid] = sv.pacs_array(sv.normalize_pacs(ANNEX_A_PACS))
    assert set(dimse) == {"ID", "Type", "AETitle", "PacsHostname", "QueryRetrieveServiceEnabled", "PacsPort",
                          "StoreServiceEnabled", "StoreServicePort", "Institution", "Location", "Description"}
    assert set(wado) == {"ID", "Type", "BaseUri", "Institution", "Location", "Description"}
    assert set(hybrid) == set(dimse) | {"BaseUri"}
    assert dimse["ID"] == "0" and hybrid["ID"] == "2"
    # Integers, not booleans (bool is an int subclass) and not numeric strings.
    assert all(isinstance(dimse[key], int) and not isinstance(dimse[key], bool)
               for key in ("PacsPort", "StoreServicePort"))
    assert dimse["QueryRetrieveServiceEnabled"] is True
    assert isinstance(wado["BaseUri"], QtUrl)


def test_manual_base_uri_lengths_are_right():
    # Annex A: \x15 = 21 and \x19 = 25; section 1.4.2.1: \x1b = 27.
    assert [len(u) for u in ("http://10.0.0.2/wado/", "http://10.0.0.3/wado-uri/", "http://example.com/wado-uri")] \
        == [0x15, 0x19, 0x1B]
    assert format_value(QtUrl("http://example.com/wado-uri")) == r"@Variant(\0\0\0\x11\0\0\0\x1bhttp://example.com/wado-uri)"


def test_unicode_descriptive_fields_pass_through():
    names = {"institution": "Hospital Sant Exemple · Girona", "location": "Planta 2 – Radiologia",
             "description": "Servei de Diagnòstic Ç, Hospital de Dia é"}
    pacs = [{"ae_title": "PACS", "hostname": "h", "port": 104, **names}]
    [item] = sv.build_settings({"starviewer_pacs": pacs})["arrays"]["PacsList"]
    assert (item["Institution"], item["Location"], item["Description"]) == tuple(names.values())
    assert all(isinstance(item[field], str) for field in ("Institution", "Location", "Description"))


@pytest.mark.parametrize(("items", "message"), [
    ("nope", "starviewer_pacs: got 'nope'; allowed: a list of PACS dictionaries"),
    ([["PACS"]], "starviewer_pacs[0]: got ['PACS']; allowed: a dictionary"),
    ([{"type": "dimse", "ae_title": "A", "hostname": "h", "port": 1}],
     "starviewer_pacs[0].type: got 'dimse'; allowed: DIMSE, WADO or WADO-URI+DIMSE (exact case"),
    ([{"type": "WADO-URI", "base_uri": "http://h/"}], "starviewer_pacs[0].type: got 'WADO-URI'"),
    ([{"ae_title": "A", "hostname": "h", "port": 1}, {"ae_title": "B", "hostname": "h", "port": 70000}],
     "starviewer_pacs[1].port: got 70000; allowed: an integer from 0 to 65535"),
    ([{"ae_title": "A", "hostname": "h", "port": -1}], "starviewer_pacs[0].port: got -1; allowed: an integer"),
    ([{"ae_title": "A", "hostname": "h", "port": True}], "starviewer_pacs[0].port: got True; allowed: an integer"),
    ([{"ae_title": "A", "hostname": "h", "port": "104a"}], "starviewer_pacs[0].port: got '104a'"),
    ([{"ae_title": "A", "hostname": "h", "port": "104\n"}], "starviewer_pacs[0].port: got '104\\n'"),
    ([{"ae_title": "A", "hostname": "h", "port": 104.0}], "starviewer_pacs[0].port: got 104.0"),
    ([{"ae_title": "A", "hostname": "h", "port": 1, "store_port": 65536}], "starviewer_pacs[0].store_port: got 65536"),
    ([{"hostname": "h", "port": 104}],
     "starviewer_pacs[0].ae_title: got None; allowed: a value: ae_title is required for a DIMSE PACS"),
    ([{"ae_title": "A", "port": 104}], "starviewer_pacs[0].hostname: got None; allowed: a value"),
    ([{"ae_title": "A", "hostname": "h"}], "starviewer_pacs[0].port: got None; allowed: a value"),
    ([{"type": "WADO-URI+DIMSE", "ae_title": "A", "hostname": "h", "port": 1}],
     "starviewer_pacs[0].base_uri: got None; allowed: a URL: base_uri is required for a WADO-URI+DIMSE PACS"),
    ([{"type": "WADO"}], "starviewer_pacs[0].base_uri: got None; allowed: a URL: base_uri is required for a WADO"),
    ([{"type": "WADO", "base_uri": "ftp://h/wado/"}],
     "starviewer_pacs[0].base_uri: got 'ftp://h/wado/'; allowed: an absolute http:// or https:// URL"),
    ([{"type": "WADO", "base_uri": "/wado/"}], "starviewer_pacs[0].base_uri: got '/wado/'"),
    ([{"type": "WADO", "base_uri": "http:///wado/"}], "starviewer_pacs[0].base_uri: got 'http:///wado/'"),
    ([{"type": "WADO", "base_uri": "http://h:99999/"}], "starviewer_pacs[0].base_uri: got 'http://h:99999/'"),
    ([{"type": "WADO", "base_uri": "http://user:secret@h/"}], "without a user name or password"),
    ([{"type": "WADO", "base_uri": 3}], "starviewer_pacs[0].base_uri: got 3"),
    ([{"ae_title": "A" * 17, "hostname": "h", "port": 1}],
     "starviewer_pacs[0].ae_title: got 'AAAAAAAAAAAAAAAAA'; allowed: 1 to 16 printable ASCII characters without "
     "backslash (this one is 17 characters long; DICOM allows at most 16)"),
    ([{"ae_title": "PA\\CS", "hostname": "h", "port": 1}], "contains a backslash"),
    ([{"ae_title": "PA\nCS", "hostname": "h", "port": 1}], "contains control characters"),
    ([{"ae_title": "", "hostname": "h", "port": 1}], "starviewer_pacs[0].ae_title: got ''; allowed: 1 to 16"),
    ([{"ae_title": "PACSÉ", "hostname": "h", "port": 1}], "contains non-ASCII characters"),
    ([{"ae_title": "A", "hostname": "pacs host", "port": 1}], "starviewer_pacs[0].hostname: got 'pacs host'"),
    ([{"ae_title": "A", "hostname": "", "port": 1}], "starviewer_pacs[0].hostname: got ''"),
    ([{"type": "WADO", "base_uri": "http://h/", "ae_title": "A"}],
     "starviewer_pacs[0].ae_title: got 'A'; allowed: no ae_title on a WADO PACS (Starviewer ignores it; remove it)"),
    ([{"type": "WADO", "base_uri": "http://h/", "store_port": 104}], "no store_port on a WADO PACS"),
    ([{"ae_title": "A", "hostname": "h", "port": 1, "base_uri": "http://h/"}], "no base_uri on a DIMSE PACS"),
    ([{"ae_title": "A", "hostname": "h", "port": 1, "aetitle": "B"}],
     "starviewer_pacs[0].aetitle: got 'B'; allowed: one of the fields"),
    ([{"ae_title": "A", "hostname": "h", "port": 1, "descripton": "B"}], "(did you mean 'description'?)"),
    ([{"ae_title": "A", "hostname": "h", "port": 1, "query_by_default": "yes"}],
     "starviewer_pacs[0].query_by_default: got 'yes'; allowed: true or false"),
    ([{"ae_title": "A", "hostname": "h", "port": 1, "query_retrieve_enabled": False, "store_enabled": False}],
     "starviewer_pacs[0].store_enabled: got False; allowed: true when query_retrieve_enabled is false"),
    ([{"ae_title": "A", "hostname": "h", "port": 1, "description": ["x"]}],
     "starviewer_pacs[0].description: got ['x']; allowed: a string"),
])
def test_normalize_pacs_rejects(items, message):
    with pytest.raises(sv.StarviewerInputError) as info:
        sv.normalize_pacs(items)
    assert message in str(info.value)


@pytest.mark.parametrize(("items", "message"), [
    ([{"ae_title": "A", "hostname": "h", "port": 104, "description": "one"},
      {"ae_title": "A", "hostname": "h", "port": 104, "store_port": 11112, "description": "two"}],
     "starviewer_pacs[1]: got 'Ah:104'; allowed: a PACS different from starviewer_pacs[0]: same type and AE title, "
     "host and port"),
    ([{"type": "WADO", "base_uri": "http://h/wado/"}, {"ae_title": "A", "hostname": "h", "port": 1},
      {"type": "WADO", "base_uri": "HTTP://H/wado/", "description": "same after Qt normalisation"}],
     "starviewer_pacs[2]: got 'http://h/wado/'; allowed: a PACS different from starviewer_pacs[0]: same type and base"),
    ([{"type": "WADO-URI+DIMSE", "base_uri": "http://h/", "ae_title": "A", "hostname": "h", "port": 1},
      {"type": "WADO-URI+DIMSE", "base_uri": "http://h/", "ae_title": "A", "hostname": "h", "port": 1}],
     "different from starviewer_pacs[0]: same type and AE title, host, port and base URI"),
])
def test_normalize_pacs_duplicates(items, message):
    with pytest.raises(sv.StarviewerInputError) as info:
        sv.normalize_pacs(items)
    assert message in str(info.value)


@pytest.mark.parametrize("items", [
    # Not duplicates for Starviewer: another field of the identity differs, or the type differs.
    [{"ae_title": "A", "hostname": "h", "port": 104}, {"ae_title": "A", "hostname": "h", "port": 105}],
    [{"ae_title": "A", "hostname": "h", "port": 104}, {"ae_title": "a", "hostname": "h", "port": 104}],
    [{"ae_title": "A", "hostname": "h", "port": 104},
     {"type": "WADO-URI+DIMSE", "base_uri": "http://h/", "ae_title": "A", "hostname": "h", "port": 104}],
    [{"type": "WADO-URI+DIMSE", "base_uri": "http://h/a/", "ae_title": "A", "hostname": "h", "port": 104},
     {"type": "WADO-URI+DIMSE", "base_uri": "http://h/b/", "ae_title": "A", "hostname": "h", "port": 104}],
])
def test_normalize_pacs_not_duplicates(items):
    assert len(sv.normalize_pacs(items)) == 2


# ---------------------------------------------------------------------------------------------------------------
# defaultPACSListToQuery2
# ---------------------------------------------------------------------------------------------------------------


def test_pacs_key():
    dimse, wado, hybrid = sv.normalize_pacs(MANUAL_DEFAULT_PACS)
    assert sv.pacs_key(dimse) == "PACS1.2.3.4:1234"
    assert sv.pacs_key(wado) == "http://example.com/wado/"
    assert sv.pacs_key(hybrid) == "http://example.com/wado-uri\U00012256PACS110.0.0.1:11112"


def test_pacs_key_uses_to_string_not_to_encoded():
    qtcore = pytest.importorskip("PyQt5.QtCore")
    uri = "HTTP://PACS.Example.org/wädo/a b/"
    [wado] = sv.normalize_pacs([{"type": "WADO", "base_uri": uri}])
    assert sv.pacs_key(wado) == qtcore.QUrl(uri).toString()
    assert sv.pacs_key(wado).startswith("http://pacs.example.org/wädo/")


def test_default_pacs_list_manual_example():
    raw = sv.default_pacs_list(sv.normalize_pacs(MANUAL_DEFAULT_PACS))
    assert raw == ("PACS1.2.3.4:1234\\\\http://example.com/wado/\\\\"
                   "http://example.com/wado-uri\U00012256PACS110.0.0.1:11112\\\\")
    assert format_value(raw) == MANUAL_DEFAULT_PACS_INI


def test_default_pacs_list_order_duplicates_and_empty():
    pacs = sv.normalize_pacs([
        {"ae_title": "B", "hostname": "h", "port": 104, "query_by_default": True},
        {"ae_title": "A", "hostname": "h", "port": 104},
        {"ae_title": "A", "hostname": "h", "port": 105, "query_by_default": True},
    ])
    assert sv.default_pacs_list(pacs) == "Bh:104\\\\Ah:105\\\\"
    assert sv.default_pacs_list(pacs[1:2]) == ""
    assert sv.default_pacs_list([]) == ""
    # Same key twice (only reachable with hand-built items): written once
    twice = [dict(pacs[0]), dict(pacs[0])]
    assert sv.default_pacs_list(twice) == "Bh:104\\\\"


# ---------------------------------------------------------------------------------------------------------------
# External applications
# ---------------------------------------------------------------------------------------------------------------


def test_external_applications_manual_example():
    items = [{"name": "App 1", "type": "url", "url": "http://www.starviewer.org"},
             {"name": "App 2", "type": "cmd", "url": 'echo "Starviewer Medical {%AccessionNumber%}"'}]
    result = sv.normalize_external_applications(items)
    assert result == items
    assert _array_lines(result) == [
        "1\\name=App 1", "1\\type=url", "1\\url=http://www.starviewer.org",
        "2\\name=App 2", "2\\type=cmd", '2\\url=echo \\"Starviewer Medical {%AccessionNumber%}\\"', "size=2"]


@pytest.mark.parametrize(("items", "message"), [
    ({"name": "x"}, "starviewer_external_applications: got {'name': 'x'}; allowed: a list"),
    ([{"name": "A", "type": "URL", "url": "http://h/"}],
     "starviewer_external_applications[0].type: got 'URL'; allowed: url or cmd (exact, lower case)"),
    ([{"name": "A", "url": "http://h/"}], "starviewer_external_applications[0].type: got None; allowed: a value"),
    ([{"name": "A", "type": "url", "url": "http://h/", "icon": "x"}],
     "starviewer_external_applications[0].icon: got 'x'; allowed: name, type or url"),
    ([{"name": "", "type": "url", "url": "http://h/"}], "starviewer_external_applications[0].name: got ''"),
    ([{"name": "A", "type": "cmd", "url": " "}], "starviewer_external_applications[0].url: got ' '"),
])
def test_external_applications_rejects(items, message):
    with pytest.raises(sv.StarviewerInputError) as info:
        sv.normalize_external_applications(items)
    assert message in str(info.value)


# ---------------------------------------------------------------------------------------------------------------
# Local AE title (raw expression) validation through build_settings
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("title", ["WORKSTATION%IP.4%[3:0]", "%HOSTNAME%", "%HOSTNAME%SV", "SV%IP.3%[2:x]%IP.4%[3:x]",
                                   "PCHOSPITAL198", "%HOSTNAME%[16:]", "@.@", "A" * 16, "A" * 13 + "%IP.4%[3:0]"])
def test_local_ae_title_accepted_and_written_raw(title):
    assert build({"starviewer_local_ae_title": title})["set"] == {"PACS/pacsparam/AETitle": title}


@pytest.mark.parametrize(("title", "message"), [
    ("%USERNAME%", "Starviewer 2.0 never expands %USERNAME%"),
    ("WS-%USERNAME%", "Starviewer 2.0 never expands %USERNAME%"),
    ("%hostname%", "variable names are case-sensitive: write %HOSTNAME%"),
    ("WS%ip.4%[3:0]", "variable names are case-sensitive: write %IP.4%"),
    ("%IP.4%-%hostname%", "got '%IP.4%-%hostname%'; allowed: an AE title"),
    ("%FOO%", "%FOO% is not a Starviewer variable"),
    ("%IPX1%", "'%IPX1%' is read as a variable that does not exist"),
    ("%IP%1%", "'%IP%1%' is read as a variable that does not exist"),
    ("%HOSTNAME%[4:ab]", "the mask after %HOSTNAME% is not recognised"),
    ("%HOSTNAME%[4: ]", "the mask after %HOSTNAME% is not recognised"),
    ("WS\\%IP.4%", "the fixed text contains '\\\\'"),
    ("WSÉ%IP.4%", "the fixed text contains 'É'"),
    ("%IP.4%[3:É]", "padding character 'É' is not allowed"),
    ("WORKSTATION-LONG%IP.4%[3:0]", "expands to at least 19 characters"),
    ("A" * 17, "this one is 17 characters long"),
    ("", "this one is empty"),
    (" WS", "leading or trailing spaces"),
    ("WS\t1", "contains control characters"),
    (42, "starviewer_local_ae_title: got 42; allowed: an AE title"),
])
def test_local_ae_title_rejected(title, message):
    with pytest.raises(sv.StarviewerInputError) as info:
        build({"starviewer_local_ae_title": title})
    assert str(info.value).startswith("starviewer_local_ae_title: got ")
    assert message in str(info.value)


# ---------------------------------------------------------------------------------------------------------------
# build_settings
# ---------------------------------------------------------------------------------------------------------------


def build(config):
    return sv.build_settings(config)


def test_build_settings_nothing_managed():
    assert build({}) == {"set": {}, "remove": [], "arrays": {}}
    assert build({"starviewer_pacs": None, "starviewer_settings": None}) == {"set": {}, "remove": [], "arrays": {}}


def test_build_settings_annex_a_reproduces_manual_linux_ini():
    result = build({"starviewer_pacs": ANNEX_A_PACS, "starviewer_local_port": 4007,
                    "starviewer_local_ae_title": "WORKSTATION%IP.4%[3:0]"})
    assert _array_lines(result["arrays"]["PacsList"]) == ANNEX_A_LINUX_PACSLIST
    # [PACS] section lines as Qt would write them for the keys we set
    lines = {key: "{}={}".format(key.split("/", 1)[1].replace("/", "\\"), format_value(value))
             for key, value in result["set"].items()}
    assert lines["PACS/pacsparam/localPort"] == "pacsparam\\localPort=4007"
    assert lines["PACS/pacsparam/AETitle"] == "pacsparam\\AETitle=WORKSTATION%IP.4%[3:0]"
    assert result["set"]["PACS/pacsparam/localPort"] == "4007"  # a string, as the GUI writes it
    assert result["set"]["PACS/defaultPACSListToQuery2"] == ""
    assert result["set"]["PACS/defaultPACSListToQuery"] == ""


def test_build_settings_pacs_defaults_and_old_key_cleared():
    result = build({"starviewer_pacs": MANUAL_DEFAULT_PACS})
    assert format_value(result["set"]["PACS/defaultPACSListToQuery2"]) == MANUAL_DEFAULT_PACS_INI
    assert result["set"]["PACS/defaultPACSListToQuery"] == ""
    assert result["remove"] == []


def test_build_settings_empty_pacs_list_is_managed():
    result = build({"starviewer_pacs": []})
    assert result["arrays"] == {"PacsList": []}
    assert result["set"] == {"PACS/defaultPACSListToQuery2": "", "PACS/defaultPACSListToQuery": ""}


def test_build_settings_everything():
    result = build({
        "starviewer_external_applications": [{"name": "Informe", "type": "url", "url": "https://ris.example.org/"}],
        "starviewer_settings": {"PACS/pacsparam/timeout": 20, "PACS/risRequests/listen": False,
                                "InstitutionInformation/InstitutionName": "Hospital Sant Exemple"},
        "starviewer_settings_remove": ["PACS/cache/imagePath", "geometry", "PACS/cache/imagePath", "PacsList"],
    })
    assert result["set"] == {"PACS/pacsparam/timeout": "20", "PACS/risRequests/listen": False,
                             "InstitutionInformation/InstitutionName": "Hospital Sant Exemple"}
    assert result["remove"] == ["PACS/cache/imagePath", "geometry", "PacsList"]
    assert result["arrays"] == {"ExternalApplications": [{"name": "Informe", "type": "url",
                                                          "url": "https://ris.example.org/"}]}


@pytest.mark.parametrize(("config", "message"), [
    ("x", "config: got 'x'; allowed: a dictionary"),
    ({"starviewer_pac": []}, "starviewer_pac: got []; allowed: one of the variables"),
    ({"starviewer_pac": []}, "(did you mean 'starviewer_pacs'?)"),
    ({"starviewer_local_port": 70000}, "starviewer_local_port: got 70000; allowed: an integer from 0 to 65535"),
    ({"starviewer_local_port": False}, "starviewer_local_port: got False"),
    ({"starviewer_settings": ["a"]}, "starviewer_settings: got ['a']; allowed: a dictionary"),
    ({"starviewer_settings": {"PACS/cache/foo": 1}},
     "starviewer_settings['PACS/cache/foo']: got 'PACS/cache/foo'; allowed: a Starviewer 2.0 setting key"),
    ({"starviewer_settings": {"PACS/pacsparam/AETitle": "X"}},
     "starviewer_settings['PACS/pacsparam/AETitle']: got 'X'; allowed: a key not managed elsewhere; use "
     "starviewer_local_ae_title instead"),
    ({"starviewer_settings": {"PACS/pacsparam/localPort": 4006}}, "use starviewer_local_port instead"),
    ({"starviewer_settings": {"PACS/defaultPACSListToQuery2": ""}}, "use starviewer_pacs (query_by_default"),
    ({"starviewer_settings": {"PACS/defaultPACSListToQuery": ""}}, "use starviewer_pacs (it is always cleared"),
    ({"starviewer_settings": {"PacsList": []}}, "use starviewer_pacs instead"),
    ({"starviewer_settings": {"ExternalApplications": []}}, "use starviewer_external_applications instead"),
    ({"starviewer_settings": {"PACS/risRequests/listen": "on"}},
     "starviewer_settings['PACS/risRequests/listen']: got 'on'; allowed: true or false"),
    ({"starviewer_settings_remove": "PACS/cache/imagePath"}, "starviewer_settings_remove: got 'PACS/cache/imagePath'"),
    ({"starviewer_settings_remove": ["PACS/cache/imagepath"]},
     "starviewer_settings_remove[0]: got 'PACS/cache/imagepath'; allowed: a Starviewer 2.0 setting key"),
    ({"starviewer_settings": {"PACS/cache/imagePath": "/c/"}, "starviewer_settings_remove": ["PACS/cache/imagePath"]},
     "starviewer_settings_remove[0]: got 'PACS/cache/imagePath'; allowed: a key that is not also set (it is set by "
     "starviewer_settings)"),
    ({"starviewer_pacs": [], "starviewer_settings_remove": ["PacsList"]}, "it is set by starviewer_pacs"),
    ({"starviewer_pacs": [{"type": "DICOM"}]}, "starviewer_pacs[0].type: got 'DICOM'"),
    ({"starviewer_external_applications": [{"name": "A", "type": "exe", "url": "x"}]},
     "starviewer_external_applications[0].type: got 'exe'"),
])
def test_build_settings_rejects(config, message):
    with pytest.raises(sv.StarviewerInputError) as info:
        build(config)
    assert message in str(info.value)


# ---------------------------------------------------------------------------------------------------------------
# settingsAccessLevel.ini
# ---------------------------------------------------------------------------------------------------------------

MANUAL_ACCESS_KEYS = [
    "PacsList",
    "PACS/cache/deleteOldStudiesHasNotViewedInDays", "PACS/cache/deleteOldStudiesIfNotEnoughSpaceAvailable",
    "PACS/pacsparam/AETitle", "PACS/pacsparam/localPort", "PACS/pacsparam/timeout", "PACS/pacsparam/MaxConnects",
    "PACS/risRequests/listen", "PACS/risRequests/listenPort",
    "PACS/risRequests/viewAutomaticallyAStudyRetrievedFromRisRequest",
]


def test_access_level_ini_manual_example():
    assert sv.access_level_ini(MANUAL_ACCESS_KEYS) == (
        "[General]\n"
        "PacsList=system\n"
        "settingsAccessLevelVersion=1.0\n"
        "\n"
        "[PACS]\n"
        "cache\\deleteOldStudiesHasNotViewedInDays=system\n"
        "cache\\deleteOldStudiesIfNotEnoughSpaceAvailable=system\n"
        "pacsparam\\AETitle=system\n"
        "pacsparam\\MaxConnects=system\n"
        "pacsparam\\localPort=system\n"
        "pacsparam\\timeout=system\n"
        "risRequests\\listen=system\n"
        "risRequests\\listenPort=system\n"
        "risRequests\\viewAutomaticallyAStudyRetrievedFromRisRequest=system\n"
    )


def test_access_level_ini_only_version():
    assert sv.access_level_ini([]) == "[General]\nsettingsAccessLevelVersion=1.0\n"


def test_access_level_ini_dict_keeps_system_only():
    text = sv.access_level_ini({"PacsList": "system", "PACS/pacsparam/AETitle": "user"})
    assert text == "[General]\nPacsList=system\nsettingsAccessLevelVersion=1.0\n"


def _qt_ini_text(tmp_path, entries: dict) -> str:
    qtcore = pytest.importorskip("PyQt5.QtCore")
    path = tmp_path / "settingsAccessLevel.ini"
    settings = qtcore.QSettings(str(path), qtcore.QSettings.IniFormat)
    for key, value in entries.items():
        settings.setValue(key, value)
    settings.sync()
    assert settings.status() == qtcore.QSettings.NoError
    return path.read_bytes().decode("ascii")


@pytest.mark.parametrize("keys", [
    MANUAL_ACCESS_KEYS,
    ["Hanging-Protocols/path", "2DViewer/Annotations", "2DViewer/Measurement/SUVMeasurementNormalizationType",
     "Shortcuts/ZoomTool", "ExternalApplications", "ComparisionModeDivision", "PACS/cache/imagePath",
     "PACS/defaultPACSListToQuery2", "Starviewer-App-ImportFile/workingDirectory", "scaleFactor",
     "DICOMDIR/DICOMDIRBurningApplication", "InstitutionInformation/InstitutionName"],
    sorted(sv.SETTINGS),
])
def test_access_level_ini_matches_qt(tmp_path, keys):
    expected = _qt_ini_text(tmp_path, {"settingsAccessLevelVersion": "1.0", **dict.fromkeys(keys, "system")})
    assert sv.access_level_ini(keys) == expected


def test_access_level_ini_is_read_back_by_qt(tmp_path):
    qtcore = pytest.importorskip("PyQt5.QtCore")
    path = tmp_path / "settingsAccessLevel.ini"
    path.write_text(sv.access_level_ini(MANUAL_ACCESS_KEYS), encoding="ascii")
    settings = qtcore.QSettings(str(path), qtcore.QSettings.IniFormat)
    assert settings.value("settingsAccessLevelVersion") == "1.0"
    assert sorted(settings.allKeys()) == sorted(MANUAL_ACCESS_KEYS + ["settingsAccessLevelVersion"])
    assert {settings.value(key) for key in MANUAL_ACCESS_KEYS} == {"system"}


@pytest.mark.parametrize(("keys", "message"), [
    ("PacsList", "starviewer_system_settings: got 'PacsList'; allowed: a list of setting keys"),
    (["PacsList", "PACS/pacsparam/AeTitle"],
     "starviewer_system_settings[1]: got 'PACS/pacsparam/AeTitle'; allowed: a Starviewer 2.0 setting key"),
    (["PACS/pacsparam/AeTitle"], "did you mean 'PACS/pacsparam/AETitle'? names are case-sensitive"),
    (["PacList"], "did you mean 'PacsList'?"),
    (["geometry"], "window state or bookkeeping"),
    ({"PacsList": "System"}, "starviewer_system_settings['PacsList']: got 'System'; allowed: system or user"),
])
def test_access_level_ini_rejects(keys, message):
    with pytest.raises(sv.StarviewerInputError) as info:
        sv.access_level_ini(keys)
    assert message in str(info.value)
