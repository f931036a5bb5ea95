# Copyright: contributors to medimaging.starviewer
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How typed Qt setting values travel as JSON module arguments (internal to this collection).

A QUrl cannot be told apart from a string in JSON, so it travels as ``{"qurl": "<url>"}``; ``None`` stands for
Qt's invalid variant. Everything else (str, int, bool, float, list of str) is sent as is.
"""

from __future__ import annotations

from ansible_collections.medimaging.starviewer.plugins.module_utils.qt_ini import INVALID, QtUrl


def encode_value(value: object) -> object:
    """Typed Python value -> JSON-safe module argument."""
    if isinstance(value, QtUrl):
        return {"qurl": value.url}
    if value is INVALID:
        return None
    return value


def decode_value(value: object, where: str) -> object:
    """JSON module argument -> typed value for qt_ini; raises ValueError naming ``where``."""
    if isinstance(value, dict):
        if set(value) == {"qurl"} and isinstance(value["qurl"], str):
            return QtUrl(value["qurl"])
        raise ValueError("%s: got %r; allowed: a string, number, boolean, list of strings or {qurl: <url>}"
                         % (where, value))
    if value is None:
        return INVALID
    if isinstance(value, list):
        if not all(isinstance(item, str) for item in value):
            raise ValueError("%s: got %r; allowed: a list of strings" % (where, value))
        return list(value)
    if isinstance(value, (str, int, float)):  # bool is an int
        return value
    raise ValueError("%s: got %r of type %s; allowed: str, int, bool, float, list of str, {qurl: url}"
                     % (where, value, type(value).__name__))


def encode_values(values: dict) -> dict:
    return {key: encode_value(value) for key, value in values.items()}


def decode_values(values: dict, where: str = "set") -> dict:
    return {key: decode_value(value, "%s[%r]" % (where, key)) for key, value in values.items()}


def decode_array(items: object, name: str) -> list:
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise ValueError("arrays[%r]: got %r; allowed: a list of dictionaries" % (name, items))
    return [decode_values(item, "arrays[%r][%d]" % (name, index)) for index, item in enumerate(items)]
