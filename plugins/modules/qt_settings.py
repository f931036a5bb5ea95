#!/usr/bin/python
# Copyright: contributors to medimaging.starviewer
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: qt_settings
short_description: Merge settings into a Qt 5 INI file exactly as Qt 5 writes them
version_added: 0.1.0
description:
  - Sets, removes and replaces keys of a file in Qt 5's native INI format (as written by C(QSettings) without an
    INI codec), in one call, writing the bytes Qt 5 itself would write.
  - Keys are Qt keys with C(/) between groups, for example C(PACS/pacsparam/AETitle).
  - Every key not named in O(set), O(remove) or O(arrays) is kept byte for byte, comments included.
    When the merge changes nothing the file is not written at all.
  - Non-ASCII text is written with Qt's C(\\x) escapes, never as raw UTF-8 (Qt 5 would read raw UTF-8 as Latin-1).
  - The new content is written to a temporary file and moved into place, so readers see the old or the new file,
    never a partial one.
options:
  path:
    description: The INI file. It is created, with its missing parent directories, when absent.
    type: path
    required: true
  set:
    description:
      - "Keys to set. A value is a string, an integer, a boolean, a float, a list of strings (a Qt string list) or a
        dictionary C({qurl: <url>}) for a C(QUrl) value, which Qt stores as C(@Variant(...))."
      - Use V(null) for Qt's invalid variant C(@Invalid()).
    type: dict
    default: {}
  remove:
    description:
      - Keys to remove. Removing a group or array name removes every key under it, as C(QSettings::remove) does.
    type: list
    elements: str
    default: []
  arrays:
    description:
      - Qt arrays (C(beginWriteArray)) to replace as a whole, for example C(PacsList). Every existing key of the
        array is removed, then items are written as C(<name>/1/<field>) ... and C(<name>/size), so no stale entry of
        a longer previous list survives.
      - Each item is a dictionary of field to value, with the value forms of O(set).
    type: dict
    default: {}
  backup:
    description: Keep a timestamped copy of the previous file when it changes.
    type: bool
    default: false
extends_documentation_fragment:
  - ansible.builtin.files
  - medimaging.starviewer.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  platform:
    platforms: posix
notes:
  - When O(path) is a symbolic link, the file it points to is updated and the link is kept.
  - Qt 5 re-sorts the whole file whenever it writes it. This module keeps the existing order of a hand-written file
    and inserts new keys where Qt would place them, so a file Qt wrote stays exactly as Qt would write it.
seealso:
  - module: medimaging.starviewer.starviewer_probe
  - plugin: medimaging.starviewer.qvariant_url
    plugin_type: filter
author:
  - medimaging.starviewer maintainers (@medimaging)
"""

EXAMPLES = r"""
- name: Point Starviewer at the hospital PACS
  medimaging.starviewer.qt_settings:
    path: /etc/xdg/GILab/Starviewer.conf
    owner: root
    group: root
    mode: "0644"
    set:
      PACS/pacsparam/AETitle: "RAD%IP.4%[3:0]"
      PACS/pacsparam/localPort: "4006"
      PACS/cache/MaximumDaysNotViewedStudy: "14"
    remove:
      - PACS/defaultPACSListToQuery
    arrays:
      PacsList:
        - ID: "0"
          Type: WADO
          BaseUri:
            qurl: https://pacs.example.org/dicom-web/
          Institution: Hospital Exemple
          Location: ""
          Description: ""
"""

RETURN = r"""
changed_keys:
  description: Keys whose stored text changed, was added or was removed.
  returned: always
  type: list
  elements: str
  sample: [PACS/pacsparam/AETitle, PacsList/size]
path:
  description: The file written; the target when O(path) is a symbolic link.
  returned: always
  type: str
backup_file:
  description: Path of the backup, when O(backup=true) and the file changed.
  returned: changed and backup requested
  type: str
"""

import os
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.medimaging.starviewer.plugins.module_utils.qt_ini import diff_keys, merge
from ansible_collections.medimaging.starviewer.plugins.module_utils.settings_args import decode_array, decode_values


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path", "required": True},
            "set": {"type": "dict", "default": {}},
            "remove": {"type": "list", "elements": "str", "default": []},
            "arrays": {"type": "dict", "default": {}},
            "backup": {"type": "bool", "default": False},
        },
        add_file_common_args=True,
        supports_check_mode=True,
    )
    path = module.params["path"]
    if not os.path.isabs(path) or path.endswith("/"):
        module.fail_json(msg="path: got %r; allowed: an absolute file path (no trailing slash)" % path)
    if os.path.islink(path):
        # Follow an administrator's symlink instead of replacing it with a regular file.
        path = os.path.realpath(path)
    try:
        set_values = decode_values(module.params["set"])
        arrays = {name: decode_array(items, name) for name, items in module.params["arrays"].items()}
    except ValueError as exc:
        module.fail_json(msg=to_native(exc))

    before = None
    if os.path.lexists(path):
        if not os.path.isfile(path):
            module.fail_json(msg="%s exists and is not a regular file" % path)
        with open(path, "rb") as handle:
            before = handle.read()
    try:
        after = merge(before, set_values, module.params["remove"], arrays)
    except (ValueError, TypeError) as exc:
        module.fail_json(msg="%s: %s; nothing was written" % (path, to_native(exc)))
    # An absent file with nothing to set stays absent.
    changed = after != (before if before is not None else b"")
    result = {"changed": changed, "path": path}
    if changed:
        result["changed_keys"] = [key for key, _old, _new in diff_keys(before, after)]
    else:
        result["changed_keys"] = []
    if changed and module._diff:
        result["diff"] = {
            "before_header": path if before is not None else "%s (absent)" % path,
            "after_header": path,
            "before": (before or b"").decode("latin-1"),
            "after": after.decode("latin-1"),
        }

    if changed and not module.check_mode:
        directory = os.path.dirname(path)
        if not os.path.isdir(directory):
            os.makedirs(directory, 0o755)
        if module.params["backup"] and before is not None:
            result["backup_file"] = module.backup_local(path)
        # Same directory as the target, so the final rename is atomic and no remote tmp dir is needed.
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".%s." % os.path.basename(path))
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(after)
            module.atomic_move(tmp, path, unsafe_writes=module.params["unsafe_writes"])
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    file_args = module.load_file_common_arguments(module.params)
    file_args["path"] = path
    if not os.path.exists(path):
        # Nothing to compare attributes with yet: the new file will get them when it is written.
        module.exit_json(**result)
    result["changed"] = module.set_fs_attributes_if_different(file_args, result["changed"], diff=None)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
