#!/usr/bin/python
# Copyright: contributors to medimaging.starviewer
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: starviewer_probe
short_description: Read everything the Starviewer roles need from a Linux workstation in one call
version_added: 0.1.0
description:
  - Reads, without changing anything, the installed Starviewer package version, the host name and the first IPv4
    address its own name resolves to (what Starviewer uses for C(%HOSTNAME%) and C(%IP%)), and the content,
    owner and mode of a list of files.
  - The result is stored as the fact C(ansible_facts.starviewer) so that the roles decide on the controller
    whether any further task is needed. On a re-run with nothing to change this is the only module the roles
    send to the host.
  - This replaces M(ansible.builtin.setup), which gathers far more than the roles use and costs more per host.
options:
  package:
    description: Name of the Debian package to report.
    type: str
    default: starviewer
  paths:
    description:
      - Files to read besides the standard ones. Each is reported under its path in
        RV(ansible_facts.starviewer.files).
      - The standard files, always read, are C(/etc/xdg/GILab/Starviewer.conf), C(/opt/starviewer),
        C(/opt/starviewer/settingsAccessLevel.ini), C(/usr/share/applications/StarviewerUrlHandler.desktop),
        C(/usr/share/applications/mimeinfo.cache) and C(/etc/xdg/mimeapps.list).
      - Files larger than O(max_size) are reported without content.
    type: list
    elements: path
    default: []
  max_size:
    description: Largest file, in bytes, whose content is returned.
    type: int
    default: 4194304
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  facts:
    support: full
  platform:
    platforms: posix
extends_documentation_fragment:
  - medimaging.starviewer.attributes
  - medimaging.starviewer.attributes.facts
notes:
  - File content is returned decoded as Latin-1, which maps every byte to one character and back, so the
    controller sees the exact bytes (Qt 5 itself reads INI files this way).
seealso:
  - module: medimaging.starviewer.qt_settings
author:
  - medimaging.starviewer maintainers (@medimaging)
"""

EXAMPLES = r"""
- name: Read Starviewer state
  medimaging.starviewer.starviewer_probe:
    paths:
      - /etc/xdg/GILab/Starviewer.conf
      - /opt/starviewer/settingsAccessLevel.ini

- name: Show the installed version
  ansible.builtin.debug:
    msg: "{{ ansible_facts.starviewer.package.version | default('not installed', true) }}"
