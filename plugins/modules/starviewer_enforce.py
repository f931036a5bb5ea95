#!/usr/bin/python
# Copyright: contributors to medimaging.starviewer
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: starviewer_enforce
short_description: Remove users' own values of system-level Starviewer settings so the system value applies
version_added: 0.2.0
description:
  - Starviewer 2.0 never loads C(settingsAccessLevel.ini), so a value a user saved always wins over the system
    settings file (Qt reads the user's files first and falls back to C(/etc/xdg) only for missing keys). This
    module removes the given keys from each user's C(~/.config/GILab/Starviewer.conf) and C(~/.config/GILab.conf)
    (the two files Qt reads before the system files), so that every user gets the system value.
  - Removing a group or array name (for example C(PacsList)) removes every key below it, as C(QSettings::remove)
    does. Every other byte of the files is kept; the files keep their owner, group and mode and are replaced
    atomically. A file that is a symbolic link, or is reached through one, is refused and reported.
  - An account whose Starviewer is running is skipped and reported when its files need a change (Starviewer would
    write its values back when it exits).
options:
  keys:
    description: Setting keys to remove from the users' files (the keys declared C(system)).
    type: list
    elements: str
    required: true
    version_added: 0.2.0
  users:
    description:
      - Account names. Empty means every account the passwd database enumerates whose home is not C(/).
      - A named account that does not exist is reported with outcome C(no-such-user).
    type: list
    elements: str
    default: []
    version_added: 0.2.0
  programs:
    description:
      - Paths of the Starviewer executable, to find running instances (see M(medimaging.starviewer.starviewer_wipe)).
    type: list
    elements: path
    default: [/opt/starviewer/starviewer]
    version_added: 0.2.0
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  platform:
    platforms: posix
extends_documentation_fragment:
  - medimaging.starviewer.attributes
notes:
  - Extended attributes and ACLs of an edited file are not carried over to the new file.
seealso:
  - module: medimaging.starviewer.qt_settings
  - module: medimaging.starviewer.starviewer_wipe
author:
  - medimaging.starviewer maintainers (@medimaging)
"""

EXAMPLES = r"""
- name: Make the system PACS list and AE title win for every user
  medimaging.starviewer.starviewer_enforce:
    keys: [PacsList, PACS/pacsparam/AETitle]
"""

RETURN = r"""
users:
  description: One record per account that has a file, needs a change, or is an ordinary account.
  returned: always
  type: list
  elements: dict
  contains:
    user:
      description: Account name.
      type: str
    outcome:
      description:
        - C(enforced), C(would-enforce) (check mode), C(unchanged), C(no-config) (no user file),
          C(skipped-running), C(refused), C(error) or C(no-such-user).
      type: str
    files:
      description: Files that hold (or held) some of the keys, with the keys removed.
      type: list
      elements: dict
      sample: [{path: /home/jdoe/.config/GILab/Starviewer.conf, removed: [PACS/pacsparam/AETitle]}]
    refused:
      description: Files left alone and why.
      type: list
      elements: dict
    processes:
      description: Starviewer processes of the account (pid and command line).
      type: list
      elements: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.medimaging.starviewer.plugins.module_utils.qt_ini import diff_keys, merge
from ansible_collections.medimaging.starviewer.plugins.module_utils.user_data import (
    USER_CONFIG,
    USER_ORG_CONFIG,
    PathRefused,
    find_processes,
    is_login_uid,
    list_accounts,
    read_user_file,
    replace_user_file,
    uid_range,
)


def _plan_account(account: dict, keys: list) -> tuple[list, list, list]:
    """(changes, refused, errors) for one account; a change is (path, before, after, stat, removed keys)."""
    changes, refused, errors = [], [], []
    for rel in (USER_CONFIG, USER_ORG_CONFIG):
        path = account["home"] + "/" + rel
        try:
            found = read_user_file(path, account["home"])
        except PathRefused as exc:
            refused.append({"path": path, "reason": str(exc)})
            continue
        except OSError as exc:
            errors.append({"path": path, "error": str(exc)})
            continue
        if found is None:
            continue
        before, info = found
        try:
            after = merge(before, {}, keys)
        except ValueError as exc:
            errors.append({"path": path, "error": str(exc)})
            continue
        removed = [key for key, _old, _new in diff_keys(before, after)]
        changes.append((path, before, after, info, removed))
    return changes, refused, errors


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            # Setting names, not secrets.
            "keys": {"type": "list", "elements": "str", "required": True, "no_log": False},
            "users": {"type": "list", "elements": "str", "default": []},
            "programs": {"type": "list", "elements": "path", "default": ["/opt/starviewer/starviewer"]},
        },
        supports_check_mode=True,
    )
    keys = module.params["keys"]
    try:
        with open("/etc/login.defs", encoding="latin-1") as handle:
            bounds = uid_range(handle.read())
    except OSError:
        bounds = uid_range(None)
    accounts, missing = list_accounts(module.params["users"] or None)
    processes = find_processes(module.params["programs"])

    records, diffs = [], []
    for account in accounts:
        changes, refused, errors = _plan_account(account, keys)
        mine = [info for info in processes if account["uid"] in info["uids"]]
        needed = [change for change in changes if change[2] != change[1]]
        record = {"user": account["name"], "uid": account["uid"], "home": account["home"],
                  "files": [{"path": change[0], "removed": change[4]} for change in needed],
                  "refused": refused, "errors": errors,
                  "processes": [{"pid": info["pid"], "cmdline": " ".join(info["cmdline"])} for info in mine]}
        if needed and mine:
            record["outcome"] = "skipped-running"
        else:
            for path, before, after, info, _removed in needed:
                diffs.append({"before_header": path, "after_header": path,
                              "before": before.decode("latin-1"), "after": after.decode("latin-1")})
                if not module.check_mode:
                    try:
                        replace_user_file(path, account["home"], after, info)
                    except (PathRefused, OSError) as exc:
                        errors.append({"path": path, "error": str(exc)})
            if errors:
                record["outcome"] = "error"
            elif refused:
                record["outcome"] = "refused"
            elif needed:
                record["outcome"] = "would-enforce" if module.check_mode else "enforced"
            else:
                record["outcome"] = "unchanged" if changes else "no-config"
        if module.params["users"] or is_login_uid(account["uid"], bounds) or record["outcome"] != "no-config":
            records.append(record)
    for name in missing:
        records.append({"user": name, "uid": None, "home": None, "outcome": "no-such-user", "files": [],
                        "refused": [], "errors": [], "processes": []})

    changed = any(record["outcome"] in ("enforced", "would-enforce") for record in records)
    module.exit_json(changed=changed, users=records, diff=diffs)


if __name__ == "__main__":
    main()
