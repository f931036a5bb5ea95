# Copyright: contributors to medimaging.starviewer
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: starviewer_config
short_description: Validate Starviewer variables and compute the settings to write, on the controller
version_added: 0.1.0
description:
  - Checks the public C(starviewer_*) configuration of a host and turns it into the exact Qt settings Starviewer 2.0
    reads (PACS list, default PACS to query, local AE title and port, external applications, any other known key)
    and the text of C(settingsAccessLevel.ini).
  - Runs entirely on the controller and contacts no host, so a playbook can check the whole fleet before anything
    changes. The first problem found fails the host with the variable, the value and what is allowed.
options:
  pacs:
    description: The PACS list, as the role variable C(starviewer_pacs). V(null) leaves the PACS list unmanaged.
    type: list
    elements: dict
  local_ae_title:
    description: C(starviewer_local_ae_title), which may contain C(%VAR%[n:c]) expressions.
    type: str
  local_port:
    description: C(starviewer_local_port).
    type: int
  external_applications:
    description: C(starviewer_external_applications).
    type: list
    elements: dict
  settings:
    description: C(starviewer_settings), any other known key to a value.
    type: dict
  settings_remove:
    description: C(starviewer_settings_remove), keys to delete.
    type: list
    elements: str
  system_settings:
    description: C(starviewer_system_settings), keys declared C(system) in C(settingsAccessLevel.ini).
    type: list
    elements: str
extends_documentation_fragment:
  - medimaging.starviewer.attributes
  - medimaging.starviewer.attributes.controller
author:
  - medimaging.starviewer maintainers (@medimaging)
"""

EXAMPLES = r"""
- name: Check the configuration and compute the settings
  medimaging.starviewer.starviewer_config:
    pacs: "{{ starviewer_pacs }}"
    local_ae_title: "{{ starviewer_local_ae_title }}"
    local_port: "{{ starviewer_local_port }}"
  register: __config
"""

RETURN = r"""
settings:
  description: Arguments for M(medimaging.starviewer.qt_settings).
  returned: success
  type: dict
  contains:
    set:
      description: Keys to set.
      type: dict
    remove:
      description: Keys to remove.
      type: list
    arrays:
      description: Arrays to replace whole.
      type: dict
access_level_ini:
  description: Text of C(settingsAccessLevel.ini); null when no system key is declared.
  returned: success
  type: str
pacs:
  description: The PACS list with defaults applied and IDs assigned.
  returned: success
  type: list
  elements: dict
"""
