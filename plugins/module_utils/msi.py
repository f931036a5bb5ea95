# Copyright: contributors to medimaging.starviewer
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Windows Installer facts: packed GUIDs, installed products of an UpgradeCode, MSI versions, install plans.

Internal use only. Pure functions, standard library only, no I/O. Registry states are those of
module_utils/qt_registry.py (key path -> {value name: RegValue}).
"""

from __future__ import annotations

import re

from ansible_collections.medimaging.starviewer.plugins.module_utils.qt_registry import REG_DWORD, REG_SZ

__all__ = [
    "STARVIEWER_UPGRADE_CODE",
    "UNINSTALL_KEY",
    "compare_msi_versions",
    "install_plan",
    "installed_products",
    "msi_version",
    "normalize_guid",
    "pack_guid",
    "parse_property_table",
    "product_codes",
    "products_key",
    "uninstall_key",
    "unpack_guid",
    "upgrade_codes_key",
]

# Installers.cmake of Starviewer 2.0 (Starviewer Lite has E34A4959-E0E4-4E4E-978A-E9D1EE764937).
STARVIEWER_UPGRADE_CODE = "{86A85188-E570-467A-B5CB-2F7691311436}"
# Per-machine (ALLUSERS=1) installs register here; per-user ones under the installing user's hive.
UPGRADE_CODES_KEY = "SOFTWARE\\Classes\\Installer\\UpgradeCodes"
PRODUCTS_KEY = "SOFTWARE\\Classes\\Installer\\Products"
UNINSTALL_KEY = "SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall"

_GUID = re.compile(r"^\{?([0-9A-Fa-f]{8})-([0-9A-Fa-f]{4})-([0-9A-Fa-f]{4})-([0-9A-Fa-f]{4})-([0-9A-Fa-f]{12})\}?$")
_PACKED = re.compile(r"^[0-9A-Fa-f]{32}$")


def normalize_guid(text: object, variable: str = "guid") -> str:
    """``{XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}`` upper case; ValueError naming ``variable`` otherwise."""
    match = _GUID.match(text.strip()) if isinstance(text, str) else None
    if not match:
        raise ValueError("%s: got %r; allowed: a GUID such as {86A85188-E570-467A-B5CB-2F7691311436}"
                         % (variable, text))
    return "{%s}" % "-".join(match.groups()).upper()


def _swap_pairs(text: str) -> str:
    return "".join(text[i + 1] + text[i] for i in range(0, len(text), 2))


def pack_guid(guid: str) -> str:
    """The "packed" form Windows Installer uses as registry names (fields reversed, then nibble pairs swapped)."""
    parts = normalize_guid(guid)[1:-1].split("-")
    return parts[0][::-1] + parts[1][::-1] + parts[2][::-1] + _swap_pairs(parts[3] + parts[4])


def unpack_guid(packed: str) -> str:
    """Inverse of :func:`pack_guid`."""
    if not isinstance(packed, str) or not _PACKED.match(packed):
        raise ValueError("packed GUID: got %r; allowed: 32 hexadecimal digits" % (packed,))
    text = packed.upper()
    rest = _swap_pairs(text[16:])
    return "{%s-%s-%s-%s-%s}" % (text[0:8][::-1], text[8:12][::-1], text[12:16][::-1], rest[:4], rest[4:])


def upgrade_codes_key(upgrade_code: str) -> str:
    """Registry key (below HKLM) whose value names are the packed ProductCodes installed for ``upgrade_code``."""
    return UPGRADE_CODES_KEY + "\\" + pack_guid(upgrade_code)


def product_codes(upgrade_state: dict | None) -> list[str]:
    """ProductCodes listed in the state of the UpgradeCodes\\<packed> key (None or empty: nothing installed)."""
    codes = []
    for name in sorted((upgrade_state or {}).get("", {})):
        if _PACKED.match(name):
            codes.append(unpack_guid(name))
    return codes


def _text(values: dict, name: str) -> str:
    for have, value in values.items():
        if have.upper() == name.upper() and value.kind in (REG_SZ, "REG_EXPAND_SZ"):
            return value.data
    return ""


def _version_from_dword(values: dict) -> str:
    for have, value in values.items():
        if have.upper() == "VERSION" and value.kind == REG_DWORD:
            number = value.data
            return "%d.%d.%d" % (number >> 24, (number >> 16) & 0xFF, number & 0xFFFF)
    return ""


def products_key(product_code: str) -> str:
    """Windows Installer's own record of a per-machine product (ProductName, Version as a DWORD)."""
    return PRODUCTS_KEY + "\\" + pack_guid(product_code)


