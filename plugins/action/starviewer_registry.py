# Copyright: contributors to medimaging.starviewer
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Windows registry content in at most two remote calls: read the tree, compute the delta here, apply it.

See the starviewer_registry module docs. The number of remote calls does not depend on the number of values: one
read, plus one apply when something differs (none in check mode).
"""

from __future__ import annotations

from ansible.plugins.action import ActionBase

from ansible_collections.medimaging.starviewer.plugins.module_utils.qt_registry import (
    apply_ops,
    delta,
    op_to_module,
    reg_value,
    settings_desired,
    state_from_module,
    state_text,
    values_desired,
)
from ansible_collections.medimaging.starviewer.plugins.module_utils.settings_args import (
    decode_array,
    decode_values,
)

READ_MODULE = "medimaging.starviewer.starviewer_registry_read"
APPLY_MODULE = "medimaging.starviewer.starviewer_registry_apply"
_OPTIONS = ("hive", "view", "path", "settings", "values")


def desired_from_args(args: dict):
    """Desired content from the task options (settings as starviewer_config returns them, or plain values)."""
    settings = args.get("settings")
    values = args.get("values")
    if (settings is None) == (values is None):
        raise ValueError("give exactly one of settings and values")
    if settings is not None:
        if not isinstance(settings, dict) or set(settings) - {"set", "remove", "arrays"}:
            raise ValueError("settings: got %r; allowed: the settings returned by starviewer_config (set, remove, "
                             "arrays)" % (settings,))
        arrays = settings.get("arrays") or {}
        if not isinstance(arrays, dict):
            raise ValueError("settings.arrays: got %r; allowed: a dictionary" % (arrays,))
        return settings_desired(decode_values(settings.get("set") or {}, "settings.set"),
                                list(settings.get("remove") or []),
                                {name: decode_array(items, name) for name, items in arrays.items()})
    if not isinstance(values, dict):
        raise ValueError("values: got %r; allowed: a dictionary of key path -> {name: value}" % (values,))
    typed: dict = {}
    for key, names in values.items():
        if not isinstance(names, dict):
            raise ValueError("values[%r]: got %r; allowed: a dictionary of value name -> value" % (key, names))
        entry = typed.setdefault(key, {})
        for name, value in names.items():
            if isinstance(value, dict):
                if set(value) != {"type", "data"}:
                    raise ValueError("values[%r][%r]: got %r; allowed: a string or {type, data}" % (key, name, value))
                entry[name] = reg_value(value["type"], value["data"])
            elif isinstance(value, str):
                entry[name] = value
            else:
                raise ValueError("values[%r][%r]: got %r; allowed: a string or {type, data}" % (key, name, value))
    return values_desired(typed)


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = self._task.args
        unknown = sorted(set(args) - set(_OPTIONS))
        if unknown:
            return dict(result, failed=True, msg="starviewer_registry: unknown option(s) %s; allowed: %s"
                        % (", ".join(unknown), ", ".join(_OPTIONS)))
        path = str(args.get("path") or "").strip("\\")
        hive = args.get("hive", "HKLM")
        view = str(args.get("view", "64"))
        if not path:
            return dict(result, failed=True, msg="starviewer_registry: path is required, for example "
                                                 "SOFTWARE\\GILab\\Starviewer")
        if hive != "HKLM" or view not in ("64", "32"):
            return dict(result, failed=True, msg="starviewer_registry: hive must be HKLM and view 64 or 32, got "
                                                 "%r and %r" % (hive, view))
        try:
            desired = desired_from_args(args)
        except ValueError as exc:
            return dict(result, failed=True, msg="starviewer_registry: %s" % exc)

        try:
            return self._run(result, task_vars, path, desired, {"hive": hive, "view": view})
        finally:
            # nothing is left behind when modules are pipelined (always the case over WinRM and PSRP)
            self._remove_tmp_path(self._connection._shell.tmpdir)

    def _run(self, result, task_vars, path, desired, common):
        read = self._execute_module(module_name=READ_MODULE, module_args=dict(common, paths=[path]),
                                    task_vars=task_vars)
        if read.get("failed"):
            return dict(result, failed=True, msg="reading HKLM\\%s failed: %s" % (path, read.get("msg", read)))
        try:
            current = state_from_module(read["trees"][0]) or {}
            operations = delta(current, desired)
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            return dict(result, failed=True, msg="unexpected answer from %s: %s" % (READ_MODULE, exc))

        full = "HKLM\\" + path
        after = apply_ops(current, operations) if operations else current
        result["changed"] = bool(operations)
        result["operations"] = [op_to_module(op) for op in operations]
        if self._task.diff:
            result["diff"] = {
                "before_header": full,
                "after_header": full,
                "before": state_text(current, full),
                "after": state_text(after, full),
            }
        if operations and not self._task.check_mode:
            applied = self._execute_module(
                module_name=APPLY_MODULE,
                module_args=dict(common, path=path, operations=result["operations"]),
                task_vars=task_vars,
            )
            if applied.get("failed"):
                return dict(result, failed=True, changed=True,
                            msg="writing HKLM\\%s failed: %s" % (path, applied.get("msg", applied)))
        return result
