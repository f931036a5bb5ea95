# Copyright: contributors to medimaging.starviewer
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.medimaging.starviewer.plugins.module_utils.installer import compare_deb_versions


def deb_version_compare(left, right):
    """-1, 0 or 1 as dpkg orders two Debian versions."""
    if not isinstance(left, str) or not isinstance(right, str) or not left or not right:
        raise AnsibleFilterError("deb_version_compare: both versions must be non-empty strings, got %r and %r"
                                 % (left, right))
    try:
        return compare_deb_versions(left, right)
    except ValueError as exc:
        raise AnsibleFilterError("deb_version_compare: %r or %r is not a Debian version (%s)"
                                 % (left, right, exc)) from exc


class FilterModule:
    def filters(self):
        return {"deb_version_compare": deb_version_compare}
