"""One way to build an action plugin instance for tests: a mocked task and connection, remote calls optional."""

from __future__ import annotations

from unittest import mock


def new_action(cls, args: dict, check_mode: bool = False, diff: bool = True, execute=None, tmpdir: str | None = None):
    """``cls`` with ``args``; with ``execute``, remote module calls go to ``execute(module_name, module_args)``."""
    task = mock.MagicMock()
    task.args = args
    task.check_mode = check_mode
    task.diff = diff
    task.async_val = 0
    connection = mock.MagicMock()
    connection._shell.tmpdir = tmpdir
    plugin = cls(task, connection, mock.MagicMock(), loader=None, templar=None, shared_loader_obj=None)
    if execute is not None:
        plugin._execute_module = lambda module_name=None, module_args=None, task_vars=None, **kw: execute(
            module_name, module_args)
    return plugin
