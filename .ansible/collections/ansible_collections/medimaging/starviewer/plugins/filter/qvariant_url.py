# Copyright: contributors to medimaging.starviewer
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Documentation: qvariant_url.yml beside this file.
"""The qvariant_url filter: a URL as Qt 5 stores a QVariant<QUrl> (INI text or .reg hex data)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.medimaging.starviewer.plugins.module_utils.qt_ini import QtUrl, format_value, variant_url_raw

_FORMATS = ("ini", "reg")


def qvariant_url(url: object, *, format: str = "ini") -> str:
    """Return the INI value text or the .reg ``hex:`` data Qt writes for ``url`` stored as a QUrl."""
    if not isinstance(url, str):
        raise AnsibleFilterError(f"qvariant_url: got {url!r} of type {type(url).__name__}; allowed: a URL string")
    if format not in _FORMATS:
        raise AnsibleFilterError(f"qvariant_url: format: got {format!r}; allowed: ini or reg")
    try:
        if format == "ini":
            return format_value(QtUrl(url))
        raw = variant_url_raw(url)
    except ValueError as exc:
        raise AnsibleFilterError(f"qvariant_url: {exc}") from None
    # Qt stores the string (NULs included) as REG_BINARY: one little-endian UTF-16 code unit per character.
    data = raw.encode("utf-16-le", "surrogatepass")
    return "hex:" + ",".join(f"{byte:02x}" for byte in data)


class FilterModule:
    """medimaging.starviewer.qvariant_url."""

    def filters(self) -> dict:
        return {"qvariant_url": qvariant_url}
