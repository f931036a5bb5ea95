"""Windows logic of the uninstall, wipe and enforce roles, with wine as the Windows stand-in (issue 4).

Profile enumeration reads a ProfileList that wine exported; every generated deletion .reg is imported into wine and
the registry is exported again and compared, key by key and value by value, with what must remain (wine skips bad
.reg lines and still exits 0, so exit codes prove nothing). The uninstall role's msiexec command line, rendered by
Ansible from the role's own variables, removes a wixl-built MSI that carries the vendor UpgradeCode.
"""

from __future__ import annotations

import base64
import shutil
import subprocess
from pathlib import Path

import pytest
from fake_windows import WineRegistry, make_action
from helpers import ROOT, ansible_playbook

from ansible_collections.medimaging.starviewer.plugins.action.starviewer_msi_info import ActionModule as MsiInfo
from ansible_collections.medimaging.starviewer.plugins.filter.starviewer_reg_deletions import starviewer_reg_deletions
from ansible_collections.medimaging.starviewer.plugins.filter.windows_profiles import windows_profiles
from ansible_collections.medimaging.starviewer.plugins.module_utils.qt_registry import (
    REG_DWORD,
    REG_EXPAND_SZ,
    REG_SZ,
    Op,
    RegValue,
    reg_state,
    render_reg,
)

PROFILE_LIST = "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\ProfileList"
JDOE = "S-1-5-21-1111111111-2222222222-3333333333-1001"
TEAM = "S-1-5-21-1111111111-2222222222-3333333333-1002"
ENTRA = "S-1-12-1-1111111111-2222222222-3333333333-4444444444"
MOUNT = "medimaging.starviewer-" + TEAM


def _slurp(data: bytes) -> dict:
    """What ansible.windows.slurp returns for a file."""
    return {"content": base64.b64encode(data).decode(), "encoding": "base64"}


def _import_state(wine, root: str, state: dict) -> None:
    ops = []
    for key, values in state.items():
        ops.append(Op("create_key", key))
        ops += [Op("set_value", key, name, value) for name, value in values.items()]
    assert wine.reg_import(render_reg(root, ops), "state.reg").returncode == 0


def _state(wine, key: str) -> dict | None:
    data = wine.reg_export(key)
    return None if data is None else reg_state(data, key)


def _profile(sid: str, path: str, kind: str = REG_EXPAND_SZ) -> dict:
    return {sid: {"ProfileImagePath": RegValue(kind, path), "Flags": RegValue(REG_DWORD, 0),
                  "State": RegValue(REG_DWORD, 0)}}


def test_profiles_from_a_wine_export(wine):
    _import_state(wine, PROFILE_LIST, {
        **_profile("S-1-5-18", "%systemroot%\\system32\\config\\systemprofile"),
        **_profile("S-1-5-19", "%systemroot%\\ServiceProfiles\\LocalService"),
        **_profile("S-1-5-20", "%systemroot%\\ServiceProfiles\\NetworkService"),
        **_profile("S-1-5-80-123-456", "C:\\Users\\svc"),
        **_profile(JDOE, "%SystemDrive%\\Users\\jdoe"),
        **_profile(TEAM, "C:\\Users\\Ärzte Team", REG_SZ),
        **_profile(TEAM + ".bak", "C:\\Users\\Ärzte Team", REG_SZ),
        **_profile(ENTRA, "D:\\Profiles\\entra.user\\"),
        **_profile("S-1-5-21-1-2-3-1003", "%SystemRoot%\\Temp\\odd"),
        "S-1-5-21-1-2-3-1004": {"Flags": RegValue(REG_DWORD, 0)},
    })
    # jdoe is logged on: wine then lists his hive (and its _Classes companion) under HKU.
    _import_state(wine, "HKEY_USERS", {JDOE + "\\Software": {}, JDOE + "_Classes\\x": {}})
    export = wine.reg_export(PROFILE_LIST)
    hku = wine.run("reg", "query", "HKU").stdout.decode("utf-8", "replace")

    plan = windows_profiles(_slurp(export), loaded=hku.splitlines())
    profiles = {profile["sid"]: profile for profile in plan["profiles"]}
    assert sorted(profiles) == sorted([JDOE, TEAM, ENTRA, "S-1-5-21-0-0-0-1000"])  # wine's own user is there too
    assert profiles[JDOE] == {
        "sid": JDOE, "name": "jdoe", "path": "C:\\Users\\jdoe", "data_dir": "C:\\Users\\jdoe\\.starviewer",
        "homepath": "C:/Users/jdoe", "loaded": True, "hive": "HKEY_USERS\\" + JDOE, "mount": None, "hive_file": None}
    assert profiles[TEAM] == {
        "sid": TEAM, "name": "Ärzte Team", "path": "C:\\Users\\Ärzte Team",
        "data_dir": "C:\\Users\\Ärzte Team\\.starviewer", "homepath": "C:/Users/Ärzte Team", "loaded": False,
        "hive": "HKEY_USERS\\" + MOUNT, "mount": MOUNT, "hive_file": "C:\\Users\\Ärzte Team\\NTUSER.DAT"}
    assert profiles[ENTRA]["path"] == "D:\\Profiles\\entra.user"
    skipped = {item["sid"]: item["reason"] for item in plan["skipped"]}
    assert skipped == {
        "S-1-5-18": "system or service account", "S-1-5-19": "system or service account",
        "S-1-5-20": "system or service account", "S-1-5-80-123-456": "system or service account",
        TEAM + ".bak": "backup entry Windows keeps after a temporary profile",
        "S-1-5-21-1-2-3-1003": "profile inside the Windows folder", "S-1-5-21-1-2-3-1004": "no ProfileImagePath"}

    named = windows_profiles(_slurp(export), loaded=hku, users=["ärzte team", ENTRA.lower()])
    assert sorted(profile["sid"] for profile in named["profiles"]) == sorted([TEAM, ENTRA])


