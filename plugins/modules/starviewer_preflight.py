# Copyright: contributors to medimaging.starviewer
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: starviewer_preflight
short_description: Compare the effective Starviewer AE titles of every workstation of the play, on the controller
version_added: 0.2.0
description:
  - Computes each workstation's effective local AE title the way Starviewer 2.0 will on that host (its host name and
    the first IPv4 address its own name resolves to, loopback included) and checks the whole fleet at once.
  - "Problems, all listed in one message with the host they concern: two or more workstations with the same title
    (also when they differ only in letter case or surrounding spaces, which many PACS ignore); a title longer than
    16 characters, empty, or with characters DICOM does not allow; a title that uses C(%IP%) or C(%IP.1%)..C(%IP.4%)
    while the host name resolves to a loopback address (stock Ubuntu maps it to 127.0.1.1, so all such hosts
    collide) or to no IPv4 address; C(%USERNAME%), which Starviewer 2.0 never expands; C(%HOMEPATH%), which
    differs per user; a PACS whose AE title equals a workstation's title."
  - The effective title comes from C(starviewer_local_ae_title) when it is set, else from the AE title already in
    the system settings (file or registry), else Starviewer's default, the host name.
  - Run it once (C(run_once)) after every host has set the fact named by O(facts_var); the role
    M(medimaging.starviewer.preflight) does both. It contacts no host.
  - Hosts whose fact says they were unreachable or could not be probed are left out of the comparison and reported
    as a warning, so that a workstation that is switched off does not stop a fleet run.
options:
  fail:
    description: Fail when a problem is found. With V(false) the problems are returned and shown as warnings.
    type: bool
    default: true
  hosts:
    description: Inventory names to compare. Defaults to every host of the play (C(ansible_play_hosts_all)).
    type: list
    elements: str
  facts_var:
    description:
      - Host variable holding what was read from each host, a dictionary with C(hostname), C(ip) (or null),
        C(configured) (C(starviewer_local_ae_title)), C(pacs) (C(starviewer_pacs)), C(connect_address)
        (C(ansible_host)), and either C(current) (the AE title in the system settings) or C(system_file) (the text of
        the Linux system settings file); or C(unreachable)/C(failed) with C(msg).
    type: str
    default: __starviewer_preflight_host
extends_documentation_fragment:
  - medimaging.starviewer.attributes
  - medimaging.starviewer.attributes.controller
notes:
  - A loopback address equal to the address Ansible connects to (C(ansible_host)) is accepted as the host's own
    address; test labs give each host its own 127.x.y.z address this way. Real workstations never match it.
  - Hosts of later C(serial) batches have not been probed yet; run the preflight in a play without C(serial).
  - A user's own settings file can still override the system AE title; only the system level is read.
seealso:
  - module: medimaging.starviewer.starviewer_probe
author:
  - medimaging.starviewer maintainers (@medimaging)
"""

EXAMPLES = r"""
- name: Compare the effective AE titles of the whole play
  medimaging.starviewer.starviewer_preflight:
    fail: "{{ starviewer_preflight_fail }}"
  run_once: true
  register: preflight

- name: Show each workstation's title
  ansible.builtin.debug:
    msg: "{{ preflight.titles }}"
  run_once: true
"""

RETURN = r"""
titles:
  description: Inventory name to effective AE title, for the hosts compared.
  returned: always
  type: dict
  sample: {ws-rad-01: SVRAD01, ws-rad-02: SVRAD02}
hosts:
  description: Per host, C(title), C(expression), C(source), C(hostname), C(ip) and the list of C(problems).
  returned: always
  type: dict
problems:
  description: "Every problem found, one C(host: problem) line each."
  returned: always
  type: list
  elements: str
left_out:
  description: Hosts left out of the comparison (unreachable or not probed), each mapped to the reason.
  returned: always
  type: dict
  sample: {ws-rad-07: "unreachable: Failed to connect to the host via ssh"}
msg:
  description: Summary; when the task fails, every problem follows, one per line.
  returned: always
  type: str
"""
