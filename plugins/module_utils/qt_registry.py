# Copyright: contributors to medimaging.starviewer
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Qt 5 settings in the Windows registry: value types, ``.reg`` files and the delta engine.

Internal use only. Pure functions, standard library only, no I/O.

How Qt 5 stores settings on Windows (``QWinSettingsPrivate`` in qsettings_win.cpp): the key ``A/B/c`` is the value
``c`` of the subkey ``A\\B`` below the application key. Strings are REG_SZ holding Qt's text form (so a leading ``@``
is doubled, as in INI files), bools REG_SZ ``true``/``false``, int and uint REG_DWORD, string lists REG_MULTI_SZ, and
any value whose text form contains NUL (a QUrl: ``@Variant(\\0\\0\\0\\x11...)``) REG_BINARY holding the UTF-16LE code
units of that text, without terminator. An array ``name`` is the REG_DWORD ``name\\size`` plus subkeys ``name\\1`` ..
``name\\n``.

A registry *state* maps key paths (relative to a root such as ``SOFTWARE\\GILab\\Starviewer``, ``""`` being the root
itself) to ``{value name: RegValue}``; ``""`` is the key's default value. Key paths and value names are compared
case-insensitively, as the registry does.
"""

from __future__ import annotations

import base64
import binascii
from typing import NamedTuple

from ansible_collections.medimaging.starviewer.plugins.module_utils.qt_ini import (
    INVALID,
    QtUrl,
    variant_url_raw,
)
from ansible_collections.medimaging.starviewer.plugins.module_utils.starviewer import setting_type

__all__ = [
    "REG_BINARY",
    "REG_DWORD",
    "REG_EXPAND_SZ",
    "REG_MULTI_SZ",
    "REG_NONE",
    "REG_QWORD",
    "REG_SZ",
    "Desired",
    "Op",
    "RegValue",
    "apply_ops",
    "delta",
    "describe",
    "desired_state",
    "export_ops",
    "op_from_module",
    "op_to_module",
    "parse_reg",
    "qt_key",
    "qt_value",
    "reg_state",
    "reg_value",
    "render_reg",
    "render_state",
    "settings_desired",
    "state_from_module",
    "state_text",
    "state_to_module",
    "subtree",
    "values_desired",
    "with_ancestors",
]

REG_NONE = "REG_NONE"
REG_SZ = "REG_SZ"
REG_EXPAND_SZ = "REG_EXPAND_SZ"
REG_BINARY = "REG_BINARY"
REG_DWORD = "REG_DWORD"
REG_MULTI_SZ = "REG_MULTI_SZ"
REG_QWORD = "REG_QWORD"

# winnt.h type numbers (the N of a .reg ``hex(N):``)
_TYPE_NAMES = {
    0: REG_NONE,
    1: REG_SZ,
    2: REG_EXPAND_SZ,
    3: REG_BINARY,
    4: REG_DWORD,
    5: "REG_DWORD_BIG_ENDIAN",
    6: "REG_LINK",
    7: REG_MULTI_SZ,
    8: "REG_RESOURCE_LIST",
    9: "REG_FULL_RESOURCE_DESCRIPTOR",
    10: "REG_RESOURCE_REQUIREMENTS_LIST",
    11: REG_QWORD,
}
_TYPE_NUMBERS = {name: number for number, name in _TYPE_NAMES.items()}

HIVES = {
    "HKLM": "HKEY_LOCAL_MACHINE",
    "HKCU": "HKEY_CURRENT_USER",
    "HKCR": "HKEY_CLASSES_ROOT",
    "HKU": "HKEY_USERS",
}


class RegValue(NamedTuple):
    """One registry value in canonical form (see :func:`reg_value`)."""

    kind: str
    data: object


class Op(NamedTuple):
    """One registry operation; ``key`` is relative to the root, ``old`` is the value it replaces (for diffs)."""

    action: str  # create_key, set_value, delete_value, delete_key
    key: str
    name: str | None = None
    value: RegValue | None = None
    old: RegValue | None = None


class Desired(NamedTuple):
    """What a configuration wants below the root.

    ``values``: keys that must exist, with the values they must hold (other values are left alone). ``exact_trees``:
    below these keys (arrays) anything not in ``values`` is removed. ``delete_values`` and ``delete_trees`` go.
    """

    values: dict
    delete_values: tuple = ()
    delete_trees: tuple = ()
    exact_trees: tuple = ()


# ---------------------------------------------------------------------------------------------------------------
# Canonical values
# ---------------------------------------------------------------------------------------------------------------


def _fold(text: str) -> str:
    """Case-insensitive form of a key path or value name, one character for one (the registry upper-cases)."""
    return "".join(ch.upper() if len(ch.upper()) == 1 else ch for ch in text)


def _type_number(kind: object) -> int | None:
    """winnt.h number of a type name; types without a name are spelt REG_TYPE_<n> (or REG_UNKNOWN from .NET)."""
    if kind in _TYPE_NUMBERS:
        return _TYPE_NUMBERS[kind]
    if kind == "REG_UNKNOWN":
        return 0
    if isinstance(kind, str) and kind.startswith("REG_TYPE_") and kind[9:].isdigit():
        return int(kind[9:])
    return None


def _as_bytes(data: object, kind: str) -> bytes:
    if isinstance(data, (bytes, bytearray)):
        return bytes(data)
    if isinstance(data, (list, tuple)) and all(isinstance(b, int) and not isinstance(b, bool) for b in data):
        if not all(0 <= b <= 255 for b in data):
            raise ValueError("%s data: bytes must be 0..255, got %r" % (kind, data))
        return bytes(data)
    if isinstance(data, str):
        # the .reg spelling "40,00,5c" or plain hex "40005c"
        text = "".join(data.replace(",", " ").split())
        try:
            return bytes.fromhex(text)
        except ValueError:
            raise ValueError("%s data: got %r; allowed: hex bytes such as 40,00,5c" % (kind, data)) from None
    raise ValueError("%s data: got %r; allowed: bytes, a list of 0..255 or hex text" % (kind, data))


def _as_int(data: object, kind: str, bits: int) -> int:
    if isinstance(data, (bytes, bytearray)):
        if len(data) != bits // 8:
            raise ValueError("%s data: got %d bytes; allowed: %d" % (kind, len(data), bits // 8))
        return int.from_bytes(bytes(data), "little")
    if isinstance(data, str):
        text = data.strip().lower()
        try:
            data = int(text, 16) if text.startswith("0x") else int(text, 10)
        except ValueError:
            raise ValueError("%s data: got %r; allowed: a number" % (kind, data)) from None
    if isinstance(data, bool) or not isinstance(data, int):
        raise ValueError("%s data: got %r; allowed: an integer" % (kind, data))
    # Signed and unsigned spellings of the same bits are the same value (ansible/ansible#26049).
    if not -(1 << (bits - 1)) <= data < (1 << bits):
        raise ValueError("%s data: %d does not fit %d bits" % (kind, data, bits))
    return data & ((1 << bits) - 1)


def _utf16_text(data: bytes) -> str:
    """REG_SZ bytes -> text up to the first NUL (what readers of the value see)."""
    if len(data) % 2:
        data = data[:-1]
    return data.decode("utf-16-le", "surrogatepass").split("\x00", 1)[0]


def _multi_items(data: bytes) -> tuple:
    if len(data) % 2:
        data = data[:-1]
    items = []
    # Windows ends the list at the first empty string.
    for item in data.decode("utf-16-le", "surrogatepass").split("\x00"):
        if item == "":
            break
        items.append(item)
    return tuple(items)


def reg_value(kind: str, data: object) -> RegValue:
    """Canonical RegValue: str for SZ/EXPAND_SZ, unsigned int for DWORD/QWORD, tuple of str for MULTI_SZ, else bytes.

    Accepts the spellings found in the wild (signed DWORDs, hex text, byte lists, raw little-endian bytes), so that
    equal values always compare equal (ansible-modules-extras#3134: binary values reported changed on every run).
    """
    if _type_number(kind) is None:
        raise ValueError("registry type: got %r; allowed: %s" % (kind, ", ".join(sorted(_TYPE_NUMBERS))))
    if kind in (REG_SZ, REG_EXPAND_SZ):
        if isinstance(data, (bytes, bytearray)):
            return RegValue(kind, _utf16_text(bytes(data)))
        if not isinstance(data, str):
            raise ValueError("%s data: got %r; allowed: a string" % (kind, data))
        return RegValue(kind, data)
    if kind == REG_DWORD:
        return RegValue(kind, _as_int(data, kind, 32))
    if kind == REG_QWORD:
        return RegValue(kind, _as_int(data, kind, 64))
    if kind == REG_MULTI_SZ:
        if isinstance(data, (bytes, bytearray)):
            return RegValue(kind, _multi_items(bytes(data)))
        if isinstance(data, str) or not isinstance(data, (list, tuple)) or not all(isinstance(s, str) for s in data):
            raise ValueError("%s data: got %r; allowed: a list of strings" % (kind, data))
        for item in data:
            if item == "" or "\x00" in item:
                raise ValueError("%s data: item %r cannot be stored (empty or NUL ends the list)" % (kind, item))
        return RegValue(kind, tuple(data))
    return RegValue(kind, _as_bytes(data, kind))


def value_bytes(value: RegValue) -> bytes:
    """The bytes the registry holds for ``value``."""
    kind, data = value
    if kind in (REG_SZ, REG_EXPAND_SZ):
        return (data + "\x00").encode("utf-16-le", "surrogatepass")
    if kind == REG_DWORD:
        return data.to_bytes(4, "little")
    if kind == REG_QWORD:
        return data.to_bytes(8, "little")
    if kind == REG_MULTI_SZ:
        return "".join(item + "\x00" for item in data).encode("utf-16-le", "surrogatepass") + b"\x00\x00"
    return data


def qt_value(value: object) -> RegValue:
    """How Qt 5 on Windows stores a setting value (str, bool, int, list of str, QtUrl, INVALID)."""
    if isinstance(value, bool):
        return RegValue(REG_SZ, "true" if value else "false")
    if isinstance(value, int):
        # Qt writes int and uint as the 32 bits of toInt(); wider numbers would be REG_QWORD, which no setting is.
        if not -(1 << 31) <= value < (1 << 32):
            raise ValueError("integer %d does not fit a REG_DWORD" % value)
        return RegValue(REG_DWORD, value & 0xFFFFFFFF)
    if isinstance(value, QtUrl):
        # The text form "@Variant(<QDataStream bytes>)" holds NUL, so Qt stores its UTF-16 code units as binary.
        return RegValue(REG_BINARY, variant_url_raw(value.url).encode("utf-16-le"))
    if value is INVALID:
        return RegValue(REG_SZ, "@Invalid()")
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("strings containing NUL are not supported")
        return RegValue(REG_SZ, "@" + value if value.startswith("@") else value)
    if isinstance(value, (list, tuple)):
        items = []
        for item in value:
            if not isinstance(item, str) or item == "" or "\x00" in item:
                # Qt would fall back to a binary QVariant stream for such a list; no Starviewer setting needs it.
                raise ValueError("string list item %r: allowed: a non-empty string without NUL" % (item,))
            items.append("@" + item if item.startswith("@") else item)
        if not items:
            raise ValueError("an empty string list cannot be stored (remove the key instead)")
        return RegValue(REG_MULTI_SZ, tuple(items))
    raise ValueError("unsupported setting value %r of type %s" % (value, type(value).__name__))


def qt_key(key: str) -> tuple[str, str]:
    """Setting key -> (subkey path, value name): ``PACS/pacsparam/AETitle`` -> (``PACS\\pacsparam``, ``AETitle``)."""
    parts = [part for part in key.split("/") if part]
    if not parts:
        raise ValueError("empty setting key %r" % (key,))
    # Qt swaps the separators: "/" separates subkeys, a "\" inside a name becomes "/" in the registry.
    parts = [part.replace("\\", "/") for part in parts]
    return "\\".join(parts[:-1]), parts[-1]


def _join(*parts: str) -> str:
    return "\\".join(part for part in parts if part)


def _key_path(name: str) -> str:
    return "\\".join(part.replace("\\", "/") for part in name.split("/") if part)


# ---------------------------------------------------------------------------------------------------------------
# Desired state
# ---------------------------------------------------------------------------------------------------------------


def settings_desired(set_values: dict, remove: list | tuple = (), arrays: dict | None = None) -> Desired:
    """Settings as build_settings returns them (typed values) -> Desired registry content below the root."""
    values: dict = {}

    def put(key: str, name: str, value: RegValue) -> None:
        values.setdefault(key, {})[name] = value

    exact = []
    for array, items in (arrays or {}).items():
        tree = _key_path(array)
        exact.append(tree)
        put(tree, "size", RegValue(REG_DWORD, len(items)))
        for number, item in enumerate(items, 1):
            subkey = _join(tree, str(number))
            values.setdefault(subkey, {})
            for field, value in item.items():
                path, name = qt_key(field)
                put(_join(subkey, path), name, qt_value(value))
    for key, value in set_values.items():
        path, name = qt_key(key)
        put(path, name, qt_value(value))
    delete_values = []
    delete_trees = []
    for key in remove:
        # Removing a list setting drops its whole key; a plain key is one value.
        if _is_array(key):
            delete_trees.append(_key_path(key))
        else:
            delete_values.append(qt_key(key))
    desired = Desired(values, tuple(delete_values), tuple(delete_trees), tuple(exact))
    _check_disjoint(desired)
    return desired


def _is_array(key: str) -> bool:
    return setting_type(key) == "array"


def values_desired(values: dict) -> Desired:
    """``{subkey: {name: RegValue | str}}`` -> Desired that only ensures those values (a str is REG_SZ)."""
    result: dict = {}
    for key, names in values.items():
        if not isinstance(names, dict):
            raise ValueError("values[%r]: got %r; allowed: a dictionary of value name -> value" % (key, names))
        entry = result.setdefault(_norm_path(key), {})
        for name, value in names.items():
            entry[name] = value if isinstance(value, RegValue) else reg_value(REG_SZ, value)
    return Desired(result)


def _norm_path(path: str) -> str:
    return "\\".join(part for part in path.replace("/", "\\").split("\\") if part)


def _under(fkey: str, ftree: str) -> bool:
    return ftree == "" or fkey == ftree or fkey.startswith(ftree + "\\")


def _check_disjoint(desired: Desired) -> None:
    for tree in desired.delete_trees:
        for key in desired.values:
            if _under(_fold(key), _fold(tree)):
                raise ValueError("key %r is both written and removed" % (key,))
    for key, name in desired.delete_values:
        if name in desired.values.get(key, {}):
            raise ValueError("value %r of key %r is both written and removed" % (name, key))


def with_ancestors(state: dict) -> dict:
    """The state with every parent key present (the registry cannot hold a key without its parents)."""
    result = {key: dict(values) for key, values in state.items()}
    folded = {_fold(key) for key in result}
    for key in list(result):
        parts = key.split("\\") if key else []
        for end in range(len(parts)):
            parent = "\\".join(parts[:end])
            if _fold(parent) not in folded:
                folded.add(_fold(parent))
                result[parent] = {}
    return result


def desired_state(desired: Desired, current: dict | None = None) -> dict:
    """The state the registry holds once ``desired`` is applied to ``current`` (default: an empty root)."""
    return apply_ops(current or {}, delta(current or {}, desired))


# ---------------------------------------------------------------------------------------------------------------
# Delta engine
# ---------------------------------------------------------------------------------------------------------------


def _path_order(path: str) -> tuple:
    return tuple(_fold(path).split("\\")) if path else ()


def delta(current: dict, desired: Desired) -> list[Op]:
    """Operations that turn ``current`` into a state satisfying ``desired``, in the order to apply them.

    Creations and writes come first (parents before children), then value deletions, then key-tree deletions, so
    an interrupted run never leaves a half-deleted key that a newer size still points at.
    """
    keys = {_fold(key): key for key in current}
    ops: list[Op] = []
    doomed: set[str] = set()
    tree_ops: list[Op] = []

    for tree in desired.delete_trees:
        ftree = _fold(tree)
        hit = sorted((key for fkey, key in keys.items() if _under(fkey, ftree)), key=_path_order)
        if hit:
            tree_ops.append(Op("delete_key", hit[0] if _fold(hit[0]) == ftree else tree))
            doomed.update(fkey for fkey in keys if _under(fkey, ftree))

    wanted = {_fold(key) for key in with_ancestors(desired.values)}
    value_ops: list[Op] = []
    for tree in desired.exact_trees:
        ftree = _fold(tree)
        stale = sorted((key for fkey, key in keys.items() if _under(fkey, ftree) and fkey not in wanted
                        and fkey not in doomed), key=_path_order)
        for key in stale:
            fkey = _fold(key)
            if fkey in doomed:
                continue
            tree_ops.append(Op("delete_key", key))
            doomed.update(other for other in keys if _under(other, fkey))
        for fkey, key in sorted(keys.items(), key=lambda item: _path_order(item[1])):
            if not _under(fkey, ftree) or fkey in doomed:
                continue
            want = {_fold(name) for name in _lookup_key(desired.values, fkey)}
            for name, old in sorted(current[key].items(), key=lambda item: _fold(item[0])):
                if _fold(name) not in want:
                    value_ops.append(Op("delete_value", key, name, None, old))

    for key, name in desired.delete_values:
        fkey = _fold(key)
        if fkey in keys and fkey not in doomed:
            actual = keys[fkey]
            for have, old in current[actual].items():
                if _fold(have) == _fold(name):
                    value_ops.append(Op("delete_value", actual, have, None, old))

    for key in sorted(desired.values, key=_path_order):
        fkey = _fold(key)
        present = fkey in keys and fkey not in doomed
        have = current[keys[fkey]] if present else {}
        if present:
            key = keys[fkey]  # the registry keeps the existing key's case; say so in the diff
        else:
            ops.append(Op("create_key", key))
        by_name = {_fold(name): (name, value) for name, value in have.items()}
        for name, value in sorted(desired.values[_desired_name(desired.values, fkey)].items(),
                                  key=lambda item: _fold(item[0])):
            actual, old = by_name.get(_fold(name), (name, None))
            if old != value:
                ops.append(Op("set_value", key, actual, value, old))
    return ops + value_ops + tree_ops


def _desired_name(values: dict, fkey: str) -> str:
    for key in values:
        if _fold(key) == fkey:
            return key
    raise KeyError(fkey)


def _lookup_key(values: dict, fkey: str) -> dict:
    for key, names in values.items():
        if _fold(key) == fkey:
            return names
    return {}


def apply_ops(state: dict, ops: list[Op]) -> dict:
    """Apply ``ops`` to a copy of ``state`` the way the registry would (case-insensitive, parents created)."""
    result = {key: dict(values) for key, values in state.items()}

    def find(key: str) -> str | None:
        fkey = _fold(key)
        for have in result:
            if _fold(have) == fkey:
                return have
        return None

    for op in ops:
        if op.action == "delete_key":
            ftree = _fold(op.key)
            for have in [k for k in result if _under(_fold(k), ftree)]:
                del result[have]
            continue
        actual = find(op.key)
        if op.action == "delete_value":
            if actual is not None:
                for name in [n for n in result[actual] if _fold(n) == _fold(op.name)]:
                    del result[actual][name]
            continue
        if actual is None:
            parts = op.key.split("\\") if op.key else []
            for end in range(len(parts) + 1):
                partial = "\\".join(parts[:end])
                if find(partial) is None:
                    result[partial] = {}
            actual = find(op.key)
        if op.action == "set_value":
            values = result[actual]
            for name in [n for n in values if _fold(n) == _fold(op.name)]:
                # the registry keeps the name's original case when a value is overwritten
                values[name] = op.value
                break
            else:
                values[op.name] = op.value
        elif op.action != "create_key":
            raise ValueError("unknown operation %r" % (op.action,))
    return result


def subtree(state: dict, root: str) -> dict | None:
    """Keys below ``root`` (absolute paths in ``state``) with paths relative to it; None when root is absent."""
    froot = _fold(_norm_path(root))
    found = False
    result = {}
    for key, values in state.items():
        fkey = _fold(key)
        if fkey == froot:
            found = True
            result[""] = dict(values)
        elif fkey.startswith(froot + "\\"):
            found = True  # a key cannot exist without its parents
            result[key[len(froot) + 1:]] = dict(values)
    if found:
        result.setdefault("", {})
    return result if found else None


def export_ops(desired: Desired) -> list[Op]:
    """Operations for a stand-alone .reg file that enforces ``desired`` whatever the workstation holds.

    A .reg cannot know how long a list used to be, so each array key is deleted whole and written again; this removes
    any stale ``PacsList\\N`` however many there were.
    """
    ops = [Op("delete_key", tree) for tree in desired.delete_trees]
    ops += [Op("delete_key", tree) for tree in desired.exact_trees]
    ops += [Op("delete_value", key, name) for key, name in desired.delete_values]
    for key in sorted(with_ancestors(desired.values), key=_path_order):
        ops.append(Op("create_key", key))
        for name, value in sorted(desired.values.get(key, {}).items(), key=lambda item: _wine_order(item[0])):
            ops.append(Op("set_value", key, name, value))
    return ops


# ---------------------------------------------------------------------------------------------------------------
# .reg files (regedit version 5: UTF-16LE with BOM, CRLF)
# ---------------------------------------------------------------------------------------------------------------

REG_HEADER = "Windows Registry Editor Version 5.00"
_WRAP_AT = 77  # a hex line is broken once it reaches this many characters (80 columns with ",\" and a margin)


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _name_part(name: str) -> str:
    if name == "":
        return "@="
    if "\r" in name or "\n" in name:
        raise ValueError("value name %r: line breaks cannot be written to a .reg file" % (name,))
    return '"%s"=' % _escape(name)


def _units(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _hex_lines(prefix: str, data: bytes) -> str:
    """``prefix`` then the bytes as regedit writes them: ``xx,`` pairs, ``,\\`` + CRLF + two spaces at the margin."""
    out = [prefix]
    width = _units(prefix)
    for index, byte in enumerate(data):
        out.append("%02x" % byte)
        if index == len(data) - 1:
            break
        out.append(",")
        width += 3
        if width >= _WRAP_AT:
            out.append("\\\r\n  ")
            width = 2
    return "".join(out)


def _value_line(name: str, value: RegValue) -> str:
    head = _name_part(name)
    kind, data = value
    if kind == REG_SZ and "\r" not in data and "\n" not in data and "\x00" not in data:
        return '%s"%s"' % (head, _escape(data))
    if kind == REG_DWORD:
        return "%sdword:%08x" % (head, data)
    if kind == REG_BINARY:
        return _hex_lines(head + "hex:", data)
    # Line breaks in a REG_SZ have no portable escape, so such strings are written as hex(1) like other types.
    return _hex_lines(head + "hex(%x):" % _type_number(kind), value_bytes(value))


def render_reg(root: str, ops: list[Op]) -> bytes:
    """A .reg file applying ``ops`` below ``root`` (``HKEY_LOCAL_MACHINE\\SOFTWARE\\...``)."""
    root = _full_root(root)
    blocks: list[list[str]] = []
    current = None
    for op in ops:
        path = _join(root, op.key)
        if op.action == "delete_key":
            blocks.append(["[-%s]" % path])
            current = None
            continue
        if current is None or _fold(current) != _fold(path):
            blocks.append(["[%s]" % path])
            current = path
        if op.action == "set_value":
            blocks[-1].append(_value_line(op.name, op.value))
        elif op.action == "delete_value":
            blocks[-1].append(_name_part(op.name) + "-")
    text = REG_HEADER + "\r\n\r\n" + "".join("\r\n".join(block) + "\r\n\r\n" for block in blocks)
    return b"\xff\xfe" + text.encode("utf-16-le", "surrogatepass")


def _wine_order(name: str) -> tuple:
    # wineserver keeps names sorted by upper-cased UTF-16 code units, a shorter name first on a tie
    data = _fold(name).encode("utf-16-le", "surrogatepass")
    return tuple(int.from_bytes(data[i:i + 2], "little") for i in range(0, len(data), 2))


def render_state(root: str, state: dict) -> bytes:
    """The bytes ``wine reg export <root>`` writes for ``state`` (keys and values in wine's order)."""
    full = with_ancestors(state)
    if "" not in full:
        full[""] = {}
    ops = []
    for key in sorted(full, key=lambda path: tuple(_wine_order(p) for p in path.split("\\")) if path else ()):
        ops.append(Op("create_key", key))
        for name, value in sorted(full[key].items(), key=lambda item: (item[0] != "", _wine_order(item[0]))):
            ops.append(Op("set_value", key, name, value))
    return render_reg(root, ops)


def _full_root(root: str) -> str:
    root = _norm_path(root)
    hive, _sep, rest = root.partition("\\")
    return _join(HIVES.get(hive.upper(), hive), rest)


def _unescape(text: str, where: str) -> str:
    out = []
    index = 0
    while index < len(text):
        char = text[index]
        if char == "\\":
            if index + 1 >= len(text):
                raise ValueError("%s: dangling backslash" % where)
            nxt = text[index + 1]
            mapped = {"\\": "\\", '"': '"', "n": "\n", "r": "\r", "0": "\x00"}.get(nxt)
            if mapped is None:
                raise ValueError("%s: unknown escape \\%s" % (where, nxt))
            out.append(mapped)
            index += 2
        else:
            out.append(char)
            index += 1
    return "".join(out)


def _quoted_end(line: str, start: int, where: str) -> int:
    """Index of the closing quote of the string opened at ``start``."""
    index = start + 1
    while index < len(line):
        if line[index] == "\\":
            index += 2
            continue
        if line[index] == '"':
            return index
        index += 1
    raise ValueError("%s: unterminated string" % where)


def _parse_data(text: str, where: str) -> RegValue | None:
    if text == "-":
        return None
    if text.startswith('"'):
        end = _quoted_end(text, 0, where)
        if end != len(text) - 1:
            raise ValueError("%s: text after the closing quote" % where)
        return RegValue(REG_SZ, _unescape(text[1:end], where))
    lowered = text.lower()
    if lowered.startswith("dword:"):
        digits = text[6:]
        if len(digits) != 8 or any(c not in "0123456789abcdefABCDEF" for c in digits):
            raise ValueError("%s: bad dword %r" % (where, text))
        return RegValue(REG_DWORD, int(digits, 16))
    if lowered.startswith("hex"):
        head, sep, body = text.partition(":")
        if not sep:
            raise ValueError("%s: bad hex value" % where)
        if head.lower() == "hex":
            number = 3
        elif head.lower().startswith("hex(") and head.endswith(")"):
            try:
                number = int(head[4:-1], 16)
            except ValueError:
                raise ValueError("%s: bad type %r" % (where, head)) from None
        else:
            raise ValueError("%s: bad type %r" % (where, head))
        body = body.replace(" ", "")
        try:
            data = bytes.fromhex(body.replace(",", "")) if body else b""
        except ValueError:
            raise ValueError("%s: bad hex bytes" % where) from None
        if body and len(body.split(",")) != len(data):
            raise ValueError("%s: bad hex bytes" % where)
        kind = _TYPE_NAMES.get(number, "REG_TYPE_%d" % number)
        if kind in (REG_DWORD, REG_QWORD) and len(data) != (4 if kind == REG_DWORD else 8):
            raise ValueError("%s: %s of %d bytes" % (where, kind, len(data)))
        return reg_value(kind, data)
    raise ValueError("%s: unknown value form %r" % (where, text))


def parse_reg(data: bytes) -> list[tuple[str, Op]]:
    """Parse a regedit version 5 file (as ``wine reg export`` and :func:`render_reg` write it).

    Returns ``(absolute key path, Op)`` pairs in file order; the Op's ``key`` is that path too. Raises ValueError on
    anything it does not understand: wine's importer silently skips bad lines, so a lenient parser would hide them.
    """
    if not data.startswith(b"\xff\xfe"):
        raise ValueError("not a UTF-16LE .reg file (no byte order mark)")
    text = data[2:].decode("utf-16-le", "surrogatepass")
    lines = text.split("\r\n")
    if lines[0] != REG_HEADER:
        raise ValueError("first line is %r, expected %r" % (lines[0], REG_HEADER))
    result: list[tuple[str, Op]] = []
    key = None
    index = 1
    while index < len(lines):
        line = lines[index]
        number = index + 1
        index += 1
        if not line.strip() or line.startswith(";"):
            continue
        where = "line %d" % number
        if line.startswith("["):
            if not line.endswith("]"):
                raise ValueError("%s: bad key line %r" % (where, line))
            if line.startswith("[-"):
                path = line[2:-1]
                result.append((path, Op("delete_key", path)))
                key = None
            else:
                key = line[1:-1]
                result.append((key, Op("create_key", key)))
            continue
        if key is None:
            raise ValueError("%s: value outside a key" % where)
        if line.startswith("@="):
            name, rest = "", line[2:]
        elif line.startswith('"'):
            end = _quoted_end(line, 0, where)
            if line[end + 1:end + 2] != "=":
                raise ValueError("%s: expected = after the value name" % where)
            name, rest = _unescape(line[1:end], where), line[end + 2:]
        else:
            raise ValueError("%s: unexpected line %r" % (where, line))
        if rest.lower().startswith("hex"):
            while rest.endswith("\\"):
                if index >= len(lines):
                    raise ValueError("%s: continuation at end of file" % where)
                rest = rest[:-1] + lines[index].lstrip(" ")
                index += 1
        value = _parse_data(rest, where)
        if value is None:
            result.append((key, Op("delete_value", key, name)))
        else:
            result.append((key, Op("set_value", key, name, value)))
    return result


def reg_state(data: bytes, root: str | None = None) -> dict | None:
    """State after importing the .reg ``data`` into an empty registry; with ``root``, only that subtree (relative)."""
    state = apply_ops({}, [op for _path, op in parse_reg(data)])
    return state if root is None else subtree(state, _full_root(root))


# ---------------------------------------------------------------------------------------------------------------
# Module transport (JSON between the controller and the PowerShell modules)
# ---------------------------------------------------------------------------------------------------------------


def _data_from_module(kind: str, data: object, where: str) -> RegValue:
    if kind in (REG_SZ, REG_EXPAND_SZ, REG_DWORD, REG_QWORD):
        return reg_value(kind, data)
    if kind == REG_MULTI_SZ:
        # .NET drops nothing but may hand back empty items; the registry list ends at the first empty one
        items = []
        for item in data or []:
            if item == "":
                break
            items.append(item)
        return RegValue(kind, tuple(items))
    if not isinstance(data, str):
        raise ValueError("%s: %s data must be base64 text, got %r" % (where, kind, data))
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("%s: bad base64 data" % where) from None
    return reg_value(kind, raw)


def state_from_module(tree: dict) -> dict | None:
    """The ``starviewer_registry_read`` result for one path -> state (None when the key does not exist)."""
    if not tree.get("exists"):
        return None
    state = {}
    for entry in tree.get("keys", []):
        key = _norm_path(entry.get("key", ""))
        values = state.setdefault(key, {})
        for item in entry.get("values", []):
            where = "%s\\%s" % (key, item.get("name"))
            values[item.get("name", "")] = _data_from_module(item.get("type"), item.get("data"), where)
    return state


def _wire(value: RegValue) -> object:
    kind, data = value
    if kind in (REG_SZ, REG_EXPAND_SZ, REG_DWORD, REG_QWORD):
        return data
    if kind == REG_MULTI_SZ:
        return list(data)
    return base64.b64encode(data).decode("ascii")


def state_to_module(state: dict | None, path: str = "") -> dict:
    """A state in the form ``starviewer_registry_read`` returns it (inverse of :func:`state_from_module`)."""
    if state is None:
        return {"path": path, "exists": False, "keys": []}
    keys = []
    for key in sorted(with_ancestors(state), key=_path_order):
        values = [{"name": name, "type": value.kind, "data": _wire(value)}
                  for name, value in state.get(key, {}).items()]
        keys.append({"key": key, "values": values})
    return {"path": path, "exists": True, "keys": keys}


def op_to_module(op: Op) -> dict:
    """Op -> JSON for ``starviewer_registry_apply`` (binary as base64, DWORD/QWORD unsigned)."""
    result = {"action": op.action, "key": op.key}
    if op.action in ("set_value", "delete_value"):
        result["name"] = op.name
    if op.action == "set_value":
        result["type"] = op.value.kind
        result["data"] = _wire(op.value)
    return result


def op_from_module(item: dict) -> Op:
    """Inverse of :func:`op_to_module` (used by tests and to replay operations)."""
    value = None
    if item["action"] == "set_value":
        value = _data_from_module(item["type"], item["data"], item["key"])
    return Op(item["action"], item["key"], item.get("name"), value)


# ---------------------------------------------------------------------------------------------------------------
# Human-readable values for diffs
# ---------------------------------------------------------------------------------------------------------------


def describe(value: RegValue | None) -> str:
    """One-line text of a value for diffs: ``REG_SZ "x"``, ``REG_DWORD 11112 (0x00002b68)``, ..."""
    if value is None:
        return "(absent)"
    kind, data = value
    if kind in (REG_SZ, REG_EXPAND_SZ):
        return '%s "%s"' % (kind, _escape(data).replace("\n", "\\n").replace("\r", "\\r"))
    if kind in (REG_DWORD, REG_QWORD):
        return "%s %d (0x%0*x)" % (kind, data, 8 if kind == REG_DWORD else 16, data)
    if kind == REG_MULTI_SZ:
        return "%s [%s]" % (kind, ", ".join('"%s"' % _escape(item) for item in data))
    text = ",".join("%02x" % b for b in data)
    if kind == REG_BINARY and len(data) % 2 == 0:
        decoded = data.decode("utf-16-le", "surrogatepass")
        if decoded.startswith("@Variant(\x00\x00\x00\x11") and decoded.endswith(")"):
            return "%s QUrl %s (%s)" % (kind, decoded[17:-1], text)
    return "%s %s" % (kind, text)


def state_text(state: dict | None, root: str = "") -> str:
    """One line per key and value, sorted, for before/after diffs (``[root\\key]`` then ``name = TYPE data``)."""
    lines = []
    for key in sorted(with_ancestors(state or {}), key=_path_order):
        lines.append("[%s]" % (_join(root, key) or "(root)"))
        for name, value in sorted((state or {}).get(key, {}).items(), key=lambda item: _fold(item[0])):
            lines.append("%s = %s" % ('"%s"' % _escape(name) if name else "@", describe(value)))
    return "\n".join(lines) + ("\n" if lines else "")
