# Copyright: contributors to medimaging.starviewer
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests for the default_pacs_list filter."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.medimaging.starviewer.plugins.filter.default_pacs_list import FilterModule, default_pacs_list

DIMSE = {"ae_title": "PACS", "hostname": "1.2.3.4", "port": 1234, "query_by_default": True}
WADO = {"type": "WADO", "base_uri": "http://example.com/wado/", "query_by_default": True}
HYBRID = {"type": "WADO-URI+DIMSE", "base_uri": "http://example.com/wado-uri", "ae_title": "PACS1",
          "hostname": "10.0.0.1", "port": 11112, "query_by_default": True}


@pytest.mark.parametrize(("pacs", "expected"), [
    # Vendor manual, section 1.4.2.2 (the manual shows it INI/.reg-escaped: four backslashes per separator)
    ([DIMSE, WADO, HYBRID],
     "PACS1.2.3.4:1234\\\\http://example.com/wado/\\\\http://example.com/wado-uri\U00012256PACS110.0.0.1:11112\\\\"),
    ([HYBRID, DIMSE], "http://example.com/wado-uri\U00012256PACS110.0.0.1:11112\\\\PACS1.2.3.4:1234\\\\"),
    ([dict(DIMSE, query_by_default=False), WADO], "http://example.com/wado/\\\\"),
    ([dict(DIMSE, query_by_default=False)], ""),
    ([], ""),
    ([{"ae_title": "PACS", "hostname": "1.2.3.4", "port": "104", "query_by_default": "true"}], "PACS1.2.3.4:104\\\\"),
    ([{"type": "WADO", "base_uri": "HTTPS://PACS.Example.org/rs", "query_by_default": True}],
     "https://pacs.example.org/rs\\\\"),
])
def test_default_pacs_list(pacs, expected):
    assert default_pacs_list(pacs) == expected


def test_manual_ini_text():
    from ansible_collections.medimaging.starviewer.plugins.module_utils.qt_ini import format_value

    assert format_value(default_pacs_list([DIMSE, WADO, HYBRID])) == (
        r"PACS1.2.3.4:1234\\\\http://example.com/wado/\\\\http://example.com/wado-uri\xd808\xde56PACS110.0.0.1:11112\\\\")


@pytest.mark.parametrize(("pacs", "message"), [
    ("PACS", "default_pacs_list: starviewer_pacs: got 'PACS'; allowed: a list of PACS dictionaries"),
    ([dict(DIMSE, port=70000)], "default_pacs_list: starviewer_pacs[0].port: got 70000; allowed: an integer from 0"),
    ([DIMSE, DIMSE], "starviewer_pacs[1]: got 'PACS1.2.3.4:1234'; allowed: a PACS different from starviewer_pacs[0]"),
    ([{"type": "WADO"}], "starviewer_pacs[0].base_uri: got None"),
])
def test_errors(pacs, message):
    with pytest.raises(AnsibleFilterError) as info:
        default_pacs_list(pacs)
    assert message in str(info.value)


def test_filter_module():
    assert FilterModule().filters() == {"default_pacs_list": default_pacs_list}
