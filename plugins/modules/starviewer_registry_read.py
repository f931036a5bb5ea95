# Copyright: contributors to medimaging.starviewer
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Documentation of the PowerShell module starviewer_registry_read.ps1 beside this file.
from __future__ import annotations

DOCUMENTATION = r"""
module: starviewer_registry_read
short_description: Read whole registry trees of a Windows host in one call
version_added: 0.2.0
description:
  - Returns every key and value below each of O(paths) in C(HKEY_LOCAL_MACHINE), opened in an explicit registry
    view (64-bit by default, so a 32-bit PowerShell does not read C(WOW6432Node) instead).
  - Used by M(medimaging.starviewer.starviewer_registry) and M(medimaging.starviewer.starviewer_msi_info), which
    take every decision on the controller. Changes nothing.
  - This PowerShell module is kept small on purpose and is not run by the collection's automated tests, which have
    no Windows host; the C(windows) molecule scenario runs it on a real host.
options:
  hive:
    description: Registry hive. Only C(HKLM) is supported.
    type: str
    choices: [HKLM]
    default: HKLM
  view:
    description: Registry view, C(64) (native) or C(32) (C(WOW6432Node)).
    type: str
    choices: ["64", "32"]
    default: "64"
  paths:
    description: Key paths below the hive, for example C(SOFTWARE\GILab\Starviewer).
    type: list
    elements: str
    required: true
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: windows
extends_documentation_fragment:
  - medimaging.starviewer.attributes
author:
  - medimaging.starviewer maintainers (@medimaging)
"""

EXAMPLES = r"""
- name: Read the Starviewer system settings
  medimaging.starviewer.starviewer_registry_read:
    paths: ['SOFTWARE\GILab\Starviewer']
  register: __tree
"""

RETURN = r"""
trees:
  description: One entry per requested path, in order.
  returned: success
  type: list
  elements: dict
  contains:
    path:
      description: The requested path.
      type: str
    exists:
      description: Whether the key exists.
      type: bool
    keys:
      description:
        - The key and every key below it, parents first. C(key) is relative to C(path) (V("") for the key itself);
          C(values) lists C(name) (V("") is the default value), C(type) (C(REG_SZ), C(REG_DWORD), ...) and C(data).
        - C(data) is text for C(REG_SZ) and C(REG_EXPAND_SZ) (not expanded), an unsigned number for C(REG_DWORD) and
          C(REG_QWORD), a list for C(REG_MULTI_SZ) and base64 text for every other type.
      type: list
      elements: dict
"""
