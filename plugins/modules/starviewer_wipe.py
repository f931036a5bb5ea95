#!/usr/bin/python
# Copyright: contributors to medimaging.starviewer
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: starviewer_wipe
short_description: Delete Starviewer user data (patient DICOM cache, database, logs) of Linux accounts, safely
version_added: 0.2.0
description:
  - Deletes, for every account of the workstation or for the accounts named in O(users), Starviewer's per-user
    data folder C(~/.starviewer) (image cache with patient DICOM files, local database, logs, crash dumps, hanging
    protocols) and, with O(config=true), the user configuration C(~/.config/GILab/Starviewer.conf).
  - Custom cache locations are included. C(PACS/cache/imagePath) and C(PACS/cache/sdatabasePath) are looked up the
    way Qt 5 does for Starviewer (the user's files first, then each folder of O(system_config_dirs)) and expanded
    like Starviewer's C(%HOMEPATH%), C(%HOSTNAME%), C(%IP%) expressions. A custom path is deleted only when it is
    clearly Starviewer's (see notes); otherwise it is reported under RV(users[].refused) and left alone.
  - An account whose Starviewer is running is skipped and reported, unless O(stop_running=true); its instances then
    get SIGTERM, then SIGKILL after O(stop_timeout) seconds.
  - Nothing outside the targets is ever deleted. Every path is opened component by component with C(O_NOFOLLOW)
    relative to directory descriptors. Symbolic links inside a target are removed as links (their targets are not
    touched), a target that is itself a symbolic link or is reached through one is refused, and folders of another
    file system mounted inside a target are left in place.
  - In check mode nothing is deleted and no process is signalled; the result lists, per account, what would be
    deleted with the same file and byte counts a real run then deletes.
options:
  users:
    description:
      - Account names to wipe. Empty means every account the passwd database enumerates whose home is not C(/);
        ordinary accounts (C(UID_MIN)..C(UID_MAX) of C(/etc/login.defs)) are always reported, other accounts only
        when they hold something.
      - A named account that does not exist is reported with outcome C(no-such-user).
    type: list
    elements: str
    default: []
    version_added: 0.2.0
  config:
    description: Also delete the user configuration C(~/.config/GILab/Starviewer.conf).
    type: bool
    default: false
    version_added: 0.2.0
  stop_running:
    description: Stop a running Starviewer of an account instead of skipping that account.
    type: bool
    default: false
    version_added: 0.2.0
  stop_timeout:
    description: Seconds to wait after SIGTERM before SIGKILL.
    type: int
    default: 10
    version_added: 0.2.0
  programs:
    description:
      - Paths of the Starviewer executable. A process is Starviewer when its C(/proc/<pid>/exe) or its C(argv[0])
        is one of them, or when it is a Python or shell interpreter whose script argument is one of them (the
        test stand-in).
    type: list
    elements: path
    default: [/opt/starviewer/starviewer]
    version_added: 0.2.0
  system_config_dirs:
    description: Qt's system configuration folders (C($XDG_CONFIG_DIRS)), searched after the user's files.
    type: list
    elements: path
    default: [/etc/xdg]
    version_added: 0.2.0
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details: The diff lists per account the paths that are (or would be) deleted with their counts.
  platform:
    platforms: posix
extends_documentation_fragment:
  - medimaging.starviewer.attributes
notes:
  - "Safety rule for custom cache paths: an absolute path without C(.) or C(..) parts, at least two levels below
    C(/), that is neither a home directory nor holds one, does not touch the install folder, C(/etc), C(/usr) and
    the other system folders, has a folder or file name containing C(starviewer) (any case), belongs to the account
    itself, and is not also a path of another account (a cache shared by several users is never deleted)."
  - A path whose settings value ends without a separator makes Starviewer create study folders beside it (plain
    concatenation); those folders are not found and not deleted.
  - Accounts that the passwd database does not enumerate (some LDAP or SSSD setups) are wiped only when named in
    O(users).
seealso:
  - module: medimaging.starviewer.starviewer_audit
  - module: medimaging.starviewer.starviewer_enforce
author:
  - medimaging.starviewer maintainers (@medimaging)
"""

EXAMPLES = r"""
- name: Show what a wipe of every account would delete
  medimaging.starviewer.starviewer_wipe:
  check_mode: true
  register: preview

- name: Wipe two accounts, configuration included, stopping their Starviewer first
  medimaging.starviewer.starviewer_wipe:
    users: [jdoe, rsmith]
    config: true
    stop_running: true
"""

RETURN = r"""
hostname:
  description: The workstation's host name.
  returned: always
  type: str
  sample: ws-rad-01
users:
  description: One record per account.
  returned: always
  type: list
  elements: dict
  contains:
    user:
      description: Account name.
      type: str
    uid:
      description: Account uid (null for a missing account).
      type: int
    home:
      description: Home directory.
      type: str
    time:
      description: UTC time the account was handled, ISO 8601.
      type: str
      sample: "2026-12-04T10:15:00Z"
    outcome:
      description:
        - C(wiped) (everything found was deleted), C(would-wipe) (check mode), C(nothing) (nothing found),
          C(partial) (some paths deleted, some refused), C(refused) (only refused paths), C(skipped-running),
          C(error) (a deletion failed; see RV(users[].errors)) or C(no-such-user).
      type: str
    paths:
      description: Paths found, with what was (or would be) deleted.
      type: list
      elements: dict
      sample: [{path: /home/jdoe/.starviewer, kind: data, files: 12, bytes: 3145728, dirs: 6, deleted: true}]
    refused:
      description: Paths left alone and why.
      type: list
      elements: dict
      sample: [{path: /home/jdoe/.starviewer, kind: data, reason: "is a symbolic link to /srv/x; ..."}]
    kept:
      description: Entries inside a target left in place (another file system mounted there, too deep).
      type: list
      elements: dict
    errors:
      description: Entries that could not be deleted.
      type: list
      elements: dict
    processes:
      description: Starviewer processes of the account found at the start (pid and command line).
      type: list
      elements: dict
    stopped:
      description: Pids stopped (empty in check mode).
      type: list
      elements: int
    files:
      description: Files (non-folder entries) deleted or to delete.
      type: int
    bytes:
      description: Bytes of regular files deleted or to delete.
      type: int
    dirs:
      description: Folders deleted or to delete.
      type: int
files:
  description: Total files over every account.
  returned: always
  type: int
bytes:
  description: Total bytes over every account.
  returned: always
  type: int
summary:
  description: One line per account for a report.
  returned: always
  type: list
  elements: str
  sample: ["jdoe: wiped, 12 files, 3145728 bytes, 6 folders", "rsmith: skipped-running (pids 4242)"]
"""

import os
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.medimaging.starviewer.plugins.module_utils.qt_ini import QtIniDocument
from ansible_collections.medimaging.starviewer.plugins.module_utils.user_data import (
    USER_CONFIG,
    USER_ORG_CONFIG,
    PathRefused,
    cache_paths,
    find_processes,
    host_identity,
    is_login_uid,
    list_accounts,
    plan_targets,
    read_user_file,
    scan_target,
    stop_processes,
    uid_range,
)

# Folders a custom cache path may never be in, nor hold (the install folder is added from the programs option).
PROTECTED = ("/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/proc", "/run", "/sbin", "/sys", "/usr")


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _read_plain(path: str) -> bytes | None:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError:
        return None


def _user_documents(account: dict, system: list) -> tuple[list, list]:
    """Qt's file order for the account, and refusals for user files that cannot be read safely."""
    documents, problems = [], []
    for rel in (USER_CONFIG, USER_ORG_CONFIG):
        path = account["home"] + "/" + rel
        try:
            found = read_user_file(path, account["home"])
        except (PathRefused, OSError) as exc:
            problems.append({"path": path, "kind": "settings", "reason": "settings not read: %s" % exc})
            found = None
        documents.append((path, QtIniDocument.parse(found[0]) if found else None))
    return documents + system, problems


def _outcome(record: dict, check_mode: bool) -> str:
    if record["errors"]:
        return "error"
    found = any(path["files"] or path["dirs"] for path in record["paths"])
    if record["refused"]:
        return "partial" if found else "refused"
    if found:
        return "would-wipe" if check_mode else "wiped"
    return "nothing"


def _wipe_account(account: dict, plan: dict, processes: list, params: dict, check_mode: bool) -> dict:
    # A refused path that does not exist refuses nothing (accounts sharing /nonexistent as home, for example).
    refused = [item for item in plan["refused"]
               if not (item["path"] or "").startswith("/") or os.path.lexists(item["path"])]
    record = {"user": account["name"], "uid": account["uid"], "home": account["home"], "time": _now(),
              "paths": [], "refused": refused, "kept": [], "errors": [],
              "processes": [{"pid": info["pid"], "cmdline": " ".join(info["cmdline"])} for info in processes],
              "stopped": [], "files": 0, "bytes": 0, "dirs": 0}
    if processes and not params["stop_running"]:
        record["outcome"] = "skipped-running"
        return record
    if processes and not check_mode:
        still = stop_processes(processes, params["stop_timeout"])
        record["stopped"] = [info["pid"] for info in processes if info["pid"] not in still]
        if still:
            record["errors"].append({"path": None, "error": "Starviewer (pids %s) did not stop" % still})
            record["outcome"] = "skipped-running"
            return record
    for target in plan["targets"]:
        try:
            tally = scan_target(target["path"], account["home"], delete=not check_mode,
                                owner=account["uid"] if target["custom"] else None)
        except PathRefused as exc:
            record["refused"].append({"path": target["path"], "kind": target["kind"], "reason": str(exc)})
            continue
        except OSError as exc:
            record["errors"].append({"path": target["path"], "error": os.strerror(exc.errno or 0)})
            continue
        record["kept"] += tally["kept"]
        record["errors"] += tally["errors"]
        if tally["exists"]:
            record["paths"].append({"path": target["path"], "kind": target["kind"], "files": tally["files"],
                                    "bytes": tally["bytes"], "dirs": tally["dirs"],
                                    "deleted": not check_mode and not tally["kept"] and not tally["errors"]})
    for total in ("files", "bytes", "dirs"):
        record[total] = sum(path[total] for path in record["paths"])
    record["time"] = _now()
    record["outcome"] = _outcome(record, check_mode)
    return record


def _diff(record: dict) -> dict:
    lines = ["%s (%s): %d files, %d bytes, %d folders\n" % (path["path"], path["kind"], path["files"], path["bytes"],
                                                            path["dirs"]) for path in record["paths"]]
    kept = ["%s (%s): kept, %s\n" % (item["path"], item["kind"], item["reason"]) for item in record["refused"]]
    return {"before_header": "%s: Starviewer user data" % record["user"], "after_header": record["user"],
            "before": "".join(lines + kept), "after": "".join(kept)}


def _summary(record: dict) -> str:
    line = "%s: %s" % (record["user"], record["outcome"])
    if record["processes"] and record["outcome"] == "skipped-running":
        line += " (Starviewer running: pids %s)" % ", ".join(str(info["pid"]) for info in record["processes"])
    if record["paths"]:
        line += ", %d files, %d bytes, %d folders in %s" % (record["files"], record["bytes"], record["dirs"],
                                                            ", ".join(path["path"] for path in record["paths"]))
    if record["stopped"]:
        line += "; stopped pids %s" % ", ".join(str(pid) for pid in record["stopped"])
    for item in record["refused"]:
        line += "; refused %s: %s" % (item["path"], item["reason"])
    for item in record["errors"]:
        line += "; error %s: %s" % (item["path"], item["error"])
    return line


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "users": {"type": "list", "elements": "str", "default": []},
            "config": {"type": "bool", "default": False},
            "stop_running": {"type": "bool", "default": False},
            "stop_timeout": {"type": "int", "default": 10},
            "programs": {"type": "list", "elements": "path", "default": ["/opt/starviewer/starviewer"]},
            "system_config_dirs": {"type": "list", "elements": "path", "default": ["/etc/xdg"]},
        },
        supports_check_mode=True,
    )
    params = module.params
    if params["stop_timeout"] < 0:
        module.fail_json(msg="stop_timeout: got %d; allowed: 0 or more seconds" % params["stop_timeout"])
    programs = [os.path.normpath(program) for program in params["programs"]]

    hostname, ip = host_identity()
    bounds = uid_range((_read_plain("/etc/login.defs") or b"").decode("latin-1"))
    system = []
    for folder in params["system_config_dirs"]:
        for rel in ("GILab/Starviewer.conf", "GILab.conf"):
            data = _read_plain(os.path.join(folder, rel))
            system.append((os.path.join(folder, rel), QtIniDocument.parse(data) if data is not None else None))

    # Every account takes part in the overlap check, so naming one user never deletes another's shared data.
    everyone, _none = list_accounts(None)
    selected, missing = list_accounts(params["users"]) if params["users"] else (everyone, [])
    by_name = {account["name"]: account for account in everyone + selected}
    unreadable = {}
    for account in by_name.values():
        documents, unreadable[account["name"]] = _user_documents(account, system)
        account["cache"] = cache_paths(documents, account["home"], hostname, ip)
    protected = list(PROTECTED) + sorted({os.path.dirname(program) for program in programs})
    plans = plan_targets(list(by_name.values()), params["config"], protected)
    processes = find_processes(programs)

    records = []
    for account in selected:
        plan = plans[account["name"]]
        plan["refused"] = unreadable[account["name"]] + plan["refused"]
        mine = [info for info in processes if account["uid"] in info["uids"]]
        record = _wipe_account(account, plan, mine, params, module.check_mode)
        if params["users"] or is_login_uid(account["uid"], bounds) or record["outcome"] != "nothing":
            records.append(record)
    for name in missing:
        records.append({"user": name, "uid": None, "home": None, "time": _now(), "outcome": "no-such-user",
                        "paths": [], "refused": [], "kept": [], "errors": [], "processes": [], "stopped": [],
                        "files": 0, "bytes": 0, "dirs": 0})

    changed = any(record["paths"] and (record["files"] or record["dirs"]) or record["stopped"] for record in records)
    module.exit_json(
        changed=bool(changed),
        hostname=hostname,
        users=records,
        files=sum(record["files"] for record in records),
        bytes=sum(record["bytes"] for record in records),
        summary=[_summary(record) for record in records],
        diff=[_diff(record) for record in records if record["paths"] or record["refused"]],
    )


if __name__ == "__main__":
    main()
