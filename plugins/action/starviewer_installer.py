# Copyright: contributors to medimaging.starviewer
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller-side installer verification (see the starviewer_installer module docs)."""

from __future__ import annotations

import os

from ansible.plugins.action import ActionBase

from ansible_collections.medimaging.starviewer.plugins.module_utils.installer import (
    deb_control,
    file_digests,
    normalize_sha256,
)


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = self._task.args
        path = args.get("path")
        delete_on_mismatch = bool(args.get("delete_on_mismatch", False))
        try:
            expected = normalize_sha256(args.get("checksum"), args.get("checksum_variable", "checksum"))
        except ValueError as exc:
            return dict(result, failed=True, msg=str(exc))
        if not path or not os.path.isfile(path):
            return dict(result, failed=True, msg="installer %r not found on the controller" % (path,))

        digests = file_digests(path)
        if digests["sha256"] != expected:
            if delete_on_mismatch:
                os.unlink(path)
            return dict(result, failed=True, expected=expected, actual=digests["sha256"],
                        msg="SHA-256 of %s does not match: expected %s, actual %s%s. Nothing was installed; "
                            "check the file and the checksum you were given."
                            % (os.path.basename(path), expected, digests["sha256"],
                               " (file deleted)" if delete_on_mismatch else ""))

        info = dict(digests, path=path, filename=os.path.basename(path))
        if path.endswith(".deb"):
            try:
                with open(path, "rb") as handle:
                    control = deb_control(handle.read())
            except ValueError as exc:
                return dict(result, failed=True, msg="%s: %s" % (path, exc))
            info.update(format="deb", package=control.get("Package", ""), version=control.get("Version", ""))
        elif path.endswith(".msi"):
            info.update(format="msi", package="Starviewer", version=args.get("version") or "")
        else:
            return dict(result, failed=True, msg="installer %s: allowed: a .deb or .msi file" % path)
        if args.get("version"):
            info["version"] = args["version"]
        result.update(changed=False, installer=info)
        return result
