# Copyright: contributors to medimaging.starviewer
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Documentation only: the work is done by the action plugin of the same name.
from __future__ import annotations

DOCUMENTATION = r"""
module: starviewer_registry
short_description: Write Starviewer settings (or plain values) into the Windows registry with few round trips
version_added: 0.2.0
description:
  - Makes a registry tree below C(HKEY_LOCAL_MACHINE) hold the given content, with the value types Qt 5 on Windows
    uses. Strings and booleans are C(REG_SZ), integers C(REG_DWORD), string lists C(REG_MULTI_SZ), URLs C(REG_BINARY)
    (the UTF-16LE code units of C(@Variant(...)), no terminator). Arrays are C(name\size) plus C(name\1) ..
    C(name\n) subkeys, stale higher-numbered subkeys removed.
  - Reads the whole tree with one call of M(medimaging.starviewer.starviewer_registry_read), computes the difference
    on the controller (types and data compared in canonical form, C(REG_DWORD) unsigned) and, only when something
    differs and not in check mode, applies it with one call of M(medimaging.starviewer.starviewer_registry_apply).
    At most two remote calls whatever the number of values; a run that changes nothing makes one.
  - The PowerShell modules it calls cannot be run by the collection's automated tests (no Windows host); the
    controller side, the operations and their effect on a registry are tested with wine.
options:
  hive:
    description: Registry hive. Only C(HKLM) is supported.
    type: str
    choices: [HKLM]
    default: HKLM
  view:
    description: Registry view. Starviewer 2.0 is a 64-bit program, so the default is the 64-bit (native) view.
    type: str
    choices: ["64", "32"]
    default: "64"
  path:
    description: Root key below the hive, for example C(SOFTWARE\GILab\Starviewer).
    type: str
    required: true
  settings:
    description:
      - The C(settings) returned by M(medimaging.starviewer.starviewer_config) (C(set), C(remove), C(arrays)).
      - Setting keys map to subkeys as Qt does (C(PACS/pacsparam/AETitle) is the value C(AETitle) of C(PACS\pacsparam)).
        Keys not mentioned are left alone; arrays are replaced whole; removed list settings lose their whole key.
      - Mutually exclusive with O(values).
    type: dict
  values:
    description:
      - "Plain values to ensure, C({subkey: {name: value}}); V(\"\") names the root key or the default value. A value
        is a string (C(REG_SZ)) or C({type, data}). Other values and keys are left alone."
      - Mutually exclusive with O(settings).
    type: dict
attributes:
  action:
    description:
      - Indicates this has a corresponding action plugin so some parts of the options can be executed on the controller.
    support: full
  bypass_host_loop:
    description: Forces a 'global' task that does not execute per host.
    support: none
  check_mode:
    support: full
  diff_mode:
    support: full
    details: Before and after list every key and value of the tree, so the diff shows each value that changes.
  platform:
    platforms: windows
extends_documentation_fragment:
  - medimaging.starviewer.attributes
author:
  - medimaging.starviewer maintainers (@medimaging)
"""

EXAMPLES = r"""
- name: Write the Starviewer system settings
  medimaging.starviewer.starviewer_registry:
    path: SOFTWARE\GILab\Starviewer
    settings: "{{ __starviewer_config.settings }}"

- name: Register the starviewer:// URL handler
  medimaging.starviewer.starviewer_registry:
    path: SOFTWARE\Classes\starviewer
    values:
      "": {URL Protocol: ""}
      shell\open\command: {"": '"C:\Program Files\Starviewer\starviewer.exe" --url "%1"'}
"""

RETURN = r"""
operations:
  description: What was (or in check mode would be) done, in order; as sent to starviewer_registry_apply.
  returned: success
  type: list
  elements: dict
  sample:
    - {action: set_value, key: PacsList, name: size, type: REG_DWORD, data: 2}
    - {action: delete_key, key: PacsList\3}
"""