def uninstall_key(product_code: str) -> str:
    """The Programs and Features entry of a product (DisplayName, DisplayVersion)."""
    return UNINSTALL_KEY + "\\" + normalize_guid(product_code)


def installed_products(upgrade_state: dict | None, uninstall_states: dict, product_states: dict | None = None) -> list:
    """Products installed for an UpgradeCode, newest first.

    ``upgrade_state``: state of ``UpgradeCodes\\<packed>``; ``uninstall_states`` and ``product_states``: ProductCode ->
    state of ``Uninstall\\<ProductCode>`` and of ``Installer\\Products\\<packed>`` (None when absent). A product
    without either key is still reported, with an empty version: Windows Installer knows it, so an install must not
    pretend it is absent.
    """
    products = []
    for code in product_codes(upgrade_state):
        uninstall = (uninstall_states.get(code) or {}).get("", {})
        product = ((product_states or {}).get(code) or {}).get("", {})
        products.append({
            "product_code": code,
            "name": _text(uninstall, "DisplayName") or _text(product, "ProductName"),
            "version": (_text(uninstall, "DisplayVersion") or _version_from_dword(product)
                        or _version_from_dword(uninstall)),
            "install_location": _text(uninstall, "InstallLocation"),
        })
    products.sort(key=lambda item: _sort_key(item["version"]), reverse=True)
    return products


def _sort_key(version: str) -> tuple:
    try:
        return msi_version(version)
    except ValueError:
        return (-1, -1, -1)


def msi_version(text: object, variable: str = "version") -> tuple[int, int, int]:
    """(major, minor, build) of an MSI ProductVersion; Windows Installer ignores a fourth field."""
    if not isinstance(text, str) or not re.match(r"^\d+(\.\d+){0,3}$", text.strip()):
        raise ValueError("%s: got %r; allowed: an MSI ProductVersion such as 2.0.0 (numbers only)" % (variable, text))
    fields = [int(part) for part in text.strip().split(".")][:3]
    fields += [0] * (3 - len(fields))
    if fields[0] > 255 or fields[1] > 255 or fields[2] > 65535:
        raise ValueError("%s: got %r; allowed: an MSI ProductVersion with major and minor up to 255, build up to "
                         "65535" % (variable, text))
    return fields[0], fields[1], fields[2]


def compare_msi_versions(left: str, right: str) -> int:
    """-1, 0 or 1 as Windows Installer orders two ProductVersions."""
    a, b = msi_version(left), msi_version(right)
    return (a > b) - (a < b)


def install_plan(products: list[dict], version: str, allow_downgrade: bool = False) -> dict:
    """What the install role does: plan is install, none, upgrade, downgrade or keep-newer.

    ``remove`` lists the ProductCodes to uninstall first (only for a downgrade: a major upgrade removes older
    versions by itself, but refuses to install over a newer one).
    """
    wanted = msi_version(version, "starviewer_installer_version")
    if not products:
        return {"plan": "install", "installed": None, "remove": []}
    newest = products[0]
    have = _sort_key(newest["version"])
    if have == wanted:
        return {"plan": "none", "installed": newest, "remove": []}
    if have < wanted:
        return {"plan": "upgrade", "installed": newest, "remove": []}
    if not allow_downgrade:
        return {"plan": "keep-newer", "installed": newest, "remove": []}
    remove = [item["product_code"] for item in products if _sort_key(item["version"]) > wanted]
    return {"plan": "downgrade", "installed": newest, "remove": remove}


def parse_property_table(text: str) -> dict:
    """``msiinfo export <msi> Property`` output (IDT format: tab-separated, two header lines) -> {name: value}."""
    lines = text.replace("\r\n", "\n").split("\n")
    if len(lines) < 3 or lines[0].split("\t")[:2] != ["Property", "Value"]:
        raise ValueError("not an MSI Property table export")
    result = {}
    for line in lines[3:]:
        if not line:
            continue
        name, sep, value = line.partition("\t")
        if not sep:
            raise ValueError("bad Property table line %r" % line)
        result[name] = value
    return result
