# Copyright: contributors to medimaging.starviewer
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Documentation: default_pacs_list.yml beside this file.
"""The default_pacs_list filter: the raw PACS/defaultPACSListToQuery2 value for a starviewer_pacs list."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.medimaging.starviewer.plugins.module_utils import starviewer


def default_pacs_list(pacs: object) -> str:
    """Validate ``pacs`` (starviewer_pacs items) and return the keys of its query_by_default entries."""
    try:
        return starviewer.default_pacs_list(starviewer.normalize_pacs(pacs, "starviewer_pacs"))
    except ValueError as exc:
        raise AnsibleFilterError(f"default_pacs_list: {exc}") from None


class FilterModule:
    """medimaging.starviewer.default_pacs_list."""

    def filters(self) -> dict:
        return {"default_pacs_list": default_pacs_list}
