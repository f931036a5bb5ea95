"""The Windows action plugins driven with a fake ``_execute_module``.

THIS IS A MOCK: there is no Windows host here. ``MemoryRegistry`` stands in for the two PowerShell modules
(starviewer_registry_read returns a state, starviewer_registry_apply applies operations to it) so the tests can
count the remote calls each plugin makes and check what it sends. tests/wine replays the same operations in a real
registry implementation (wine's).
"""

from __future__ import annotations

import pytest

from ansible_collections.medimaging.starviewer.plugins.action import starviewer_installer
from ansible_collections.medimaging.starviewer.plugins.action.starviewer_export import (
    ACCESS_FILE,
    CONF_FILE,
    REG_FILE,
)
from ansible_collections.medimaging.starviewer.plugins.action.starviewer_export import ActionModule as ExportAction
from ansible_collections.medimaging.starviewer.plugins.action.starviewer_msi_info import ActionModule as MsiInfoAction
from ansible_collections.medimaging.starviewer.plugins.action.starviewer_registry import ActionModule as RegistryAction
from ansible_collections.medimaging.starviewer.plugins.module_utils.msi import (
    STARVIEWER_UPGRADE_CODE,
    pack_guid,
    products_key,
    uninstall_key,
    upgrade_codes_key,
)
from ansible_collections.medimaging.starviewer.plugins.module_utils.qt_ini import merge
from ansible_collections.medimaging.starviewer.plugins.module_utils.qt_registry import (
    REG_DWORD,
    REG_SZ,
    RegValue,
    apply_ops,
    op_from_module,
    reg_state,
    state_to_module,
    subtree,
)
from ansible_collections.medimaging.starviewer.plugins.module_utils.settings_args import encode_values
from ansible_collections.medimaging.starviewer.plugins.module_utils.starviewer import access_level_ini, build_settings
from ansible_collections.medimaging.starviewer.tests.unit.plugins.action.action_helpers import new_action

READ = "medimaging.starviewer.starviewer_registry_read"
APPLY = "medimaging.starviewer.starviewer_registry_apply"
ROOT = "SOFTWARE\\GILab\\Starviewer"


class MemoryRegistry:
    """HKLM as a dict of absolute key path -> values; records every remote call."""

    def __init__(self, state: dict | None = None) -> None:
        self.state = state or {}
        self.calls: list[tuple[str, dict]] = []

    def __call__(self, module_name: str, module_args: dict) -> dict:
        self.calls.append((module_name, module_args))
        if module_name == READ:
            return {"changed": False, "trees": [state_to_module(subtree(self.state, path), path)
                                                for path in module_args["paths"]]}
        if module_name == APPLY:
            root = module_args["path"]
            ops = [op_from_module(item) for item in module_args["operations"]]
            self.state = apply_ops(self.state, [op._replace(key=(root + "\\" + op.key).rstrip("\\")) for op in ops])
            return {"changed": True, "applied": len(ops)}
        raise AssertionError(module_name)


def action(cls, args: dict, registry, check_mode: bool = False, diff: bool = True):
    plugin = new_action(cls, args, check_mode, diff, execute=registry)
    return plugin.run(task_vars={})


def settings_args(count: int) -> dict:
    pacs = [{"type": "WADO-URI+DIMSE", "ae_title": "PACS%d" % i, "hostname": "pacs%d.example.org" % i,
             "port": 104 + i, "base_uri": "https://pacs%d.example.org/wado/" % i, "query_by_default": i % 2 == 0}
            for i in range(count)]
    settings = build_settings({"starviewer_pacs": pacs, "starviewer_local_port": 4007})
    return {"path": ROOT, "settings": {
        "set": encode_values(settings["set"]), "remove": settings["remove"],
        "arrays": {name: [encode_values(item) for item in items] for name, items in settings["arrays"].items()}}}


@pytest.mark.parametrize("count", [1, 200])
def test_remote_calls_do_not_grow_with_the_number_of_values(count):
    registry = MemoryRegistry()
    result = action(RegistryAction, settings_args(count), registry)
    assert result["changed"] is True and not result.get("failed")
    assert [name for name, _args in registry.calls] == [READ, APPLY]
    assert registry.calls[0][1] == {"hive": "HKLM", "view": "64", "paths": [ROOT]}
    assert len(registry.calls[1][1]["operations"]) > 12 * count  # every value travels in the one apply call
    assert registry.state[ROOT + "\\PacsList"]["size"] == RegValue(REG_DWORD, count)

    registry.calls.clear()
    again = action(RegistryAction, settings_args(count), registry)
    assert again["changed"] is False and again["operations"] == []
    assert [name for name, _args in registry.calls] == [READ]


