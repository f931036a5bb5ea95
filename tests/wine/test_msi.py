"""The install role's msiexec command lines, run under wine on a stand-in MSI built with wixl.

The command lines come from the role's own variables (roles/install/vars/main.yml), rendered by ansible-playbook;
the detection is the starviewer_msi_info action plugin reading wine's registry (its PowerShell read module replaced
by ``wine reg export``: a mock, as there is no Windows host here).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from fake_windows import READ, WineRegistry, make_action
from helpers import ROOT, ansible_playbook

from ansible_collections.medimaging.starviewer.plugins.action.starviewer_installer import msi_info
from ansible_collections.medimaging.starviewer.plugins.action.starviewer_msi_info import ActionModule as MsiInfo
from ansible_collections.medimaging.starviewer.plugins.action.starviewer_registry import ActionModule as RegistryAction
from ansible_collections.medimaging.starviewer.plugins.module_utils.msi import (
    STARVIEWER_UPGRADE_CODE,
    installed_products,
    pack_guid,
)
from ansible_collections.medimaging.starviewer.plugins.module_utils.qt_registry import reg_state, subtree

FIXTURES = ROOT / "tests" / "fixtures" / "windows"
CACHE = "C:\\ProgramData\\medimaging.starviewer\\installers"
PRODUCTS = {"2.0.0": "{5B7E0C1A-2D3F-4A5B-8C6D-7E8F9A0B1C2D}", "2.0.1": "{6C8F1D2B-3E4A-4B6C-9D7E-8F9A0B1C2D3E}"}
INSTALLER_KEY = "HKEY_LOCAL_MACHINE\\SOFTWARE\\Classes\\Installer"
UNINSTALL_KEY = "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\"
REGEN = os.environ.get("STARVIEWER_REGEN_FIXTURES") == "1"
HANDLER = {
    "": {"URL Protocol": ""},
    "shell\\open\\command": {"": '"C:\\Program Files\\Starviewer\\starviewer.exe" --url "%1"'},
}


def build_msi(directory: Path, version: str) -> Path:
    if shutil.which("wixl") is None:
        pytest.fail("wixl is not installed: apt-get install -y wixl msitools")
    work = directory / version
    work.mkdir()
    (work / "starviewer.exe").write_bytes(b"stand-in " + version.encode() + b"\n")
    source = (FIXTURES / "starviewer.wxs").read_text()
    (work / "starviewer.wxs").write_text(source.replace("@VERSION@", version).replace(
        "@PRODUCT_CODE@", PRODUCTS[version].strip("{}")))
    target = work / ("Starviewer-%s-x64.msi" % version)
    subprocess.run(["wixl", "-a", "x64", "-o", str(target), "starviewer.wxs"], cwd=work, check=True,
                   capture_output=True)
    return target


@pytest.fixture(scope="module")
def commands(tmp_path_factory) -> dict:
    """The role's command lines for both MSIs and both product codes, rendered by Ansible from the role's vars."""
    out = tmp_path_factory.mktemp("commands")
    playbook = out / "render.yml"
    playbook.write_text("""---
- name: Render the install role's msiexec command lines
  hosts: localhost
  connection: local
  gather_facts: false
  vars_files:
    - %(root)s/roles/install/defaults/main.yml
    - %(root)s/roles/install/vars/main.yml
  tasks:
    - name: Write them
      ansible.builtin.copy:
        dest: "%(out)s/{{ item.version }}.json"
        content: >-
          {{ {'install': __starviewer_msi_install_cmd, 'uninstall': __starviewer_msi_uninstall_cmd,
              'file': __starviewer_msi_file} | to_json }}
        mode: "0644"
      loop: "{{ msis }}"
      vars:
        __starviewer_installer: {installer: {filename: "{{ item.filename }}"}}
        __starviewer_msi_product: "{{ item.product }}"
