# Copyright: contributors to medimaging.starviewer
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Documentation: windows_profiles.yml beside this file.
"""The windows_profiles filter: user profiles and how to reach their registry hive, from reg export output."""

from __future__ import annotations

import base64
import binascii

from ansible.errors import AnsibleFilterError

from ansible_collections.medimaging.starviewer.plugins.module_utils.windows_profiles import (
    export_state,
    loaded_hives,
    plan_profiles,
)


def export_bytes(export: object, name: str) -> bytes | str:
    """A reg export as an ansible.builtin.slurp result (base64) or as decoded text."""
    if isinstance(export, dict) and export.get("encoding") == "base64" and isinstance(export.get("content"), str):
        try:
            return base64.b64decode(export["content"], validate=True)
        except (binascii.Error, ValueError):
            raise AnsibleFilterError("%s: the slurp content is not base64" % name) from None
    if isinstance(export, str):
        return export
    raise AnsibleFilterError("%s: got %r of type %s; allowed: the registered result of ansible.builtin.slurp or "
                             "ansible.windows.slurp of a reg export file, or its text" % (name, export,
                                                                                          type(export).__name__))


def windows_profiles(profile_list: object, *, loaded: object = "", users: object = None,
                     environment: object = None) -> dict:
    """{"profiles": [...], "skipped": [...]} from the ProfileList export and the ``reg query HKU`` output."""
    data = export_bytes(profile_list, "windows_profiles")
    if isinstance(loaded, (list, tuple)):
        loaded = "\n".join(str(line) for line in loaded)
    if not isinstance(loaded, str):
        raise AnsibleFilterError("windows_profiles: loaded: got %r; allowed: reg query HKU output (text or lines)"
                                 % (loaded,))
    if users is not None and not (isinstance(users, (list, tuple)) and all(isinstance(u, str) for u in users)):
        raise AnsibleFilterError("windows_profiles: users: got %r; allowed: a list of names or SIDs" % (users,))
    if environment is not None and not isinstance(environment, dict):
        raise AnsibleFilterError("windows_profiles: environment: got %r; allowed: a dictionary" % (environment,))
    try:
        profiles, skipped = plan_profiles(export_state(data), loaded_hives(loaded), list(users or []),
                                          {str(k): str(v) for k, v in (environment or {}).items()})
    except ValueError as exc:
        raise AnsibleFilterError("windows_profiles: %s" % exc) from None
    return {"profiles": profiles, "skipped": skipped}


class FilterModule:
    """medimaging.starviewer.windows_profiles."""

    def filters(self) -> dict:
        return {"windows_profiles": windows_profiles}
