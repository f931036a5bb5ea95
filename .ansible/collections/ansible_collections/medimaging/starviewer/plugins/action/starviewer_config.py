# Copyright: contributors to medimaging.starviewer
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller-side validation of the Starviewer variables (see the starviewer_config module docs)."""

from __future__ import annotations

from ansible.plugins.action import ActionBase

from ansible_collections.medimaging.starviewer.plugins.module_utils.settings_args import encode_values
from ansible_collections.medimaging.starviewer.plugins.module_utils.starviewer import (
    StarviewerInputError,
    access_level_ini,
    build_settings,
    normalize_pacs,
)

# option name -> public variable it comes from (error messages name the variable the user wrote)
_OPTIONS = {
    "pacs": "starviewer_pacs",
    "local_ae_title": "starviewer_local_ae_title",
    "local_port": "starviewer_local_port",
    "external_applications": "starviewer_external_applications",
    "settings": "starviewer_settings",
    "settings_remove": "starviewer_settings_remove",
    "system_settings": "starviewer_system_settings",
}


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _supports_check_mode = True

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = self._task.args
        unknown = sorted(set(args) - set(_OPTIONS))
        if unknown:
            return dict(result, failed=True, msg="starviewer_config: unknown option(s) %s; allowed: %s"
                        % (", ".join(unknown), ", ".join(sorted(_OPTIONS))))
        config = {variable: args.get(option) for option, variable in _OPTIONS.items()}
        system_settings = config.pop("starviewer_system_settings")
        try:
            settings = build_settings(config)
            ini = access_level_ini(system_settings) if system_settings else None
            pacs = normalize_pacs(config["starviewer_pacs"]) if config["starviewer_pacs"] is not None else []
        except StarviewerInputError as exc:
            return dict(result, failed=True, msg=str(exc))
        result.update(
            changed=False,
            settings={
                "set": encode_values(settings["set"]),
                "remove": list(settings["remove"]),
                "arrays": {name: [encode_values(item) for item in items] for name, items in settings["arrays"].items()},
            },
            access_level_ini=ini,
            pacs=pacs,
        )
        return result
