# Copyright: contributors to medimaging.starviewer
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Documentation: starviewer_reg_deletions.yml beside this file.
"""The starviewer_reg_deletions filter: a .reg file deleting users' Starviewer keys or system-level values."""

from __future__ import annotations

import base64

from ansible.errors import AnsibleFilterError

from ansible_collections.medimaging.starviewer.plugins.filter.windows_profiles import export_bytes
from ansible_collections.medimaging.starviewer.plugins.module_utils.windows_profiles import (
    deletion_reg,
    enforce_deletions,
    export_state,
    wipe_deletions,
)


def starviewer_reg_deletions(profiles: object, *, keys: object = None, state: object = None,
                             organization: bool = False, format: str = "text") -> str:
    """.reg text (or base64 of regedit's UTF-16LE bytes) for a wipe (no ``keys``) or an enforcement (``keys``)."""
    if isinstance(profiles, dict):
        profiles = [profiles]
    if not isinstance(profiles, list) or not all(isinstance(p, dict) and isinstance(p.get("hive"), str)
                                                 for p in profiles):
        raise AnsibleFilterError("starviewer_reg_deletions: got %r; allowed: profiles from the windows_profiles "
                                 "filter (dictionaries with a hive)" % (profiles,))
    if format not in ("text", "base64"):
        raise AnsibleFilterError("starviewer_reg_deletions: format: got %r; allowed: text or base64" % (format,))
    if keys is None:
        deletions = wipe_deletions(profiles, organization=bool(organization))
    else:
        if not isinstance(keys, (list, tuple)) or not all(isinstance(key, str) and key.strip("/") for key in keys):
            raise AnsibleFilterError("starviewer_reg_deletions: keys: got %r; allowed: a list of setting keys"
                                     % (keys,))
        if not isinstance(state, dict):
            raise AnsibleFilterError("starviewer_reg_deletions: state: got %r; allowed: a dictionary of hive to the "
                                     "reg export of that user's Software\\GILab key" % (state,))
        deletions = []
        for profile in profiles:
            export = state.get(profile["hive"])
            data = export_bytes(export, "starviewer_reg_deletions: state") if export else b""
            try:
                parsed = export_state(data) if data else {}
            except ValueError as exc:
                raise AnsibleFilterError("starviewer_reg_deletions: state[%r]: %s" % (profile["hive"], exc)) from None
            deletions += enforce_deletions(parsed, profile["hive"], list(keys))
    data = deletion_reg(deletions)
    if format == "base64":
        return base64.b64encode(data).decode("ascii")
    return data[2:].decode("utf-16-le", "surrogatepass")


class FilterModule:
    """medimaging.starviewer.starviewer_reg_deletions."""

    def filters(self) -> dict:
        return {"starviewer_reg_deletions": starviewer_reg_deletions}
