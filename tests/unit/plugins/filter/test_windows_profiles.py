# Copyright: contributors to medimaging.starviewer
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure tests for module_utils/windows_profiles.py and its two filters (the wine round trips are in tests/wine)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.medimaging.starviewer.plugins.filter.starviewer_reg_deletions import starviewer_reg_deletions
from ansible_collections.medimaging.starviewer.plugins.filter.windows_profiles import windows_profiles
from ansible_collections.medimaging.starviewer.plugins.module_utils.qt_registry import (
    REG_EXPAND_SZ,
    REG_SZ,
    Op,
    RegValue,
)
from ansible_collections.medimaging.starviewer.plugins.module_utils.windows_profiles import (
    PROFILE_LIST,
    deletion_reg,
    enforce_deletions,
    expand_environment,
    loaded_hives,
    plan_profiles,
    wipe_deletions,
)

ROOT = Path(__file__).resolve().parents[4]  # tests/unit/plugins/filter/<file> -> repository root
SID = "S-1-5-21-100-200-300-1001"

# reg.exe query HKU on a Windows 11 workstation with one user logged on (SIDs invented).
REG_QUERY_HKU = """
HKEY_USERS\\.DEFAULT
HKEY_USERS\\S-1-5-19
HKEY_USERS\\S-1-5-20
HKEY_USERS\\S-1-5-21-100-200-300-1001
HKEY_USERS\\S-1-5-21-100-200-300-1001_Classes
HKEY_USERS\\S-1-5-18
"""


def test_loaded_hives():
    assert loaded_hives(REG_QUERY_HKU) == [SID]
    assert loaded_hives("HKU\\S-1-12-1-5-6-7-8\r\nnoise\r\n") == ["S-1-12-1-5-6-7-8"]


@pytest.mark.parametrize(("text", "expected"), [
    ("%SystemDrive%\\Users\\a", "C:\\Users\\a"),
    ("%systemdrive%\\Users\\a", "C:\\Users\\a"),
    ("%UNKNOWN%\\x", "%UNKNOWN%\\x"),
    ("100%", "100%"),
])
def test_expand_environment(text, expected):
    assert expand_environment(text, {"SystemDrive": "C:"}) == expected


def _state(**profiles) -> dict:
    return {PROFILE_LIST + "\\" + sid.replace("_", "-"): {"ProfileImagePath": RegValue(REG_EXPAND_SZ, path)}
            for sid, path in profiles.items()}


def test_plan_profiles_environment_and_case():
    state = _state(**{"S_1_5_21_100_200_300_1001": "%SystemDrive%\\Users\\JDoe"})
    state[PROFILE_LIST.lower() + "\\S-1-5-21-100-200-300-1002"] = {"profileimagepath": RegValue(REG_SZ, "E:\\u\\b")}
    profiles, skipped = plan_profiles(state, [SID.lower()], environment={"SystemDrive": "D:"})
    assert skipped == []
    assert [(p["name"], p["path"], p["loaded"], p["hive"]) for p in profiles] == [
        ("JDoe", "D:\\Users\\JDoe", True, "HKEY_USERS\\" + SID),
        ("b", "E:\\u\\b", False, "HKEY_USERS\\medimaging.starviewer-S-1-5-21-100-200-300-1002")]
    assert plan_profiles(state, [], users=["JDOE"])[0][0]["name"] == "JDoe"
    assert plan_profiles(state, [], users=["nobody"])[0] == []


def test_enforce_deletions_are_case_insensitive_and_exact():
    hive = "HKEY_USERS\\" + SID
    state = {
        hive + "\\software\\gilab\\starviewer\\PACS\\PacsParam": {"aetitle": RegValue(REG_SZ, "X")},
        hive + "\\Software\\GILab\\Starviewer\\pacslist": {"size": RegValue(REG_SZ, "1")},
        hive + "\\Software\\GILab\\Starviewer\\pacslist\\1": {},
    }
    ops = enforce_deletions(state, hive, ["PACS/pacsparam/AETitle", "PacsList", "PACS/cache/imagePath"])
    assert ops == [Op("delete_value", hive + "\\software\\gilab\\starviewer\\PACS\\PacsParam", "aetitle"),
                   Op("delete_key", hive + "\\Software\\GILab\\Starviewer\\pacslist")]


