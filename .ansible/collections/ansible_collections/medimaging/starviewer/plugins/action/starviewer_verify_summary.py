# Copyright: contributors to medimaging.starviewer
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One summary table of the verify checks of every host (see the starviewer_verify_summary module docs)."""

from __future__ import annotations

from ansible.plugins.action import ActionBase

from ansible_collections.medimaging.starviewer.plugins.module_utils.preflight import (
    plain_data,
    summary_table,
    verify_rows,
)

_OPTIONS = ("hosts", "results_var", "preflight")
_DEFAULT_RESULTS_VAR = "__starviewer_verify_results"


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        args = self._task.args
        unknown = sorted(set(args) - set(_OPTIONS))
        if unknown:
            return dict(result, failed=True, msg="starviewer_verify_summary: unknown option(s) %s; allowed: %s"
                        % (", ".join(unknown), ", ".join(_OPTIONS)))
        hosts = args.get("hosts")
        if hosts is None:
            hosts = task_vars.get("ansible_play_hosts_all", [])
        if not isinstance(hosts, (list, tuple)):
            return dict(result, failed=True, msg="hosts: got %r; allowed: a list of inventory host names" % (hosts,))
        results_var = args.get("results_var") or _DEFAULT_RESULTS_VAR
        preflight = plain_data(args.get("preflight") or {})
        if not isinstance(preflight, dict):
            return dict(result, failed=True, msg="preflight: allowed: the registered result of starviewer_preflight")
        per_host = preflight.get("hosts") or {}
        left_out = preflight.get("left_out") or {}
        hostvars = task_vars.get("hostvars", {})

        rows = []
        for name in hosts:
            name = str(name)
            data = hostvars[name].get(results_var) if name in hostvars else None
            data = plain_data(data) if data is not None else None
            reason = None
            if data is None:
                reason = left_out.get(name) or "unreachable or failed before its checks ran"
            rows += verify_rows(name, data, per_host.get(name), reason)
        failed = [row for row in rows if not row["ok"]]
        failures = ["%s %s%s: %s" % (row["host"], row["check"], " " + row["pacs"] if row["pacs"] else "", row["detail"])
                    for row in failed]
        result.update(changed=False, rows=rows, table=summary_table(rows), failed_rows=failed, failures=failures,
                      msg="%d check(s), %d failed" % (len(rows), len(failed)))
        return result