USER_STATE = {
    "Software\\GILab\\Starviewer": {"LastReleaseNotesVersionShown": RegValue(REG_SZ, "2.0.0"),
                                    "PacsList": RegValue(REG_SZ, "a value named like the array")},
    "Software\\GILab\\Starviewer\\PACS\\pacsparam": {"AETitle": RegValue(REG_SZ, "OWN"),
                                                     "localPort": RegValue(REG_SZ, "4010")},
    "Software\\GILab\\Starviewer\\PacsList": {"size": RegValue(REG_DWORD, 2)},
    "Software\\GILab\\Starviewer\\PacsList\\1": {"AETitle": RegValue(REG_SZ, "P1")},
    "Software\\GILab\\Starviewer\\PacsList\\2": {"AETitle": RegValue(REG_SZ, "P2")},
    "Software\\GILab\\OrganizationDefaults\\PACS\\pacsparam": {"AETitle": RegValue(REG_SZ, "ORG")},
    "Software\\GILab\\Other": {"keep": RegValue(REG_SZ, "other GILab program")},
    "Software\\Vendor": {"keep": RegValue(REG_DWORD, 1)},
}


def _users(wine) -> None:
    for hive in (JDOE, MOUNT):
        _import_state(wine, "HKEY_USERS\\" + hive, USER_STATE)
    _import_state(wine, "HKEY_USERS\\" + ENTRA, {"Software\\Vendor": {"keep": RegValue(REG_DWORD, 1)}})


def _without(state: dict, *prefixes: str) -> dict:
    return {key: values for key, values in state.items()
            if not any(key == prefix or key.startswith(prefix + "\\") for prefix in prefixes)}


@pytest.mark.parametrize("organization", [False, True])
def test_wipe_reg_deletes_only_the_starviewer_keys(wine, organization):
    _users(wine)
    before = {sid: _state(wine, "HKEY_USERS\\" + sid) for sid in (JDOE, MOUNT, ENTRA)}
    profiles = [{"hive": "HKEY_USERS\\" + sid} for sid in (JDOE, MOUNT, ENTRA)]
    data = base64.b64decode(starviewer_reg_deletions(profiles, organization=organization, format="base64"))
    assert data[:2] == b"\xff\xfe"
    assert wine.reg_import(data, "wipe.reg").returncode == 0

    gone = ("Software\\GILab\\Starviewer",) + (("Software\\GILab\\OrganizationDefaults",) if organization else ())
    for sid in (JDOE, MOUNT):
        expected = _without(before[sid], *gone)
        if organization:
            expected = _without(expected, "Software\\GILab\\OrganizationDefaults")
        assert _state(wine, "HKEY_USERS\\" + sid) == expected
    # Deleting a key a user does not have creates nothing.
    assert _state(wine, "HKEY_USERS\\" + ENTRA) == before[ENTRA]


