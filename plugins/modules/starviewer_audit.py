#!/usr/bin/python
# Copyright: contributors to medimaging.starviewer
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: starviewer_audit
short_description: Append the per-host, per-user records of a Starviewer data wipe to a JSON-lines audit file
version_added: 0.2.0
description:
  - Turns the results of M(medimaging.starviewer.starviewer_wipe) for many hosts into one JSON object per host and
    account (time, host, host name, user, uid, paths with their file and byte counts, totals, outcome, refused
    paths, errors, stopped processes) and appends them to a file.
  - Meant to run once, on the controller (C(run_once) and C(delegate_to=localhost)), with the results of every host
    of the play; all lines are appended in one write under an exclusive C(flock), so concurrent runs never
    interleave or lose lines.
  - A host without a wipe result (unreachable, failed before the wipe) gets one record with C(user=null) and
    outcome C(no-result), so the file shows every host the run was aimed at.
  - The file and its missing parent folders are created private to the controller user (modes 0600 and 0700).
options:
  path:
    description: The audit file.
    type: path
    required: true
    version_added: 0.2.0
  results:
    description: Inventory host name to the registered result of the wipe task on that host (or null).
    type: dict
    required: true
    version_added: 0.2.0
attributes:
  check_mode:
    support: full
    details: In check mode the records are returned and nothing is written.
  diff_mode:
    support: full
  platform:
    platforms: posix
extends_documentation_fragment:
  - medimaging.starviewer.attributes
seealso:
  - module: medimaging.starviewer.starviewer_wipe
author:
  - medimaging.starviewer maintainers (@medimaging)
"""

EXAMPLES = r"""
- name: Append the audit records of every host of the play
  medimaging.starviewer.starviewer_audit:
    path: /var/log/starviewer/wipe-audit.jsonl
    results: "{{ dict(ansible_play_hosts_all | zip(ansible_play_hosts_all | map('extract', hostvars, ['wipe_result'])
                 | map('default', none))) }}"
  run_once: true
  delegate_to: localhost
  become: false
"""

RETURN = r"""
records:
  description: The records appended (or that would be appended in check mode), in file order.
  returned: always
  type: list
  elements: dict
  sample:
    - time: "2026-12-04T10:15:00Z"
      host: ws-rad-01
      hostname: ws-rad-01
      user: jdoe
      uid: 1001
      paths: [{path: /home/jdoe/.starviewer, kind: data, files: 12, bytes: 3145728, dirs: 6}]
      files: 12
      bytes: 3145728
      dirs: 6
      outcome: wiped
      refused: []
      errors: []
      stopped: []
path:
  description: The audit file.
  returned: always
  type: str
"""

import fcntl
import json
import os
import time

from ansible.module_utils.basic import AnsibleModule


def _records(results: dict) -> list[dict]:
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    records = []
    for host in sorted(results):
        result = results[host]
        if not isinstance(result, dict) or not isinstance(result.get("users"), list):
            message = result.get("msg") if isinstance(result, dict) else None
            records.append({"time": now, "host": host, "hostname": None, "user": None, "uid": None, "paths": [],
                            "files": 0, "bytes": 0, "dirs": 0, "outcome": "no-result", "refused": [],
                            "errors": [{"path": None, "error": message}] if message else [], "stopped": []})
            continue
        for user in result["users"]:
            records.append({
                "time": user.get("time", now),
                "host": host,
                "hostname": result.get("hostname"),
                "user": user.get("user"),
                "uid": user.get("uid"),
                "paths": [{key: path.get(key) for key in ("path", "kind", "files", "bytes", "dirs")}
                          for path in user.get("paths", [])],
                "files": user.get("files", 0),
                "bytes": user.get("bytes", 0),
                "dirs": user.get("dirs", 0),
                "outcome": user.get("outcome"),
                "refused": user.get("refused", []),
                "errors": user.get("errors", []),
                "stopped": user.get("stopped", []),
            })
    return records


def _append(path: str, data: bytes) -> None:
    directory = os.path.dirname(path)
    if directory:
        # exist_ok: two runs finishing at once may both create the folder.
        os.makedirs(directory, 0o700, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        # The lock serialises appenders that also lock; O_APPEND plus one write covers the rest.
        fcntl.flock(fd, fcntl.LOCK_EX)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path", "required": True},
            "results": {"type": "dict", "required": True},
        },
        supports_check_mode=True,
    )
    path = module.params["path"]
    records = _records(module.params["results"])
    text = "".join(json.dumps(record, sort_keys=True, ensure_ascii=False) + "\n" for record in records)

    if records and not module.check_mode:
        try:
            _append(path, text.encode("utf-8"))
        except OSError as exc:
            module.fail_json(msg="cannot append to the audit file %s: %s" % (path, exc), records=records)
    module.exit_json(changed=bool(records), records=records, path=path,
                     diff={"before_header": path, "after_header": path + " (appended)", "before": "", "after": text})


if __name__ == "__main__":
    main()
