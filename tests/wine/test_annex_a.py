"""The admin manual's Annex A (three PACS, local port 4007): our .reg holds the same values, types and bytes."""

from __future__ import annotations

import re

import pytest
import yaml
from helpers import ROOT

from ansible_collections.medimaging.starviewer.plugins.action.starviewer_export import REG_FILE, export_files
from ansible_collections.medimaging.starviewer.plugins.module_utils.qt_registry import (
    REG_BINARY,
    REG_DWORD,
    REG_SZ,
    reg_state,
)
from ansible_collections.medimaging.starviewer.plugins.module_utils.settings_args import encode_values
from ansible_collections.medimaging.starviewer.plugins.module_utils.starviewer import build_settings

FIXTURES = ROOT / "tests" / "fixtures" / "windows"
MANUAL = ROOT.parent / "shared" / "reference" / "000_d86d0acafa9977cb.txt"
HKLM_KEY = "HKEY_LOCAL_MACHINE\\SOFTWARE\\GILab\\Starviewer"
HKCU_KEY = "HKEY_CURRENT_USER\\Software\\GILab\\Starviewer"


def _manual_reg() -> bytes:
    text = (FIXTURES / "annex-a.src.txt").read_text(encoding="utf-8")
    return b"\xff\xfe" + text.replace("\n", "\r\n").encode("utf-16-le")


def _our_reg() -> bytes:
    settings = build_settings(yaml.safe_load((FIXTURES / "annex-a.yml").read_text()))
    encoded = {"set": encode_values(settings["set"]), "remove": settings["remove"],
               "arrays": {k: [encode_values(i) for i in v] for k, v in settings["arrays"].items()}}
    return export_files(encoded, None, "HKLM\\SOFTWARE\\GILab\\Starviewer")[REG_FILE]


def test_fixture_is_the_manuals_text():
    if not MANUAL.exists():
        pytest.skip("the reference manual is not beside the repository")
    manual = MANUAL.read_text(encoding="utf-8")
    start = manual.index("A. Annex A: Example of PACS list configuration")
    block = manual[manual.index("Windows", start) + len("Windows"):manual.index("Linux", start)]
    fixture = (FIXTURES / "annex-a.src.txt").read_text(encoding="utf-8")
    assert fixture.split("\n", 2)[2].strip() == "\n".join(line.rstrip() for line in block.strip("\n").split("\n"))


def test_base_uri_bytes_are_the_manuals():
    ours = _our_reg()[2:].decode("utf-16-le")
    manual = _manual_reg()[2:].decode("utf-16-le")
    blocks = re.compile(r'"BaseUri"=hex:(?:[^\r]*\\\r\n)*[^\r]*\r\n')
    assert blocks.findall(ours) == blocks.findall(manual)
    assert len(blocks.findall(ours)) == 2


def test_values_and_types_match_the_manual(wine):
    assert wine.reg_import(_manual_reg()).returncode == 0
    manual = reg_state(wine.reg_export(HKLM_KEY), HKLM_KEY)
    manual_user = reg_state(wine.reg_export(HKCU_KEY), HKCU_KEY)
    wine.reg_import(("\ufeffWindows Registry Editor Version 5.00\r\n\r\n[-%s]\r\n\r\n" % HKLM_KEY)
                    .encode("utf-16-le"))
    assert wine.reg_export(HKLM_KEY) is None
    assert wine.reg_import(_our_reg()).returncode == 0
    ours = reg_state(wine.reg_export(HKLM_KEY), HKLM_KEY)

    array = {key: values for key, values in ours.items() if key.startswith("PacsList")}
    assert array == {key: values for key, values in manual.items() if key.startswith("PacsList")}
    assert array["PacsList"]["size"] == (REG_DWORD, 3)
    assert array["PacsList\\1"]["PacsPort"] == (REG_DWORD, 11112)
    assert array["PacsList\\1"]["QueryRetrieveServiceEnabled"] == (REG_SZ, "true")
    assert array["PacsList\\2"]["BaseUri"].kind == REG_BINARY
    # The manual puts the local port in the user's hive; the roles write it at system level, same type and text.
    assert ours["PACS\\pacsparam"]["localPort"] == manual_user["PACS\\pacsparam"]["localPort"] == (REG_SZ, "4007")
