# Copyright: contributors to medimaging.starviewer
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write a host's Starviewer configuration as files on the controller (see the starviewer_export module docs)."""

from __future__ import annotations

import os
import tempfile

from ansible.plugins.action import ActionBase

from ansible_collections.medimaging.starviewer.plugins.module_utils.qt_ini import merge
from ansible_collections.medimaging.starviewer.plugins.module_utils.qt_registry import (
    export_ops,
    render_reg,
    settings_desired,
)
from ansible_collections.medimaging.starviewer.plugins.module_utils.settings_args import (
    decode_array,
    decode_values,
)

_OPTIONS = ("dest", "name", "settings", "access_level_ini", "registry_path")
REG_FILE = "Starviewer.reg"
CONF_FILE = "Starviewer.conf"
ACCESS_FILE = "settingsAccessLevel.ini"


def export_files(settings: dict, access_level_ini: str | None, registry_path: str) -> dict:
    """File name -> bytes (None: the file must not exist) for one configuration."""
    if not isinstance(settings, dict) or set(settings) - {"set", "remove", "arrays"}:
        raise ValueError("settings: got %r; allowed: the settings returned by starviewer_config" % (settings,))
    values = decode_values(settings.get("set") or {}, "settings.set")
    remove = list(settings.get("remove") or [])
    arrays = {name: decode_array(items, name) for name, items in (settings.get("arrays") or {}).items()}
    reg = render_reg(registry_path, export_ops(settings_desired(values, remove, arrays)))
    # A fresh file has nothing to remove: the .reg carries the removals for Windows.
    conf = merge(None, values, (), arrays)
    access = access_level_ini.encode("ascii") if access_level_ini else None
    return {REG_FILE: reg, CONF_FILE: conf, ACCESS_FILE: access}


def _text(data: bytes | None) -> str:
    if data is None:
        return ""
    if data.startswith(b"\xff\xfe"):
        return data[2:].decode("utf-16-le", "surrogatepass").replace("\r\n", "\n")
    return data.decode("latin-1")


def _write(path: str, data: bytes) -> None:
    directory = os.path.dirname(path)
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".starviewer-export-")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = self._task.args
        unknown = sorted(set(args) - set(_OPTIONS))
        if unknown:
            return dict(result, failed=True, msg="starviewer_export: unknown option(s) %s; allowed: %s"
                        % (", ".join(unknown), ", ".join(_OPTIONS)))
        dest = args.get("dest")
        name = args.get("name")
        if not isinstance(dest, str) or not dest:
            return dict(result, failed=True, msg="starviewer_export: dest: got %r; allowed: a controller folder" % dest)
        if not isinstance(name, str) or not name or name in (".", "..") or "/" in name or "\\" in name:
            return dict(result, failed=True, msg="starviewer_export: name: got %r; allowed: a folder name without "
                                                 "slashes (starviewer_export_name)" % (name,))
        try:
            files = export_files(args.get("settings"), args.get("access_level_ini"),
                                 args.get("registry_path") or "HKLM\\SOFTWARE\\GILab\\Starviewer")
        except (ValueError, TypeError, UnicodeError) as exc:
            return dict(result, failed=True, msg="starviewer_export: %s" % exc)

        folder = os.path.join(os.path.expanduser(dest), name)
        changed = []
        diffs = []
        for filename, data in files.items():
            path = os.path.join(folder, filename)
            before = None
            if os.path.exists(path):
                with open(path, "rb") as stream:
                    before = stream.read()
            if before == data:
                continue
            changed.append(path)
            diffs.append({"before_header": path, "after_header": path, "before": _text(before), "after": _text(data)})
            if self._task.check_mode:
                continue
            if data is None:
                os.unlink(path)
            else:
                os.makedirs(folder, exist_ok=True)
                _write(path, data)
        result.update(changed=bool(changed), folder=folder, changed_files=changed,
                      files=[os.path.join(folder, f) for f, data in files.items() if data is not None])
        if self._task.diff and diffs:
            result["diff"] = diffs
        return result
