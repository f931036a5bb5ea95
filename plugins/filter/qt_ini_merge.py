# Copyright: contributors to medimaging.starviewer
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.medimaging.starviewer.plugins.module_utils.qt_ini import merge
from ansible_collections.medimaging.starviewer.plugins.module_utils.settings_args import decode_array, decode_values

_RAISE = object()


def qt_ini_merge(content, set_values=None, remove=None, arrays=None, on_error=_RAISE):
    """Text of a Qt INI file after the qt_settings module's merge (Latin-1 text in and out, as the probe returns it).

    With ``on_error``, a file the merge cannot edit safely gives that value instead of an error (site.yml's first play
    then sends the host to the module, which fails on that host alone with the same message).
    """
    if content is not None and not isinstance(content, str):
        raise AnsibleFilterError("qt_ini_merge: input must be the file text or null, got %s" % type(content).__name__)
    if isinstance(remove, str):
        raise AnsibleFilterError("qt_ini_merge: remove must be a list of keys, got the string %r" % remove)
    try:
        values = decode_values(set_values or {})
        whole = {name: decode_array(items, name) for name, items in (arrays or {}).items()}
    except ValueError as exc:
        raise AnsibleFilterError("qt_ini_merge: %s" % exc) from exc
    before = content.encode("latin-1") if content is not None else None
    try:
        return merge(before, values, list(remove or []), whole).decode("latin-1")
    except (ValueError, TypeError) as exc:
        if on_error is not _RAISE:
            return on_error
        raise AnsibleFilterError("qt_ini_merge: %s" % exc) from exc


class FilterModule:
    def filters(self):
        return {"qt_ini_merge": qt_ini_merge}
