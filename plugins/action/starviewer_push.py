# Copyright: contributors to medimaging.starviewer
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Send an installer verified on the controller without hashing it again for every host (see the module docs)."""

from __future__ import annotations

import os
import re

from ansible.plugins.action import ActionBase

_SHA1 = re.compile(r"^[0-9a-f]{40}$")
_ATTRIBUTES = ("owner", "group", "mode")


class ActionModule(ActionBase):
    TRANSFERS_FILES = True
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        args = self._task.args
        src, dest = args.get("src"), args.get("dest")
        sha1 = str(args.get("sha1") or "").strip().lower()
        result.update(dest=dest, sent=0, changed=False)
        problem = None
        if not isinstance(src, str) or not os.path.isabs(src) or not os.path.isfile(src):
            problem = "src: got %r; allowed: an existing file on the controller, as an absolute path" % (src,)
        elif not isinstance(dest, str) or not dest.startswith("/") or dest.endswith("/"):
            problem = "dest: got %r; allowed: an absolute file path on the workstation" % (dest,)
        elif not _SHA1.match(sha1):
            problem = "sha1: got %r; allowed: 40 hexadecimal digits (starviewer_installer's installer.sha1)" % (
                args.get("sha1"),)
        if problem:
            return dict(result, failed=True, msg=problem)
        attributes = {key: args[key] for key in _ATTRIBUTES if args.get(key) is not None}
        try:
            status = self._execute_remote_stat(dest, all_vars=task_vars, follow=False, checksum=True)
            if status["exists"] and status["isdir"]:
                return dict(result, failed=True, msg="dest %s is a folder; allowed: a file path" % dest)
            if status["exists"] and status["checksum"] == sha1:
                # Already there: only owner, group and mode may need setting.
                module_args = dict(attributes, path=dest, state="file")
                result.update(self._execute_module("ansible.legacy.file", module_args=module_args,
                                                   task_vars=task_vars))
                result.update(dest=dest, checksum=sha1)
                return result
            if self._task.check_mode:
                return dict(result, changed=True)
            shell = self._connection._shell
            remote_src = shell.join_path(shell.tmpdir, ".source" + os.path.splitext(dest)[1])
            self._transfer_file(src, remote_src)
            self._fixup_perms2((shell.tmpdir, remote_src))
            # The copy module compares what arrived with this SHA-1 before it moves the file into place.
            module_args = dict(attributes, src=remote_src, dest=dest, checksum=sha1,
                               _original_basename=os.path.basename(src))
            result.update(self._execute_module("ansible.legacy.copy", module_args=module_args, task_vars=task_vars))
            result.update(dest=dest, sent=0 if result.get("failed") else os.path.getsize(src))
            return result
        finally:
            self._remove_tmp_path(self._connection._shell.tmpdir)
