# Copyright: contributors to medimaging.starviewer
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Documentation only: the work is done by the action plugin of the same name.
from __future__ import annotations

DOCUMENTATION = r"""
module: starviewer_export
short_description: Write a Starviewer configuration as .reg, Starviewer.conf and settingsAccessLevel.ini files
version_added: 0.2.0
description:
  - Writes, in the controller folder O(dest)/O(name), the configuration the roles would apply, for sites that
    distribute it by group policy or another deployment tool.
  - C(Starviewer.reg), for C(HKEY_LOCAL_MACHINE\SOFTWARE\GILab\Starviewer), regedit version 5 (UTF-16LE with byte
    order mark, CRLF, regedit's C(hex:) line wrapping), with the value types Qt 5 uses on Windows. Each list setting
    (C(PacsList), ...) is deleted whole (C([-...\PacsList])) before it is written, so importing the file leaves no
    stale C(PacsList\N) whatever the workstation held; removed keys are deleted (C("name"=-)).
  - C(Starviewer.conf), the Linux system settings file (C(/etc/xdg/GILab/Starviewer.conf)) as Qt 5 writes it.
  - C(settingsAccessLevel.ini) when system keys are declared (deleted from the folder otherwise).
  - Runs on the controller and contacts no host. Files are replaced atomically and only when their bytes change.
options:
  dest:
    description: Controller folder that receives one subfolder per O(name).
    type: path
    required: true
  name:
    description: Subfolder name, for example the host or group name. No slashes.
    type: str
    required: true
  settings:
    description: The C(settings) returned by M(medimaging.starviewer.starviewer_config).
    type: dict
    required: true
  access_level_ini:
    description: The C(access_level_ini) returned by M(medimaging.starviewer.starviewer_config), or null.
    type: str
  registry_path:
    description: Registry key of the settings.
    type: str
    default: HKLM\SOFTWARE\GILab\Starviewer
attributes:
  action:
    support: full
  bypass_host_loop:
    support: none
  check_mode:
    support: full
  diff_mode:
    support: full
  platform:
    platforms: all
extends_documentation_fragment:
  - medimaging.starviewer.attributes
author:
  - medimaging.starviewer maintainers
"""

EXAMPLES = r"""
- name: Write the files for this host
  medimaging.starviewer.starviewer_export:
    dest: /srv/starviewer-config
    name: "{{ inventory_hostname }}"
    settings: "{{ __starviewer_config.settings }}"
    access_level_ini: "{{ __starviewer_access_config.access_level_ini }}"
  delegate_to: localhost
"""

RETURN = r"""
folder:
  description: The folder written.
  returned: success
  type: str
files:
  description: Files the folder holds for this configuration.
  returned: success
  type: list
  elements: str
changed_files:
  description: Files written or deleted (or that would be, in check mode).
  returned: success
  type: list
  elements: str
"""
