"""Stand-ins for the collection's PowerShell modules, for driving its action plugins without a Windows host.

THESE ARE MOCKS. ``WineRegistry`` answers starviewer_registry_read from ``wine reg export`` and performs
starviewer_registry_apply by rendering the operations as a .reg file for ``wine reg import``: the controller logic
and the registry effect are real, the PowerShell in between is not (it needs a Windows host: molecule/windows).
"""

from __future__ import annotations

from unittest import mock

from ansible_collections.medimaging.starviewer.plugins.module_utils.qt_registry import (
    op_from_module,
    reg_state,
    render_reg,
    state_to_module,
)

READ = "medimaging.starviewer.starviewer_registry_read"
APPLY = "medimaging.starviewer.starviewer_registry_apply"


def make_action(cls, args: dict, execute, check_mode: bool = False, diff: bool = True):
    """An action plugin instance whose remote calls go to ``execute(module_name, module_args)``."""
    task = mock.MagicMock()
    task.args = args
    task.check_mode = check_mode
    task.diff = diff
    task.async_val = 0
    connection = mock.MagicMock()
    connection._shell.tmpdir = None
    action = cls(task, connection, mock.MagicMock(), loader=None, templar=None, shared_loader_obj=None)
    action._execute_module = lambda module_name=None, module_args=None, task_vars=None, **kw: execute(
        module_name, module_args)
    return action


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
