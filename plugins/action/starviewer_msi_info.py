# Copyright: contributors to medimaging.starviewer
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a Windows host has installed for an MSI UpgradeCode, and what the install role must do about it.

See the starviewer_msi_info module docs. Two remote reads at most (the UpgradeCodes key, then the product keys of
the codes found); every decision is taken here, in module_utils/msi.py.
"""

from __future__ import annotations

from ansible.plugins.action import ActionBase

from ansible_collections.medimaging.starviewer.plugins.module_utils.msi import (
    STARVIEWER_UPGRADE_CODE,
    install_plan,
    installed_products,
    normalize_guid,
    product_codes,
    products_key,
    uninstall_key,
    upgrade_codes_key,
)
from ansible_collections.medimaging.starviewer.plugins.module_utils.qt_registry import state_from_module

READ_MODULE = "medimaging.starviewer.starviewer_registry_read"
_OPTIONS = ("upgrade_code", "version", "allow_downgrade")


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = self._task.args
        unknown = sorted(set(args) - set(_OPTIONS))
        if unknown:
            return dict(result, failed=True, msg="starviewer_msi_info: unknown option(s) %s; allowed: %s"
                        % (", ".join(unknown), ", ".join(_OPTIONS)))
        try:
            upgrade_code = normalize_guid(args.get("upgrade_code") or STARVIEWER_UPGRADE_CODE, "upgrade_code")
        except ValueError as exc:
            return dict(result, failed=True, msg=str(exc))
        try:
            return self._run(result, task_vars, upgrade_code, args)
        finally:
            self._remove_tmp_path(self._connection._shell.tmpdir)

    def _read(self, paths, task_vars):
        answer = self._execute_module(module_name=READ_MODULE, module_args={"paths": paths}, task_vars=task_vars)
        if answer.get("failed"):
            raise RuntimeError("reading the installed products failed: %s" % answer.get("msg", answer))
        return [state_from_module(tree) for tree in answer["trees"]]

    def _run(self, result, task_vars, upgrade_code, args):
        try:
            (upgrade_state,) = self._read([upgrade_codes_key(upgrade_code)], task_vars)
            codes = product_codes(upgrade_state)
            uninstall_states = {}
            product_states = {}
            if codes:
                paths = [path for code in codes for path in (uninstall_key(code), products_key(code))]
                states = self._read(paths, task_vars)
                for index, code in enumerate(codes):
                    uninstall_states[code] = states[2 * index]
                    product_states[code] = states[2 * index + 1]
            products = installed_products(upgrade_state, uninstall_states, product_states)
        except (RuntimeError, KeyError, TypeError, ValueError) as exc:
            return dict(result, failed=True, msg=str(exc))
        result.update(changed=False, upgrade_code=upgrade_code, products=products)
        if args.get("version"):
            try:
                result.update(install_plan(products, str(args["version"]), bool(args.get("allow_downgrade"))))
            except ValueError as exc:
                return dict(result, failed=True, msg=str(exc))
        return result