"""

RETURN = r"""
ansible_facts:
  description: Facts added under C(starviewer).
  returned: always
  type: dict
  contains:
    starviewer:
      description: The state read from the host.
      type: dict
      contains:
        os_family:
          description: C(Debian) for Debian and Ubuntu family hosts, otherwise the C(ID) of C(/etc/os-release).
          type: str
          sample: Debian
        hostname:
          description: The OS host name, as C(gethostname) returns it (Starviewer's C(%HOSTNAME%)).
          type: str
          sample: radws-0042
        ip:
          description:
            - First IPv4 address among those the host's own name resolves to, loopback included
              (Starviewer's C(%IP%)); null when there is none.
          type: str
          sample: 127.0.1.1
        package:
          description: Package state from dpkg.
          type: dict
          contains:
            name:
              description: Package name.
              type: str
            version:
              description: Installed version, empty when not installed.
              type: str
        files:
          description: One entry per requested path.
          type: dict
          sample:
            /opt/starviewer/settingsAccessLevel.ini:
              exists: true
              content: "[General]\nsettingsAccessLevelVersion=1.0\n"
              owner: root
              group: root
              mode: "0644"
"""

import grp
import os
import pwd
import socket
import stat

from ansible.module_utils.basic import AnsibleModule

# What the roles of this collection read with their default variables: one probe at the start of a run covers all.
STANDARD_PATHS = (
    "/etc/xdg/GILab/Starviewer.conf",
    "/opt/starviewer",
    "/opt/starviewer/settingsAccessLevel.ini",
    "/usr/share/applications/StarviewerUrlHandler.desktop",
    "/usr/share/applications/mimeinfo.cache",
    "/etc/xdg/mimeapps.list",
)


def _os_family() -> str:
    fields = {}
    try:
        with open("/etc/os-release", encoding="utf-8") as handle:
            for line in handle:
                key, sep, value = line.strip().partition("=")
                if sep:
                    fields[key] = value.strip().strip('"')
    except OSError:
        return ""
    ids = [fields.get("ID", "")] + fields.get("ID_LIKE", "").split()
    return "Debian" if "debian" in ids or "ubuntu" in ids else fields.get("ID", "")


def _first_ipv4(hostname: str) -> str | None:
    # Qt's QHostInfo::fromName asks getaddrinfo with AF_UNSPEC and AI_ADDRCONFIG and keeps the resolver's order;
    # Starviewer then takes the first address that looks like IPv4, loopback included.
    try:
        infos = socket.getaddrinfo(hostname, None, socket.AF_UNSPEC, 0, 0, socket.AI_ADDRCONFIG)
    except (socket.gaierror, UnicodeError):
        return None
    for family, _type, _proto, _name, sockaddr in infos:
        if family == socket.AF_INET:
            return sockaddr[0]
    return None


def _package_version(module: AnsibleModule, name: str) -> str:
    dpkg_query = module.get_bin_path("dpkg-query")
    if not dpkg_query:
        return ""
    rc, out, _err = module.run_command([dpkg_query, "-W", "-f=${db:Status-Abbrev}|${Version}", name])
    if rc != 0:
        return ""
    status, _sep, version = out.partition("|")
    # "ii " is installed; "rc " (removed, config kept) and half-installed states are reported as absent.
    return version.strip() if status.startswith("ii") else ""


def _read_file(path: str, max_size: int) -> dict:
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return {"exists": False}
    except OSError as exc:  # e.g. a parent that is a regular file
        return {"exists": False, "error": str(exc)}
    entry = {
        "exists": True,
        "is_file": stat.S_ISREG(info.st_mode),
        "mode": "%04o" % stat.S_IMODE(info.st_mode),
        "owner": _name(pwd.getpwuid, info.st_uid),
        "group": _name(grp.getgrgid, info.st_gid),
        "size": info.st_size,
    }
    if stat.S_ISLNK(info.st_mode):
        # Report what the link points to: the roles write through links, so that is the content that counts.
        entry["link_target"] = os.path.realpath(path)
        try:
            info = os.stat(path)
        except OSError:
            return entry
        entry.update(is_file=stat.S_ISREG(info.st_mode), mode="%04o" % stat.S_IMODE(info.st_mode),
                     owner=_name(pwd.getpwuid, info.st_uid), group=_name(grp.getgrgid, info.st_gid), size=info.st_size)
    if entry["is_file"] and info.st_size <= max_size:
        try:
            with open(path, "rb") as handle:
                entry["content"] = handle.read().decode("latin-1")
        except OSError as exc:
            entry["error"] = str(exc)
    return entry


def _name(lookup, ident: int) -> str:
    try:
        return lookup(ident)[0]
    except KeyError:
        return str(ident)


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "package": {"type": "str", "default": "starviewer"},
            "paths": {"type": "list", "elements": "path", "default": []},
            "max_size": {"type": "int", "default": 4194304},
        },
        supports_check_mode=True,
    )
    hostname = socket.gethostname()
    facts = {
        "os_family": _os_family(),
        "hostname": hostname,
        "ip": _first_ipv4(hostname),
        "package": {"name": module.params["package"], "version": _package_version(module, module.params["package"])},
        "files": {
            path: _read_file(path, module.params["max_size"])
            for path in dict.fromkeys(STANDARD_PATHS + tuple(module.params["paths"]))
        },
    }
    module.exit_json(changed=False, ansible_facts={"starviewer": facts})


if __name__ == "__main__":
    main()
