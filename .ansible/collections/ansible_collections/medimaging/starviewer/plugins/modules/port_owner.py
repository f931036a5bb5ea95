#!/usr/bin/python
# Copyright: contributors to medimaging.starviewer
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: port_owner
short_description: Tell whether a local TCP port is free and which processes listen on it
version_added: 0.2.0
description:
  - Reads C(/proc/net/tcp) and C(/proc/net/tcp6) for sockets listening on O(port), then C(/proc/*/fd) to find the
    processes that hold them. Nothing is changed and no connection is made.
  - Used to check that Starviewer's local DICOM port and RIS port are either free (Starviewer can take them when it
    starts) or already held by Starviewer, and not by another program.
  - Only the network namespace of the module is seen, which is the host's unless the module runs in a container.
options:
  port:
    description: TCP port to look up.
    type: int
    required: true
  names:
    description:
      - Program names accepted as owners (compared case-insensitively with the start of the process name and of the
        executable's file name).
      - RV(owned) is true when the port is free or every process listening on it has one of these names.
    type: list
    elements: str
    default: [starviewer]
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: linux
extends_documentation_fragment:
  - medimaging.starviewer.attributes
notes:
  - Run it as root (C(become)) to see processes of other users; otherwise a port held by another user's process is
    reported with an empty RV(processes) list and RV(hidden=true).
author:
  - medimaging.starviewer maintainers (@medimaging)
"""

EXAMPLES = r"""
- name: Who holds Starviewer's local DICOM port
  medimaging.starviewer.port_owner:
    port: 4006
  become: true
  register: dimse_port

- name: Fail when another program holds it
  ansible.builtin.assert:
    that: dimse_port.owned
    fail_msg: "port 4006 is held by {{ dimse_port.processes | map(attribute='name') | join(', ') }}"
"""

RETURN = r"""
listening:
  description: Whether any socket listens on the port (IPv4 or IPv6).
  returned: always
  type: bool
addresses:
  description: Local addresses the listening sockets are bound to.
  returned: always
  type: list
  elements: str
  sample: ["0.0.0.0", "::"]
processes:
  description: Processes holding a listening socket on the port.
  returned: always
  type: list
  elements: dict
  contains:
    pid:
      description: Process id.
      type: int
    name:
      description: Process name (C(/proc/PID/comm)).
      type: str
    exe:
      description: Executable path, empty when it cannot be read.
      type: str
    user:
      description: Owner of the process.
      type: str
hidden:
  description: A listening socket was found but no process holding it could be seen (not running as root).
  returned: always
  type: bool
owned:
  description: True when the port is free or held only by processes named in O(names).
  returned: always
  type: bool
msg:
  description: One sentence with the answer.
  returned: always
  type: str
  sample: "port 4006 is held by python3 (pid 812, /usr/bin/python3.11, user clinician)"
"""

import ipaddress
import os
import pwd

from ansible.module_utils.basic import AnsibleModule

_LISTEN = "0A"


def _address(hex_address: str) -> str:
    """Text form of a /proc/net/tcp{,6} address (32-bit words in host order; x86 and arm64 are little endian)."""
    raw = bytes.fromhex(hex_address)
    return str(ipaddress.ip_address(b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))))


def listening_inodes(port: int, tables: tuple = ("/proc/net/tcp", "/proc/net/tcp6")) -> dict[str, str]:
    """Socket inode -> bound address of the sockets listening on ``port``."""
    found = {}
    for table in tables:
        try:
            with open(table, encoding="ascii") as handle:
                lines = handle.readlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) < 10 or fields[3] != _LISTEN:
                continue
            address, _sep, hex_port = fields[1].partition(":")
            if int(hex_port, 16) == port:
                found[fields[9]] = _address(address)
    return found


def holders(inodes: set[str], proc: str = "/proc") -> list[dict]:
    """Processes with a file descriptor on one of the socket ``inodes``."""
    wanted = {"socket:[%s]" % inode for inode in inodes}
    result = []
    for entry in os.listdir(proc):
        if not entry.isdigit():
            continue
        fd_dir = os.path.join(proc, entry, "fd")
        try:
            fds = os.listdir(fd_dir)
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(os.path.join(fd_dir, fd))
            except OSError:
                continue
            if target in wanted:
                result.append(_process(proc, int(entry)))
                break
    return result


def _process(proc: str, pid: int) -> dict:
    base = os.path.join(proc, str(pid))
    try:
        with open(os.path.join(base, "comm"), encoding="utf-8", errors="replace") as handle:
            name = handle.read().strip()
    except OSError:
        name = ""
    try:
        exe = os.readlink(os.path.join(base, "exe"))
    except OSError:
        exe = ""
    try:
        user = pwd.getpwuid(os.stat(base).st_uid).pw_name
    except (OSError, KeyError):
        user = ""
    return {"pid": pid, "name": name, "exe": exe, "user": user}


def is_named(process: dict, names: list[str]) -> bool:
    candidates = [process["name"].lower(), os.path.basename(process["exe"]).lower()]
    return any(c.startswith(n.lower()) for c in candidates if c for n in names)


def describe(port: int, names: list[str], addresses: list[str], processes: list[dict]) -> dict:
    """The module result (without changed) for what was found."""
    listening = bool(addresses)
    hidden = listening and not processes
    owned = not listening or (not hidden and all(is_named(p, names) for p in processes))
    if not listening:
        msg = "port %d is free" % port
    elif hidden:
        msg = "port %d is held by a process this user cannot see (run as root to name it)" % port
    else:
        msg = "port %d is held by %s" % (port, ", ".join(
            "%s (pid %d, %s, user %s)" % (p["name"], p["pid"], p["exe"] or "executable unknown", p["user"] or "?")
            for p in processes))
    return {"listening": listening, "addresses": sorted(set(addresses)), "processes": processes, "hidden": hidden,
            "owned": owned, "msg": msg}


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "port": {"type": "int", "required": True},
            "names": {"type": "list", "elements": "str", "default": ["starviewer"]},
        },
        supports_check_mode=True,
    )
    port = module.params["port"]
    if not 0 < port < 65536:
        module.fail_json(msg="port: got %r; allowed: 1 to 65535" % port)
    if not os.path.exists("/proc/net/tcp"):
        module.fail_json(msg="/proc/net/tcp is missing: this module needs Linux with /proc mounted")
    inodes = listening_inodes(port)
    processes = holders(set(inodes)) if inodes else []
    module.exit_json(changed=False, **describe(port, module.params["names"], list(inodes.values()), processes))


if __name__ == "__main__":
    main()
