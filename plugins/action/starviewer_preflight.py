# Copyright: contributors to medimaging.starviewer
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fleet-wide AE title checks on the controller (see the starviewer_preflight module docs)."""

from __future__ import annotations

from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase

from ansible_collections.medimaging.starviewer.plugins.module_utils.preflight import (
    current_ae_title,
    fleet_report,
    plain_data,
)

_OPTIONS = ("fail", "hosts", "facts_var")
_DEFAULT_FACTS_VAR = "__starviewer_preflight_host"


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        args = self._task.args
        unknown = sorted(set(args) - set(_OPTIONS))
        if unknown:
            return dict(result, failed=True, msg="starviewer_preflight: unknown option(s) %s; allowed: %s"
                        % (", ".join(unknown), ", ".join(_OPTIONS)))
        try:
            # -e starviewer_preflight_fail=false arrives as a string.
            fail = boolean(args.get("fail", True), strict=True)
        except TypeError:
            return dict(result, failed=True, msg="fail: got %r; allowed: true or false" % (args.get("fail"),))
        hosts = args.get("hosts")
        if hosts is None:
            hosts = task_vars.get("ansible_play_hosts_all", [])
        if not isinstance(hosts, (list, tuple)):
            return dict(result, failed=True, msg="hosts: got %r; allowed: a list of inventory host names" % (hosts,))
        facts_var = args.get("facts_var") or _DEFAULT_FACTS_VAR
        active = set(task_vars.get("ansible_play_hosts", hosts))
        hostvars = task_vars.get("hostvars", {})

        data, left_out = {}, {}
        for name in hosts:
            name = str(name)
            facts = hostvars[name].get(facts_var) if name in hostvars else None
            facts = plain_data(facts) if facts is not None else None
            if name not in active:
                left_out[name] = "failed or unreachable earlier in the play"
            elif not isinstance(facts, dict):
                left_out[name] = "not probed"
            elif facts.get("unreachable") or facts.get("failed") or not facts.get("hostname"):
                reason = "unreachable" if facts.get("unreachable") else "probe failed"
                left_out[name] = "%s: %s" % (reason, " ".join(str(facts.get("msg") or "no detail").split()))
            else:
                data[name] = {
                    "hostname": facts["hostname"],
                    "ip": facts.get("ip") or None,
                    "configured": facts.get("configured"),
                    # Windows hosts send the registry value, Linux hosts the system settings file.
                    "current": facts["current"] if facts.get("current") is not None
                    else current_ae_title(facts.get("system_file")),
                    "pacs": facts.get("pacs"),
                    "connect_address": facts.get("connect_address"),
                }
        report = fleet_report(data)
        # No "unreachable" key: Ansible would take a non-empty one as this task's own host being unreachable.
        result.update(changed=False, hosts=report["hosts"], titles=report["titles"], problems=report["problems"],
                      left_out=left_out)
        warnings = []
        if left_out:
            warnings.append("Starviewer preflight left out %d host(s), which were not compared with the others: %s"
                            % (len(left_out), "; ".join("%s (%s)" % item for item in sorted(left_out.items()))))
        if report["problems"]:
            offending = sorted({line.split(":", 1)[0] for line in report["problems"]})
            header = "Starviewer preflight: %d problem(s) on %d of %d host(s) (%s)" % (
                len(report["problems"]), len(offending), len(data), ", ".join(offending))
            text = header + ":\n- " + "\n- ".join(report["problems"])
            if fail:
                result.update(failed=True, msg=text + "\nNothing was changed on any host. Set "
                              "starviewer_preflight_fail=false to run anyway.")
            else:
                warnings.append(text)
                result["msg"] = header + " (reported as warnings: starviewer_preflight_fail is false)"
        else:
            result["msg"] = "Starviewer preflight: %d host(s) checked; effective AE titles valid and unique" % len(data)
        if warnings:
            result["warnings"] = warnings
        return result