def test_deletion_reg_puts_values_before_keys():
    text = deletion_reg([Op("delete_key", "HKEY_USERS\\S\\Software\\GILab\\Starviewer"),
                         Op("delete_value", "HKEY_USERS\\S\\Software\\GILab\\Starviewer\\PACS", 'a"b')])
    assert text.decode("utf-16") == (
        "Windows Registry Editor Version 5.00\r\n\r\n"
        "[HKEY_USERS\\S\\Software\\GILab\\Starviewer\\PACS]\r\n\"a\\\"b\"=-\r\n\r\n"
        "[-HKEY_USERS\\S\\Software\\GILab\\Starviewer]\r\n\r\n")
    with pytest.raises(ValueError, match="only delete_value and delete_key"):
        deletion_reg([Op("create_key", "HKEY_USERS\\S")])


def test_wipe_deletions():
    assert wipe_deletions([{"hive": "HKEY_USERS\\S"}], organization=True) == [
        Op("delete_key", "HKEY_USERS\\S\\Software\\GILab\\Starviewer"),
        Op("delete_key", "HKEY_USERS\\S\\Software\\GILab\\OrganizationDefaults")]


@pytest.mark.parametrize(("call", "message"), [
    (lambda: windows_profiles(5), "windows_profiles: got 5 of type int"),
    (lambda: windows_profiles("", loaded=3), "windows_profiles: loaded: got 3"),
    (lambda: windows_profiles("", users="jdoe"), "windows_profiles: users: got 'jdoe'"),
    (lambda: windows_profiles({"content": "!!", "encoding": "base64"}), "slurp content is not base64"),
    (lambda: windows_profiles("garbage"), "windows_profiles:"),
    (lambda: starviewer_reg_deletions("x"), "allowed: profiles from the windows_profiles filter"),
    (lambda: starviewer_reg_deletions([{"hive": "H"}], format="utf8"), "format: got 'utf8'"),
    (lambda: starviewer_reg_deletions([{"hive": "H"}], keys="PacsList", state={}), "keys: got 'PacsList'"),
    (lambda: starviewer_reg_deletions([{"hive": "H"}], keys=["PacsList"]), "state: got None"),
])
def test_filter_errors(call, message):
    with pytest.raises(AnsibleFilterError) as info:
        call()
    assert message in str(info.value)


def test_filters_accept_text_and_keyword_only_options():
    text = ("Windows Registry Editor Version 5.00\n\n[%s\\%s]\n\"ProfileImagePath\"=\"C:\\\\Users\\\\a\"\n"
            % (PROFILE_LIST, SID))
    plan = windows_profiles(text, loaded=REG_QUERY_HKU)
    assert [(p["name"], p["loaded"]) for p in plan["profiles"]] == [("a", True)]
    with pytest.raises(TypeError):
        windows_profiles(text, REG_QUERY_HKU)  # pylint: disable=too-many-function-args
    assert starviewer_reg_deletions(plan["profiles"][0]) == (
        "Windows Registry Editor Version 5.00\r\n\r\n[-HKEY_USERS\\%s\\Software\\GILab\\Starviewer]\r\n\r\n" % SID)


@pytest.mark.parametrize("name", ["windows_profiles", "starviewer_reg_deletions"])
def test_ansible_doc_reads_sidecar(name):
    tool = shutil.which("ansible-doc") or str(Path(sys.executable).with_name("ansible-doc"))
    if not Path(tool).exists():
        pytest.skip("ansible-doc not installed")
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".cache" / "collections"), ANSIBLE_NOCOLOR="1")
    proc = subprocess.run([tool, "-t", "filter", "--json", "medimaging.starviewer." + name], capture_output=True,
                          text=True, env=env, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)["medimaging.starviewer." + name]
    assert doc["doc"]["name"] == name and "_input" in doc["doc"]["options"]
    assert doc["examples"] and "_value" in doc["return"]
