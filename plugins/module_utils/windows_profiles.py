# Copyright: contributors to medimaging.starviewer
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Windows user profiles and hives for the uninstall, wipe and enforcement tasks: pure decisions, no I/O.

Internal use only: shared by the collection's filters, not a public API. Windows tasks export registry keys with
``reg export`` and list loaded hives with ``reg query HKU``; the controller turns that output into decisions here:
which profiles are users' (system and service profiles skipped), whether a user's hive is loaded (``HKU\\<SID>``)
or must be loaded from its NTUSER.DAT first, and the .reg file that deletes exactly what exists. Reading and
writing .reg files is module_utils/qt_registry.py's job. Standard library only, Python 3.9+.
"""

from __future__ import annotations

import re

from ansible_collections.medimaging.starviewer.plugins.module_utils.qt_registry import (
    REG_EXPAND_SZ,
    REG_SZ,
    Op,
    qt_key,
    reg_state,
    render_reg,
)

__all__ = [
    "MOUNT_PREFIX",
    "ORGANIZATION_KEY",
    "PROFILE_LIST",
    "STARVIEWER_KEY",
    "SYSTEM_SIDS",
    "deletion_reg",
    "enforce_deletions",
    "expand_environment",
    "export_state",
    "loaded_hives",
    "plan_profiles",
    "wipe_deletions",
]

PROFILE_LIST = "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\ProfileList"
STARVIEWER_KEY = "Software\\GILab\\Starviewer"
# HKCU's first Qt fallback: a value there also hides the HKLM one.
ORGANIZATION_KEY = "Software\\GILab\\OrganizationDefaults"
# LocalSystem, LocalService and NetworkService have profiles too; they are never a Starviewer user.
SYSTEM_SIDS = ("S-1-5-18", "S-1-5-19", "S-1-5-20")
# Local and domain accounts (S-1-5-21-...) and Entra ID accounts (S-1-12-1-...) are the only interactive users.
_USER_SID = re.compile(r"^S-1-(5-21|12-1)(-[0-9]+)+$", re.IGNORECASE)
# HKU name a user's NTUSER.DAT is loaded under while that user is not logged on.
MOUNT_PREFIX = "medimaging.starviewer-"


# ---------------------------------------------------------------------------------------------------------------
# Reading what reg export and reg query print
# ---------------------------------------------------------------------------------------------------------------


def export_state(data: bytes | str) -> dict:
    """Registry state (absolute key path -> {name: RegValue}) of a ``reg export`` file.

    ``data`` is the file's bytes (UTF-16LE with byte order mark), or its text already decoded.
    """
    if isinstance(data, str):
        text = data[1:] if data.startswith("\ufeff") else data
        text = text.replace("\r\n", "\n").replace("\n", "\r\n")
        data = b"\xff\xfe" + text.encode("utf-16-le", "surrogatepass")
    return reg_state(bytes(data)) or {}


def loaded_hives(reg_query_output: str) -> list[str]:
    """User SIDs whose hive is loaded, from ``reg query HKU`` output (``_Classes`` hives and .DEFAULT dropped)."""
    found = []
    for line in reg_query_output.splitlines():
        line = line.strip()
        if not line.upper().startswith(("HKEY_USERS\\", "HKU\\")):
            continue
        name = line.split("\\", 1)[1]
        if "\\" not in name and _USER_SID.match(name) and name not in found:
            found.append(name)
    return found


# ---------------------------------------------------------------------------------------------------------------
# Profiles
# ---------------------------------------------------------------------------------------------------------------


def expand_environment(text: str, environment: dict[str, str]) -> str:
    """Expand %NAME% like ExpandEnvironmentStrings: names are case-insensitive, unknown names stay verbatim."""
    lowered = {name.lower(): value for name, value in environment.items()}

    def replace(match: re.Match) -> str:
        return lowered.get(match.group(1).lower(), match.group(0))

    return re.sub(r"%([^%]+)%", replace, text)


def _text_value(values: dict, name: str) -> str | None:
    for found, value in values.items():
        if found.upper() == name.upper() and value.kind in (REG_SZ, REG_EXPAND_SZ):
            return value.data
    return None


def plan_profiles(state: dict, loaded: list[str], users: list[str] | None = None,
                  environment: dict[str, str] | None = None) -> tuple[list[dict], list[dict]]:
    """(profiles, skipped) from the state of the ProfileList key (export_state) and the loaded hive SIDs.

    A profile is {sid, name (profile folder name), path, data_dir, homepath (Qt's home path, forward slashes),
    loaded, hive (the HKU key to edit), mount (HKU name to load NTUSER.DAT under, or None), hive_file}. Skipped
    are {sid, path, reason}: system and service profiles, ``.bak`` duplicates Windows leaves after a temporary
    profile, profiles without a path or under the Windows folder, and (when ``users`` is given) profiles whose
    folder name or SID is not listed (case-insensitive).
    """
    environment = {"SystemDrive": "C:", "SystemRoot": "C:\\Windows", **(environment or {})}
    windows_dir = expand_environment("%SystemRoot%", environment).rstrip("\\").lower()
    wanted = {name.lower() for name in users or []}
    loaded_upper = {sid.upper() for sid in loaded}
    prefix = PROFILE_LIST.upper() + "\\"
    profiles, skipped = [], []
    for key in sorted(state, key=str.upper):
        if not key.upper().startswith(prefix) or "\\" in key[len(prefix) :]:
            continue
        sid = key[len(prefix) :]
        raw_path = _text_value(state[key] or {}, "ProfileImagePath")
        path = expand_environment(raw_path, environment).rstrip("\\") if raw_path else None
        reason = None
        if sid.lower().endswith(".bak"):
            reason = "backup entry Windows keeps after a temporary profile"
        elif sid.upper() in SYSTEM_SIDS or not _USER_SID.match(sid):
            reason = "system or service account"
        elif not path:
            reason = "no ProfileImagePath"
        elif path.lower() == windows_dir or path.lower().startswith(windows_dir + "\\"):
            reason = "profile inside the Windows folder"
        elif wanted:
            folder = path.rsplit("\\", 1)[-1]
            if folder.lower() not in wanted and sid.lower() not in wanted:
                reason = "not among the requested users"
        if reason:
            skipped.append({"sid": sid, "path": path, "reason": reason})
            continue
        is_loaded = sid.upper() in loaded_upper
        mount = None if is_loaded else MOUNT_PREFIX + sid
        profiles.append({
            "sid": sid,
            "name": path.rsplit("\\", 1)[-1],
            "path": path,
            "data_dir": path + "\\.starviewer",
            "homepath": path.replace("\\", "/"),
            "loaded": is_loaded,
            "hive": "HKEY_USERS\\" + (sid if is_loaded else mount),
            "mount": mount,
            "hive_file": None if is_loaded else path + "\\NTUSER.DAT",
        })
    return profiles, skipped


# ---------------------------------------------------------------------------------------------------------------
# Deletions
# ---------------------------------------------------------------------------------------------------------------


def wipe_deletions(profiles: list[dict], organization: bool = False) -> list[Op]:
    """Delete each profile's Starviewer key (and with ``organization`` the GILab OrganizationDefaults key).

    Deleting an absent key is a no-op for regedit and creates nothing, so no state is needed.
    """
    deletions = []
    for profile in profiles:
        deletions.append(Op("delete_key", profile["hive"] + "\\" + STARVIEWER_KEY))
        if organization:
            deletions.append(Op("delete_key", profile["hive"] + "\\" + ORGANIZATION_KEY))
    return deletions


def enforce_deletions(state: dict, hive: str, keys: list[str]) -> list[Op]:
    """Deletions removing ``keys`` from one user's Starviewer and OrganizationDefaults keys, as QSettings::remove.

    ``state`` is the export_state of the user's ``Software\\GILab`` key. QSettings::remove deletes the value of
    that name in the parent key and the subkey of that name with everything below. Only what exists is named:
    importing a value deletion creates its parent key when that key is missing.
    """
    actual = {key.upper(): key for key in state}
    deletions = []
    for base in (STARVIEWER_KEY, ORGANIZATION_KEY):
        root = hive + "\\" + base
        for key in keys:
            subkey, value = qt_key(key)
            parent = root + ("\\" + subkey if subkey else "")
            found = actual.get(parent.upper())
            if found is not None:
                for name in state[found]:
                    if name.upper() == value.upper():
                        deletions.append(Op("delete_value", found, name))
            found = actual.get((parent + "\\" + value).upper())
            if found is not None:
                deletions.append(Op("delete_key", found))
    return deletions


def deletion_reg(deletions: list[Op]) -> bytes:
    """regedit file bytes for deletions (Ops with absolute key paths): value deletions first, then key trees."""
    values = [op for op in deletions if op.action == "delete_value"]
    keys = [op for op in deletions if op.action == "delete_key"]
    if len(values) + len(keys) != len(deletions):
        raise ValueError("only delete_value and delete_key operations belong in a deletion file")
    # A key deletion may remove the parent of a value deleted in the same file, so values go first.
    ordered = sorted(values, key=lambda op: op.key.upper()) + list(dict.fromkeys(keys))
    return render_reg("", ordered)
