# Copyright: contributors to medimaging.starviewer
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Documentation of the PowerShell module starviewer_registry_apply.ps1 beside this file.
from __future__ import annotations

DOCUMENTATION = r"""
module: starviewer_registry_apply
short_description: Apply registry operations computed on the controller, in one call
version_added: 0.2.0
description:
  - Creates keys, sets typed values, deletes values and deletes key trees below O(path) in C(HKEY_LOCAL_MACHINE), in
    the given order, in an explicit registry view.
  - Called by M(medimaging.starviewer.starviewer_registry), which computes the operations from the state read by
    M(medimaging.starviewer.starviewer_registry_read); not meant to be used directly.
  - This PowerShell module is kept small on purpose and is not run by the collection's automated tests, which have
    no Windows host; the operations it receives are tested by replaying them through wine as a C(.reg) file.
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
  path:
    description: Root key below the hive; every operation's C(key) is relative to it. The root itself is never deleted.
    type: str
    required: true
  operations:
    description: Operations in the order to apply them.
    type: list
    elements: dict
    required: true
    suboptions:
      action:
        description: What to do.
        type: str
        choices: [create_key, set_value, delete_value, delete_key]
        required: true
      key:
        description: Key path relative to O(path) (V("") is the root).
        type: str
        required: true
      name:
        description: Value name for C(set_value) and C(delete_value) (V("") is the default value).
        type: str
      type:
        description: Value type for C(set_value).
        type: str
        choices: [REG_SZ, REG_EXPAND_SZ, REG_BINARY, REG_DWORD, REG_MULTI_SZ, REG_QWORD]
      data:
        description:
          - Value data for C(set_value). Text for C(REG_SZ) and C(REG_EXPAND_SZ), an unsigned number for
            C(REG_DWORD) and C(REG_QWORD), a list of strings for C(REG_MULTI_SZ), base64 text for C(REG_BINARY).
        type: raw
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
    details: The calling action plugin reports the difference per value.
  platform:
    platforms: windows
extends_documentation_fragment:
  - medimaging.starviewer.attributes
author:
  - medimaging.starviewer maintainers
"""

EXAMPLES = r"""
- name: Set one value (normally called by medimaging.starviewer.starviewer_registry)
  medimaging.starviewer.starviewer_registry_apply:
    path: SOFTWARE\GILab\Starviewer
    operations:
      - {action: set_value, key: PACS\pacsparam, name: localPort, type: REG_SZ, data: "4007"}
"""

RETURN = r"""
applied:
  description: Number of operations applied (absent in check mode).
  returned: success and not check mode
  type: int
"""