""" % {"root": ROOT, "out": out})
    msis = [{"version": v, "filename": "Starviewer-%s-x64.msi" % v, "product": code} for v, code in PRODUCTS.items()]
    ansible_playbook(playbook, extra_vars={"msis": msis})
    return {v: json.loads((out / ("%s.json" % v)).read_text()) for v in PRODUCTS}


def test_command_lines_are_the_documented_ones(commands):
    assert commands["2.0.0"]["install"] == (
        'msiexec.exe /i "%s\\Starviewer-2.0.0-x64.msi" /qn /norestart ALLUSERS=1 '
        'INSTALL_ROOT="C:\\Program Files\\Starviewer" /l*v "%s\\Starviewer-2.0.0-x64.msi.install.log"' % (CACHE, CACHE))
    assert commands["2.0.1"]["uninstall"] == (
        'msiexec.exe /x %s /qn /norestart /l*v "%s\\%s.uninstall.log"' % (PRODUCTS["2.0.1"], CACHE, PRODUCTS["2.0.1"]))


def _windows_to_unix(wine, path: str) -> Path:
    assert path[:3] == "C:\\"
    return wine.drive_c.joinpath(*path[3:].split("\\"))


def _stage(wine, msi: Path, commands: dict, version: str) -> None:
    target = _windows_to_unix(wine, commands[version]["file"])
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(msi, target)


def _info(wine, version: str | None = None, allow_downgrade: bool = False) -> dict:
    args = {"version": version, "allow_downgrade": allow_downgrade} if version else {}
    registry = WineRegistry(wine)
    result = make_action(MsiInfo, args, registry).run(task_vars={})
    assert not result.get("failed"), result
    assert set(registry.calls) == {READ} and len(registry.calls) <= 2
    return result


def _handler(wine, check_mode: bool = False) -> dict:
    registry = WineRegistry(wine)
    return make_action(RegistryAction, {"path": "SOFTWARE\\Classes\\starviewer", "values": HANDLER}, registry,
                       check_mode=check_mode).run(task_vars={})


def _products(installer: bytes, uninstall: bytes) -> list:
    code = PRODUCTS["2.0.0"]
    classes = reg_state(installer, INSTALLER_KEY)
    return installed_products(subtree(classes, "UpgradeCodes\\" + pack_guid(STARVIEWER_UPGRADE_CODE)),
                              {code: reg_state(uninstall, UNINSTALL_KEY + code)},
                              {code: subtree(classes, "Products\\" + pack_guid(code))})


def test_install_upgrade_downgrade_and_remove(wine, tmp_path, commands):
    msis = {version: build_msi(tmp_path, version) for version in PRODUCTS}
    # what the controller reads from each MSI (msiinfo)
    assert msi_info(str(msis["2.0.1"]), "")["product_code"] == PRODUCTS["2.0.1"]
    for version, msi in msis.items():
        _stage(wine, msi, commands, version)
    exe = wine.drive_c / "Program Files" / "Starviewer" / "starviewer.exe"

    first = _info(wine, "2.0.0")
    assert first["upgrade_code"] == STARVIEWER_UPGRADE_CODE
    assert (first["plan"], first["products"]) == ("install", [])

    assert wine.cmd(commands["2.0.0"]["install"]) == 0
    assert exe.read_bytes() == b"stand-in 2.0.0\n"
    assert _windows_to_unix(wine, commands["2.0.0"]["file"] + ".install.log").exists()
    now = _info(wine, "2.0.0")
    assert now["plan"] == "none"
    assert now["products"] == [{"product_code": PRODUCTS["2.0.0"], "name": "Starviewer", "version": "2.0.0",
                                "install_location": ""}]
    # The registry the unit tests of module_utils/msi.py use is this one (dates aside).
    installer = wine.reg_export(INSTALLER_KEY)
    uninstall = wine.reg_export(UNINSTALL_KEY + PRODUCTS["2.0.0"])
    if REGEN:
        (FIXTURES / "msi-installer.export.reg").write_bytes(installer)
        (FIXTURES / "msi-uninstall.export.reg").write_bytes(uninstall)
    assert _products(installer, uninstall) == _products((FIXTURES / "msi-installer.export.reg").read_bytes(),
                                                        (FIXTURES / "msi-uninstall.export.reg").read_bytes())
    assert _products(installer, uninstall) == now["products"]
    # The MSI's URL handler (ALLUSERS=1: machine-wide) is exactly what the url_handler role enforces.
    assert _handler(wine)["changed"] is False

    upgrade = _info(wine, "2.0.1")
    assert (upgrade["plan"], upgrade["installed"]["version"]) == ("upgrade", "2.0.0")
    assert wine.cmd(commands["2.0.1"]["install"]) == 0
    now = _info(wine, "2.0.1")
    assert now["plan"] == "none" and [p["product_code"] for p in now["products"]] == [PRODUCTS["2.0.1"]]
    assert exe.read_bytes() == b"stand-in 2.0.1\n"

    assert _info(wine, "2.0.0")["plan"] == "keep-newer"
    down = _info(wine, "2.0.0", allow_downgrade=True)
    assert (down["plan"], down["remove"]) == ("downgrade", [PRODUCTS["2.0.1"]])
    assert wine.cmd(commands["2.0.1"]["uninstall"]) == 0
    assert _info(wine, "2.0.0")["plan"] == "install"
    assert not exe.exists()
    assert wine.cmd(commands["2.0.0"]["install"]) == 0
    assert _info(wine, "2.0.0")["plan"] == "none"

    assert wine.cmd(commands["2.0.0"]["uninstall"]) == 0
    assert _info(wine)["products"] == []
    assert not exe.exists()
    assert wine.reg_export("HKEY_LOCAL_MACHINE\\SOFTWARE\\Classes\\starviewer") is None
    assert _windows_to_unix(wine, "%s\\%s.uninstall.log" % (CACHE, PRODUCTS["2.0.0"])).exists()


def test_url_handler_is_repaired(wine):
    assert _handler(wine, check_mode=True)["changed"] is True
    assert wine.reg_export("HKEY_LOCAL_MACHINE\\SOFTWARE\\Classes\\starviewer") is None
    assert _handler(wine)["changed"] is True
    data = wine.reg_export("HKEY_LOCAL_MACHINE\\SOFTWARE\\Classes\\starviewer")
    assert data[2:].decode("utf-16-le") == (
        "Windows Registry Editor Version 5.00\r\n\r\n"
        "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Classes\\starviewer]\r\n\"URL Protocol\"=\"\"\r\n\r\n"
        "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Classes\\starviewer\\shell]\r\n\r\n"
        "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Classes\\starviewer\\shell\\open]\r\n\r\n"
        "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Classes\\starviewer\\shell\\open\\command]\r\n"
        "@=\"\\\"C:\\\\Program Files\\\\Starviewer\\\\starviewer.exe\\\" --url \\\"%1\\\"\"\r\n\r\n")
    # an altered command is put back; an extra value someone added is left alone
    broken = data.replace('--url'.encode("utf-16-le"), '-x'.encode("utf-16-le"))
    assert wine.reg_import(broken + "[HKEY_LOCAL_MACHINE\\SOFTWARE\\Classes\\starviewer]\r\n\"Extra\"=\"1\"\r\n\r\n"
                           .encode("utf-16-le")).returncode == 0
    assert _handler(wine)["changed"] is True
    assert _handler(wine)["changed"] is False
    again = wine.reg_export("HKEY_LOCAL_MACHINE\\SOFTWARE\\Classes\\starviewer")
    assert '--url \\"%1\\"'.encode("utf-16-le") in again and '"Extra"="1"'.encode("utf-16-le") in again


def test_without_allusers_the_product_is_registered_per_user(wine, tmp_path, commands):
    """Why the role passes ALLUSERS=1: the vendor MSI has no install scope, so the install is per user."""
    msi = build_msi(tmp_path, "2.0.0")
    _stage(wine, msi, commands, "2.0.0")
    per_user = commands["2.0.0"]["install"].replace(" ALLUSERS=1", "")
    assert per_user != commands["2.0.0"]["install"]
    assert wine.cmd(per_user) == 0
    # Windows Installer records it in the user's hive; the per-machine records the role reads stay empty.
    assert _info(wine, "2.0.0")["plan"] == "install"
    assert wine.reg_export("HKEY_CURRENT_USER\\Software\\Microsoft\\Installer\\UpgradeCodes") is not None
