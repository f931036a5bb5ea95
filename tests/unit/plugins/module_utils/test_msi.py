"""Windows Installer facts, on registry states wine's msiexec wrote (tests/fixtures/windows/msi-*.export.reg)."""

from __future__ import annotations

import random
import uuid
from pathlib import Path

import pytest

from ansible_collections.medimaging.starviewer.plugins.module_utils.msi import (
    STARVIEWER_UPGRADE_CODE,
    compare_msi_versions,
    install_plan,
    installed_products,
    msi_version,
    normalize_guid,
    pack_guid,
    parse_property_table,
    product_codes,
    products_key,
    uninstall_key,
    unpack_guid,
    upgrade_codes_key,
)
from ansible_collections.medimaging.starviewer.plugins.module_utils.qt_registry import (
    REG_DWORD,
    REG_SZ,
    RegValue,
    reg_state,
    subtree,
)

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "windows"
INSTALLER = "HKEY_LOCAL_MACHINE\\SOFTWARE\\Classes\\Installer"
PRODUCT = "{5B7E0C1A-2D3F-4A5B-8C6D-7E8F9A0B1C2D}"


def test_packed_form_matches_what_windows_installer_wrote():
    # wine's msiexec stored the vendor UpgradeCode under this name
    assert pack_guid(STARVIEWER_UPGRADE_CODE) == "88158A68075EA7645BBCF26719134163"
    assert upgrade_codes_key(STARVIEWER_UPGRADE_CODE).endswith("UpgradeCodes\\88158A68075EA7645BBCF26719134163")
    classes = reg_state((FIXTURES / "msi-installer.export.reg").read_bytes(), INSTALLER)
    assert "UpgradeCodes\\88158A68075EA7645BBCF26719134163" in classes
    assert "Products\\" + pack_guid(PRODUCT) in classes


def test_pack_round_trips():
    rng = random.Random(7)
    for _round in range(200):
        guid = "{%s}" % str(uuid.UUID(int=rng.getrandbits(128))).upper()
        assert unpack_guid(pack_guid(guid)) == guid
        assert pack_guid(guid.lower().strip("{}")) == pack_guid(guid)


@pytest.mark.parametrize("bad", ["", "86A85188-E570-467A-B5CB", "{86A85188E570467AB5CB2F7691311436}", None, 3,
                                 "{86A85188-E570-467A-B5CB-2F769131143G}"])
def test_bad_guids(bad):
    with pytest.raises(ValueError, match="GUID"):
        normalize_guid(bad, "upgrade_code")


def test_installed_products_from_wine_registry():
    classes = reg_state((FIXTURES / "msi-installer.export.reg").read_bytes(), INSTALLER)
    upgrade = subtree(classes, "UpgradeCodes\\" + pack_guid(STARVIEWER_UPGRADE_CODE))
    uninstall = reg_state((FIXTURES / "msi-uninstall.export.reg").read_bytes(),
                          "HKEY_LOCAL_MACHINE\\" + uninstall_key(PRODUCT))
    products = subtree(classes, "Products\\" + pack_guid(PRODUCT))
    assert product_codes(upgrade) == [PRODUCT]
    expected = [{"product_code": PRODUCT, "name": "Starviewer", "version": "2.0.0", "install_location": ""}]
    assert installed_products(upgrade, {PRODUCT: uninstall}, {PRODUCT: products}) == expected
    # without the Uninstall entry the Installer's own record still gives name and version (Version DWORD)
    assert installed_products(upgrade, {PRODUCT: None}, {PRODUCT: products}) == expected
    # a product Windows Installer lists with no record at all is reported, version unknown
    assert installed_products(upgrade, {}, {}) == [dict(expected[0], name="", version="")]
    assert installed_products(None, {}, {}) == []
    assert products_key(PRODUCT) == "SOFTWARE\\Classes\\Installer\\Products\\" + pack_guid(PRODUCT)


def test_newest_first():
    codes = ["{00000000-0000-0000-0000-00000000000%d}" % i for i in range(3)]
    upgrade = {"": {pack_guid(code): RegValue(REG_SZ, "") for code in codes}}
    versions = {codes[0]: "2.0.1", codes[1]: "10.0.0", codes[2]: "2.0.10"}
    uninstall = {code: {"": {"DisplayVersion": RegValue(REG_SZ, v)}} for code, v in versions.items()}
    assert [p["version"] for p in installed_products(upgrade, uninstall)] == ["10.0.0", "2.0.10", "2.0.1"]
    dword = {codes[0]: {"": {"Version": RegValue(REG_DWORD, (2 << 24) | (1 << 16) | 300)}}}
    assert installed_products({"": {pack_guid(codes[0]): RegValue(REG_SZ, "")}}, {}, dword)[0]["version"] == "2.1.300"


@pytest.mark.parametrize(("left", "right", "order"), [
    ("2.0.0", "2.0.0", 0), ("2.0.0", "2.0.1", -1), ("2.0.10", "2.0.9", 1), ("2.0", "2.0.0", 0),
    ("2.0.0.1", "2.0.0.2", 0), ("10.0.0", "9.255.65535", 1), ("1", "1.0.0", 0),
])
def test_msi_version_order(left, right, order):
    assert compare_msi_versions(left, right) == order


@pytest.mark.parametrize("bad", ["2.0.0-CE", "", "v2", "256.0.0", "1.256.0", "1.0.65536", "1.2.3.4.5", None])
def test_msi_version_rejects(bad):
    with pytest.raises(ValueError, match="ProductVersion"):
        msi_version(bad, "starviewer_installer_version")


def _product(version: str, code: str = PRODUCT) -> dict:
    return {"product_code": code, "name": "Starviewer", "version": version, "install_location": ""}


def test_install_plans():
    assert install_plan([], "2.0.0") == {"plan": "install", "installed": None, "remove": []}
    assert install_plan([_product("2.0.0")], "2.0.0")["plan"] == "none"
    assert install_plan([_product("2.0.0.7")], "2.0.0")["plan"] == "none"  # the fourth field does not count
    assert install_plan([_product("1.1.1")], "2.0.0")["plan"] == "upgrade"
    assert install_plan([_product("2.0.1")], "2.0.0")["plan"] == "keep-newer"
    newer = [_product("2.1.0", "{A0000000-0000-0000-0000-000000000000}"), _product("2.0.5")]
    down = install_plan(newer, "2.0.0", allow_downgrade=True)
    assert (down["plan"], down["remove"]) == ("downgrade", ["{A0000000-0000-0000-0000-000000000000}", PRODUCT])
    assert install_plan([_product("")], "2.0.0")["plan"] == "upgrade"


def test_property_table():
    text = ("Property\tValue\ns72\tl0\nProperty\tProperty\nManufacturer\tStarviewer\nProductVersion\t2.0.0\n"
            "UpgradeCode\t{86A85188-E570-467A-B5CB-2F7691311436}\n")
    assert parse_property_table(text) == {"Manufacturer": "Starviewer", "ProductVersion": "2.0.0",
                                          "UpgradeCode": STARVIEWER_UPGRADE_CODE}
    with pytest.raises(ValueError):
        parse_property_table("File\tComponent_\n")