def test_remote_call_count_is_the_same_for_1_and_200_pacs():
    counts = []
    for count in (1, 200):
        registry = MemoryRegistry()
        action(RegistryAction, settings_args(count), registry)
        counts.append(len(registry.calls))
    assert counts[0] == counts[1] <= 3


def test_check_mode_reads_once_and_shows_each_value():
    registry = MemoryRegistry({ROOT + "\\PacsList": {"size": RegValue(REG_DWORD, 5)}})
    result = action(RegistryAction, settings_args(2), registry, check_mode=True)
    assert result["changed"] is True
    assert [name for name, _args in registry.calls] == [READ]
    assert registry.state == {ROOT + "\\PacsList": {"size": RegValue(REG_DWORD, 5)}}
    assert '"size" = REG_DWORD 5 (0x00000005)' in result["diff"]["before"]
    assert '"size" = REG_DWORD 2 (0x00000002)' in result["diff"]["after"]
    assert '"BaseUri" = REG_BINARY QUrl https://pacs1.example.org/wado/' in result["diff"]["after"]
    assert "diff" not in action(RegistryAction, settings_args(2), MemoryRegistry(), check_mode=True, diff=False)


def test_values_mode_for_the_url_handler():
    registry = MemoryRegistry()
    args = {"path": "SOFTWARE\\Classes\\starviewer",
            "values": {"": {"URL Protocol": ""}, "shell\\open\\command": {"": '"C:\\S\\starviewer.exe" --url "%1"'},
                       "x": {"n": {"type": "REG_DWORD", "data": -1}}}}
    assert action(RegistryAction, args, registry)["changed"] is True
    assert registry.state["SOFTWARE\\Classes\\starviewer\\shell\\open\\command"] == {
        "": RegValue(REG_SZ, '"C:\\S\\starviewer.exe" --url "%1"')}
    assert registry.state["SOFTWARE\\Classes\\starviewer\\x"] == {"n": RegValue(REG_DWORD, 0xFFFFFFFF)}
    assert action(RegistryAction, args, registry)["changed"] is False


@pytest.mark.parametrize(("args", "message"), [
    ({"path": ROOT}, "exactly one of settings and values"),
    ({"path": ROOT, "settings": {}, "values": {}}, "exactly one of settings and values"),
    ({"settings": {}}, "path is required"),
    ({"path": ROOT, "settings": {"set": {}, "bogus": 1}}, "settings: got"),
    ({"path": ROOT, "values": {"": {"a": {"type": "REG_FOO", "data": 1}}}}, "registry type"),
    ({"path": ROOT, "values": {}, "hive": "HKCU"}, "hive must be HKLM"),
    ({"path": ROOT, "values": {}, "colour": "red"}, "unknown option"),
])
def test_bad_arguments_fail_before_any_remote_call(args, message):
    registry = MemoryRegistry()
    result = action(RegistryAction, args, registry)
    assert result["failed"] and message in result["msg"]
    assert registry.calls == []


def test_remote_failures_are_reported():
    def failing(name, args):
        return {"failed": True, "msg": "Access is denied"}

    result = action(RegistryAction, settings_args(1), failing)
    assert result["failed"] and "reading HKLM\\SOFTWARE\\GILab\\Starviewer failed: Access is denied" in result["msg"]

    registry = MemoryRegistry()

    def apply_fails(name, args):
        return registry(name, args) if name == READ else {"failed": True, "msg": "disk full"}

    result = action(RegistryAction, settings_args(1), apply_fails)
    assert result["failed"] and "writing HKLM\\SOFTWARE\\GILab\\Starviewer failed: disk full" in result["msg"]


# -- starviewer_msi_info --------------------------------------------------------------------------------------------

PRODUCT = "{5B7E0C1A-2D3F-4A5B-8C6D-7E8F9A0B1C2D}"


def installed(version: str) -> dict:
    return {
        upgrade_codes_key(STARVIEWER_UPGRADE_CODE): {pack_guid(PRODUCT): RegValue(REG_SZ, "")},
        uninstall_key(PRODUCT): {"DisplayName": RegValue(REG_SZ, "Starviewer"),
                                 "DisplayVersion": RegValue(REG_SZ, version)},
        products_key(PRODUCT): {"ProductName": RegValue(REG_SZ, "Starviewer")},
    }


