# Copyright: contributors to medimaging.starviewer
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests for the qvariant_url filter."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.medimaging.starviewer.plugins.filter.qvariant_url import FilterModule, qvariant_url

# .reg data exactly as printed in the vendor manual (Annex A PACS 2 and 3, section 1.4.2.1), continuations joined.
MANUAL_REG = {
    "http://10.0.0.2/wado/": (
        "hex:40,00,56,00,61,00,72,00,69,00,61,00,6e,00,74,00,28,00,00,00,00,\\\n"
        "  00,00,00,11,00,00,00,00,00,00,00,15,00,68,00,74,00,74,00,70,00,3a,00,2f,00,\\\n"
        "  2f,00,31,00,30,00,2e,00,30,00,2e,00,30,00,2e,00,32,00,2f,00,77,00,61,00,64,\\\n"
        "  00,6f,00,2f,00,29,00"),
    "http://10.0.0.3/wado-uri/": (
        "hex:40,00,56,00,61,00,72,00,69,00,61,00,6e,00,74,00,28,00,00,00,00,\\\n"
        "  00,00,00,11,00,00,00,00,00,00,00,19,00,68,00,74,00,74,00,70,00,3a,00,2f,00,\\\n"
        "  2f,00,31,00,30,00,2e,00,30,00,2e,00,30,00,2e,00,33,00,2f,00,77,00,61,00,64,\\\n"
        "  00,6f,00,2d,00,75,00,72,00,69,00,2f,00,29,00"),
    "http://example.com/wado-uri": (
        "hex:40,00,56,00,61,00,72,00,69,00,61,00,6e,00,74,00,28,00,00,00,00,\\\n"
        "  00,00,00,11,00,00,00,00,00,00,00,1b,00,68,00,74,00,74,00,70,00,3a,00,2f,00,\\\n"
        "  2f,00,65,00,78,00,61,00,6d,00,70,00,6c,00,65,00,2e,00,63,00,6f,00,6d,00,2f,\\\n"
        "  00,77,00,61,00,64,00,6f,00,2d,00,75,00,72,00,69,00,29,00"),
}


def _joined(reg: str) -> str:
    return reg.replace("\\\n  ", "")


@pytest.mark.parametrize("url", sorted(MANUAL_REG))
def test_reg_matches_manual(url):
    assert qvariant_url(url, format="reg") == _joined(MANUAL_REG[url])


@pytest.mark.parametrize(("url", "expected"), [
    ("http://10.0.0.2/wado/", r"@Variant(\0\0\0\x11\0\0\0\x15http://10.0.0.2/wado/)"),
    ("http://10.0.0.3/wado-uri/", r"@Variant(\0\0\0\x11\0\0\0\x19http://10.0.0.3/wado-uri/)"),
    ("http://example.com/wado-uri", r"@Variant(\0\0\0\x11\0\0\0\x1bhttp://example.com/wado-uri)"),
])
def test_ini_matches_manual(url, expected):
    assert qvariant_url(url) == expected
    assert qvariant_url(url, format="ini") == expected


def _qt_ini_value(tmp_path, url: str) -> str:
    qtcore = pytest.importorskip("PyQt5.QtCore")
    path = tmp_path / "q.conf"
    settings = qtcore.QSettings(str(path), qtcore.QSettings.IniFormat)
    settings.setValue("u", qtcore.QUrl(url))
    settings.sync()
    line = [item for item in path.read_bytes().decode("latin-1").splitlines() if item.startswith("u=")][0]
    return line[2:]


@pytest.mark.parametrize("url", [
    "http://10.0.0.2/wado/",
    "https://pacs.example.org/dicom-web/",  # length 35 = '#'
    "https://pacs.example.org/dcm4chee-arc/aets/DCM4CHEE/rs",  # 54
    "https://pacs.example.org/dcm4chee-arc/aets/DCM4CHE/wado/",  # 56 = '8', a hex digit after \0
    "http://pacs.example.org/dcm4chee-arc/aets/DCM4CHEE/rs/x",  # 44 = ',' -> quoted
    "http://pacs.example.org/dcm4chee-arc/aets/DCM4CHEE/rs/studies/wado/x",  # 59 = ';' -> quoted
    "http://pacs.example.org/dcm4chee-arc/aets/DCM4CHEE/rs/studies/wado/xyz",  # 61 = '=' -> quoted
    "http://h.example.org/a b/é/",
    "HTTP://PACS.EXAMPLE.ORG/Wado/",
])
def test_ini_matches_qt(tmp_path, url):
    assert qvariant_url(url) == _qt_ini_value(tmp_path, url)


def test_reg_is_one_line_utf16le_of_every_character():
    reg = qvariant_url("http://h/", format="reg")
    assert "\n" not in reg and "\\" not in reg and not reg.endswith(",")
    data = bytes(int(pair, 16) for pair in reg[len("hex:"):].split(","))
    assert data.decode("utf-16-le") == "@Variant(\0\0\0\x11\0\0\0\x09http://h/)"


@pytest.mark.parametrize(("args", "kwargs", "message"), [
    ((None,), {}, "qvariant_url: got None of type NoneType; allowed: a URL string"),
    ((["http://h/"],), {}, "of type list"),
    (("http://h/",), {"format": "REG"}, "qvariant_url: format: got 'REG'; allowed: ini or reg"),
    (("http://h:99999/",), {}, "qvariant_url: "),
])
def test_errors(args, kwargs, message):
    with pytest.raises(AnsibleFilterError) as info:
        qvariant_url(*args, **kwargs)
    assert message in str(info.value)


def test_format_is_keyword_only():
    with pytest.raises(TypeError):
        qvariant_url("http://h/", "reg")  # pylint: disable=too-many-function-args


def test_filter_module():
    assert FilterModule().filters() == {"qvariant_url": qvariant_url}