def test_enforce_reg_removes_the_system_keys_and_creates_nothing(wine):
    _users(wine)
    keys = ["PacsList", "PACS/pacsparam/AETitle", "PACS/cache/imagePath", "InstitutionInformation/InstitutionName"]
    profiles = [{"hive": "HKEY_USERS\\" + sid} for sid in (JDOE, MOUNT, ENTRA)]
    exports = {profile["hive"]: wine.reg_export(profile["hive"] + "\\Software\\GILab") for profile in profiles}
    assert exports["HKEY_USERS\\" + ENTRA] is None  # reg export fails: no GILab key at all
    state = {hive: _slurp(data) if data else {"content": "", "encoding": "base64"} for hive, data in exports.items()}
    text = starviewer_reg_deletions(profiles, keys=keys, state=state)
    assert "PACS\\cache" not in text and "InstitutionInformation" not in text
    assert wine.reg_import(base64.b64decode(starviewer_reg_deletions(profiles, keys=keys, state=state,
                                                                     format="base64")), "enforce.reg").returncode == 0

    for sid in (JDOE, MOUNT):
        after = _state(wine, "HKEY_USERS\\" + sid)
        expected = _without(dict(USER_STATE), "Software\\GILab\\Starviewer\\PacsList")
        expected["Software\\GILab\\Starviewer"] = {"LastReleaseNotesVersionShown": RegValue(REG_SZ, "2.0.0")}
        expected["Software\\GILab\\Starviewer\\PACS\\pacsparam"] = {"localPort": RegValue(REG_SZ, "4010")}
        expected["Software\\GILab\\OrganizationDefaults\\PACS\\pacsparam"] = {}
        for parent in ("", "Software", "Software\\GILab", "Software\\GILab\\Starviewer\\PACS",
                       "Software\\GILab\\OrganizationDefaults", "Software\\GILab\\OrganizationDefaults\\PACS"):
            expected.setdefault(parent, {})
        assert after == expected
    assert _state(wine, "HKEY_USERS\\" + ENTRA) == {
        "": {}, "Software": {}, "Software\\Vendor": {"keep": RegValue(REG_DWORD, 1)}}

    # A second run finds nothing left to delete.
    again = {hive: _slurp(wine.reg_export(hive + "\\Software\\GILab")) for hive in ("HKEY_USERS\\" + JDOE,)}
    assert starviewer_reg_deletions([{"hive": "HKEY_USERS\\" + JDOE}], keys=keys, state=again) == \
        "Windows Registry Editor Version 5.00\r\n\r\n"


def test_a_value_deletion_under_a_missing_key_would_create_it(wine):
    """Why enforcement only names what the export shows: importing ``"x"=-`` creates the key it sits under."""
    naive = render_reg("HKEY_USERS\\" + ENTRA, [Op("delete_value", "Software\\GILab\\Starviewer\\PACS", "AETitle")])
    _import_state(wine, "HKEY_USERS\\" + ENTRA, {"Software": {}})
    assert wine.reg_import(naive, "naive.reg").returncode == 0
    assert "Software\\GILab\\Starviewer\\PACS" in _state(wine, "HKEY_USERS\\" + ENTRA)


def _render_uninstall(product: str, directory: Path) -> str:
    playbook = directory / "render-uninstall.yml"
    playbook.write_text("""---
- name: Render the uninstall role's msiexec command line
  hosts: localhost
  connection: local
  gather_facts: false
  vars_files:
    - %(root)s/roles/uninstall/defaults/main.yml
    - %(root)s/roles/uninstall/vars/main.yml
  tasks:
    - name: Show it
      ansible.builtin.debug:
        msg: "{{ __starviewer_uninstall_msi_cmd }}"
      vars:
        __starviewer_msi_product: "%(product)s"
""" % {"root": ROOT, "product": product})
    proc = ansible_playbook(playbook, json_output=True)
    return proc.json["plays"][0]["tasks"][0]["hosts"]["localhost"]["msg"]


def test_uninstall_command_line_removes_the_msi(wine, tmp_path):
    if shutil.which("wixl") is None:
        pytest.fail("wixl is not installed: apt-get install -y wixl msitools")
    product = "{5B7E0C1A-2D3F-4A5B-8C6D-7E8F9A0B1C2D}"
    source = (ROOT / "tests" / "fixtures" / "windows" / "starviewer.wxs").read_text()
    (tmp_path / "starviewer.wxs").write_text(
        source.replace("@VERSION@", "2.0.0").replace("@PRODUCT_CODE@", product.strip("{}")))
    (tmp_path / "starviewer.exe").write_bytes(b"stand-in\n")
    subprocess.run(["wixl", "-a", "x64", "-o", "sv.msi", "starviewer.wxs"], cwd=tmp_path, check=True,
                   capture_output=True)
    shutil.copy(tmp_path / "sv.msi", wine.drive_c / "sv.msi")
    assert wine.cmd("msiexec.exe /i C:\\sv.msi /qn ALLUSERS=1") == 0
    exe = wine.drive_c / "Program Files" / "Starviewer" / "starviewer.exe"
    assert exe.exists()

    # What the role's first task (starviewer_msi_info) finds, its registry reads answered by wine.
    found = make_action(MsiInfo, {}, WineRegistry(wine)).run(task_vars={})
    assert [item["product_code"] for item in found["products"]] == [product]

    command = _render_uninstall(product, tmp_path)
    assert command == ('msiexec.exe /x %s /qn /norestart '
                       '/l*v "C:\\ProgramData\\medimaging.starviewer\\%s.uninstall.log"' % (product, product))
    (wine.drive_c / "ProgramData" / "medimaging.starviewer").mkdir(parents=True, exist_ok=True)
    assert wine.cmd(command) == 0
    assert not exe.exists()
    assert (wine.drive_c / "ProgramData" / "medimaging.starviewer" / ("%s.uninstall.log" % product)).exists()
    # Nothing left for a second run's loop.
    assert make_action(MsiInfo, {}, WineRegistry(wine)).run(task_vars={})["products"] == []
    assert not Path(str(exe)).exists()