def test_msi_info_reads_at_most_twice():
    registry = MemoryRegistry()
    result = action(MsiInfoAction, {"version": "2.0.0"}, registry)
    assert (result["plan"], result["products"]) == ("install", [])
    assert [args["paths"] for _name, args in registry.calls] == [[upgrade_codes_key(STARVIEWER_UPGRADE_CODE)]]

    registry = MemoryRegistry(installed("2.0.0"))
    result = action(MsiInfoAction, {"version": "2.0.1"}, registry)
    assert result["plan"] == "upgrade" and result["installed"]["product_code"] == PRODUCT
    assert [name for name, _args in registry.calls] == [READ, READ]
    assert registry.calls[1][1]["paths"] == [uninstall_key(PRODUCT), products_key(PRODUCT)]

    result = action(MsiInfoAction, {"version": "1.9.0", "allow_downgrade": True}, MemoryRegistry(installed("2.0.0")))
    assert (result["plan"], result["remove"]) == ("downgrade", [PRODUCT])
    assert "plan" not in action(MsiInfoAction, {}, MemoryRegistry(installed("2.0.0")))


def test_msi_info_errors():
    assert "upgrade_code: got" in action(MsiInfoAction, {"upgrade_code": "nope"}, MemoryRegistry())["msg"]
    result = action(MsiInfoAction, {"version": "2.0.0-CE"}, MemoryRegistry())
    assert result["failed"] and "starviewer_installer_version: got '2.0.0-CE'" in result["msg"]


# -- starviewer_export ------------------------------------------------------------------------------------------------


def test_export_writes_three_files_atomically_and_idempotently(tmp_path):
    settings = build_settings({"starviewer_local_port": 4007, "starviewer_pacs": [
        {"type": "DIMSE", "ae_title": "PACS1", "hostname": "10.0.0.1", "port": 11112}]})
    encoded = {"set": encode_values(settings["set"]), "remove": settings["remove"],
               "arrays": {k: [encode_values(i) for i in v] for k, v in settings["arrays"].items()}}
    ini = access_level_ini(["PacsList"])
    args = {"dest": str(tmp_path), "name": "radiology", "settings": encoded, "access_level_ini": ini}

    checked = action(ExportAction, args, None, check_mode=True)
    assert checked["changed"] is True and not (tmp_path / "radiology").exists()
    first = action(ExportAction, args, None)
    assert first["changed"] is True and len(first["changed_files"]) == 3
    folder = tmp_path / "radiology"
    assert (folder / CONF_FILE).read_bytes() == merge(None, settings["set"], (), settings["arrays"])
    assert (folder / ACCESS_FILE).read_text() == ini
    state = reg_state((folder / REG_FILE).read_bytes(), "HKLM\\SOFTWARE\\GILab\\Starviewer")
    assert state["PacsList\\1"]["PacsPort"] == RegValue(REG_DWORD, 11112)
    assert oct((folder / REG_FILE).stat().st_mode & 0o777) == "0o644"
    assert action(ExportAction, args, None)["changed"] is False

    without = action(ExportAction, dict(args, access_level_ini=None), None)
    assert without["changed_files"] == [str(folder / ACCESS_FILE)] and not (folder / ACCESS_FILE).exists()
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("name", ["", ".", "..", "a/b", "a\\b", None])
def test_export_refuses_folder_names_with_paths(tmp_path, name):
    result = action(ExportAction, {"dest": str(tmp_path), "name": name, "settings": {"set": {}}}, None)
    assert result["failed"] and "name: got" in result["msg"]


# -- starviewer_installer with an MSI --------------------------------------------------------------------------------


def test_msi_version_comes_from_the_property_table(monkeypatch):
    props = {"ProductVersion": "2.0.1", "UpgradeCode": STARVIEWER_UPGRADE_CODE.lower(), "ProductName": "Starviewer",
             "ProductCode": PRODUCT}
    monkeypatch.setattr(starviewer_installer, "msi_properties", lambda path: props)
    info = starviewer_installer.msi_info("x.msi", "")
    assert (info["version"], info["upgrade_code"], info["product_code"]) == ("2.0.1", STARVIEWER_UPGRADE_CODE, PRODUCT)
    assert starviewer_installer.msi_info("x.msi", "2.0.1.0")["version"] == "2.0.1"
    with pytest.raises(ValueError, match="ProductVersion is '2.0.1'"):
        starviewer_installer.msi_info("x.msi", "2.0.0")
    monkeypatch.setattr(starviewer_installer, "msi_properties",
                        lambda path: dict(props, UpgradeCode="{E34A4959-E0E4-4E4E-978A-E9D1EE764937}"))
    with pytest.raises(ValueError, match="not the Starviewer MSI"):
        starviewer_installer.msi_info("x.msi", "")


def test_msi_without_msiinfo_needs_the_version(monkeypatch):
    monkeypatch.setattr(starviewer_installer.shutil, "which", lambda name: None)
    with pytest.raises(ValueError, match="install msitools or set starviewer_installer_version"):
        starviewer_installer.msi_info("x.msi", "")
    assert starviewer_installer.msi_info("x.msi", "2.0.0")["version"] == "2.0.0"
    with pytest.raises(ValueError, match="ProductVersion"):
        starviewer_installer.msi_info("x.msi", "2.0.0-CE")
