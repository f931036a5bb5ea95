# Copyright: contributors to medimaging.starviewer
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: starviewer_push
short_description: Send an installer already verified on the controller to a Linux workstation
version_added: 0.2.0
description:
  - Sends a file to the workstation the way M(ansible.builtin.copy) does (a remote stat, a transfer into the remote
    temporary folder, the copy module to put it in place with owner, group and mode), but without hashing the file
    on the controller again for each host. The SHA-1 comes from M(medimaging.starviewer.starviewer_installer),
    which computed it once, in the same read as the SHA-256 it verified.
  - The remote copy module checks the bytes it received against that SHA-1, so a file changed on the controller
    after the check fails on the workstation and is not put in place.
  - Nothing is sent when the destination already holds a file with that SHA-1; only owner, group and mode are then
    set when they differ.
  - The file is not checked for an Ansible Vault header (an installer never is one).
options:
  src:
    description: The file on the controller, an absolute path.
    type: path
    required: true
  dest:
    description: Absolute path of the file on the workstation. Its folder must exist.
    type: path
    required: true
  sha1:
    description: SHA-1 of O(src), 40 hexadecimal digits, as C(starviewer_installer) returns it.
    type: str
    required: true
  owner:
    description: Owner of O(dest).
    type: str
  group:
    description: Group of O(dest).
    type: str
  mode:
    description: Mode of O(dest), as a string such as C("0600").
    type: raw
extends_documentation_fragment:
  - medimaging.starviewer.attributes
attributes:
  action:
    description: The transfer runs in an action plugin on the controller; the copy module runs on the workstation.
    support: full
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: posix
author:
  - medimaging.starviewer maintainers (@medimaging)
"""

EXAMPLES = r"""
- name: Copy the verified installer
  medimaging.starviewer.starviewer_push:
    src: "{{ __installer.installer.path }}"
    dest: /var/cache/starviewer/{{ __installer.installer.filename }}
    sha1: "{{ __installer.installer.sha1 }}"
    owner: root
    group: root
    mode: "0600"
"""

RETURN = r"""
dest:
  description: The file on the workstation.
  returned: always
  type: str
checksum:
  description: SHA-1 of the file on the workstation.
  returned: success
  type: str
sent:
  description: Bytes sent to the workstation (0 when it already had the file, or in check mode).
  returned: always
  type: int
"""
