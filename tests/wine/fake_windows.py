"""Stand-ins for the collection's PowerShell modules, for driving its action plugins without a Windows host.

THESE ARE MOCKS. ``WineRegistry`` answers starviewer_registry_read from ``wine reg export`` and performs
starviewer_registry_apply by rendering the operations as a .reg file for ``wine reg import``: the controller logic
and the registry effect are real, the PowerShell in between is not (it needs a Windows host: molecule/windows).
"""

from __future__ import annotations

from ansible_collections.medimaging.starviewer.plugins.module_utils.qt_registry import (
    op_from_module,
    reg_state,
    render_reg,
    state_to_module,
)
from ansible_collections.medimaging.starviewer.tests.unit.plugins.action.action_helpers import new_action

READ = "medimaging.starviewer.starviewer_registry_read"
APPLY = "medimaging.starviewer.starviewer_registry_apply"


def make_action(cls, args: dict, execute, check_mode: bool = False, diff: bool = True):
    """An action plugin instance whose remote calls go to ``execute(module_name, module_args)``."""
    return new_action(cls, args, check_mode, diff, execute=execute)


class WineRegistry:
    """starviewer_registry_read / _apply answered by a wine prefix (HKLM only, like the real modules)."""

    def __init__(self, wine) -> None:
        self.wine = wine
        self.calls: list[str] = []

    def __call__(self, module_name: str, module_args: dict) -> dict:
        self.calls.append(module_name)
        if module_name == READ:
            trees = []
            for path in module_args["paths"]:
                full = "HKEY_LOCAL_MACHINE\\" + path
                data = self.wine.reg_export(full)
                trees.append(state_to_module(reg_state(data, full) if data else None, path))
            return {"changed": False, "trees": trees}
        if module_name == APPLY:
            ops = [op_from_module(item) for item in module_args["operations"]]
            proc = self.wine.reg_import(render_reg("HKEY_LOCAL_MACHINE\\" + module_args["path"], ops), "apply.reg")
            if proc.returncode != 0:
                return {"failed": True, "msg": "wine reg import failed"}
            return {"changed": True, "applied": len(ops)}
        raise AssertionError("unexpected module %s" % module_name)
