# Copyright: contributors to medimaging.starviewer
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Byte-exact reader and writer for Qt 5 QSettings INI files (no ``setIniCodec``).

Internal use only: this module is shared by the collection's modules and filters and
is not a public API of the collection.

Starviewer (Qt 5.12, no ini codec) reads ``/etc/xdg/GILab/Starviewer.conf`` with
QSettings.  Everything here mirrors what Qt 5's ``qsettings.cpp`` does (escaping,
section and key order, value types) and what ``QUrl`` does for ``@Variant(QUrl)``
values.  The tests compare every claim with PyQt5.  Pure functions only, no I/O.
"""

from __future__ import annotations

import bisect
import math
import struct
from collections.abc import Callable, Iterable

__all__ = [
    "INVALID",
    "QtIniDocument",
    "QtOpaque",
    "QtUrl",
    "diff_keys",
    "escape_key",
    "format_value",
    "merge",
    "parse_value",
    "qurl_encoded",
    "qurl_string",
    "unescape_key",
    "variant_url_raw",
]


# ---------------------------------------------------------------------------
# Value objects
# ---------------------------------------------------------------------------


class QtUrl:
    """A QVariant holding a QUrl; ``url`` is the text given to the QUrl constructor."""

    __slots__ = ("url",)

    def __init__(self, url: str) -> None:
        if not isinstance(url, str):
            raise TypeError("QtUrl expects a str, got %s" % type(url).__name__)
        object.__setattr__(self, "url", url)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("QtUrl is immutable")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, QtUrl) and other.url == self.url

    def __hash__(self) -> int:
        return hash(("QtUrl", self.url))

    def __repr__(self) -> str:
        return "QtUrl(%r)" % (self.url,)

    def __reduce__(self) -> tuple:
        return (QtUrl, (self.url,))


class QtOpaque:
    """A typed Qt value this codec reads but does not decode (``@Rect(...)``, other ``@Variant``).

    ``text`` is Qt's unescaped string form, so writing it back reproduces the original value.
    """

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        object.__setattr__(self, "text", text)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("QtOpaque is immutable")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, QtOpaque) and other.text == self.text

    def __hash__(self) -> int:
        return hash(("QtOpaque", self.text))

    def __repr__(self) -> str:
        return "QtOpaque(%r)" % (self.text,)

    def __reduce__(self) -> tuple:
        return (QtOpaque, (self.text,))


class _Invalid:
    """Type of :data:`INVALID`, the null QVariant written as ``@Invalid()``."""

    __slots__ = ()
    _instance = None

    def __new__(cls) -> _Invalid:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "INVALID"

    def __reduce__(self) -> str:
        return "INVALID"


INVALID = _Invalid()


# ---------------------------------------------------------------------------
# UTF-16 helpers: Qt works on UTF-16 code units, Python str on code points
# ---------------------------------------------------------------------------


def _units(text: str) -> list[int]:
    data = text.encode("utf-16-be", "surrogatepass")
    return [(data[i] << 8) | data[i + 1] for i in range(0, len(data), 2)]


def _from_units(units: list[int]) -> str:
    data = bytearray()
    for unit in units:
        data.append(unit >> 8)
        data.append(unit & 0xFF)
    return bytes(data).decode("utf-16-be", "surrogatepass")


def _u16key(text: str) -> bytes:
    """Sort key that orders strings like QString::operator< (UTF-16 code units)."""
    return text.encode("utf-16-be", "surrogatepass")


_HEX = "0123456789ABCDEF"
_HEX_CHARS = frozenset("0123456789abcdefABCDEF")
# characters iniEscapedKey() keeps as they are; also the ones Qt accepts in host names
_KEY_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.")
_KEY_SAFE_OR_SLASH = _KEY_SAFE | {"/"}


def _is_hex_unit(unit: int) -> bool:
    return 0x30 <= unit <= 0x39 or 0x41 <= unit <= 0x46 or 0x61 <= unit <= 0x66


# ---------------------------------------------------------------------------
# QUrl emulation (qurl.cpp, qurlrecode.cpp, qipaddress.cpp of Qt 5)
# ---------------------------------------------------------------------------

_DECODE, _LEAVE, _ENCODE = 0, 1, 2

# qurlrecode.cpp defaultActionTable for U+0020..U+007F
_DEFAULT_ACTIONS = (
    [2, 1, 2, 1, 1, 2, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1]  # space ! " # $ % & ' ( ) * + , - . /
    + [0] * 10  # 0-9
    + [1, 1, 2, 1, 2, 1]  # : ; < = > ?
    + [1]
    + [0] * 26  # @ A-Z
    + [1, 2, 1, 2, 0]  # [ \ ] ^ _
    + [2]
    + [0] * 26  # ` a-z
    + [2, 2, 2, 0, 2]  # { | } ~ DEL
)
# characters DecodeReserved would decode (reservedMask == 0x00)
_RESERVED_UNITS = frozenset(ord(c) for c in '"<>\\^`{|}')

_ENCODE_SPACES = 0x100000
_ENCODE_UNICODE = 0x200000
_ENCODE_DELIMITERS = 0x400000 | 0x800000
_ENCODE_RESERVED = 0x1000000
_DECODE_RESERVED = 0x2000000
_FULLY_ENCODED = _ENCODE_SPACES | _ENCODE_UNICODE | _ENCODE_DELIMITERS | _ENCODE_RESERVED


def _mods(spec: str) -> tuple[tuple[int, int], ...]:
    """Table modifications as (character, action) pairs, e.g. 'd:d@' decode ':' and '@'."""
    actions = {"d": _DECODE, "l": _LEAVE, "e": _ENCODE}
    return tuple((ord(spec[i + 1]), actions[spec[i]]) for i in range(0, len(spec), 2))


_IN_ISOLATION = 'd:d@d]d[d/d?d#d"d<d>d^d\\d|d{d}'
_USERNAME_IN_ISOLATION = _mods(_IN_ISOLATION)
_PASSWORD_IN_ISOLATION = _mods(_IN_ISOLATION[2:])
_PATH_IN_ISOLATION = _mods(_IN_ISOLATION[10:])
_QUERY_IN_ISOLATION = _mods(_IN_ISOLATION[12:])
_FRAGMENT_IN_ISOLATION = _mods(_IN_ISOLATION[14:])
_IN_URL = "e:e@e]e[e/e?e#"
_USERNAME_IN_URL = _mods(_IN_URL)
_PASSWORD_IN_URL = _mods(_IN_URL[2:])
_PATH_IN_URL = _mods(_IN_URL[10:])
_QUERY_IN_URL = _mods(_IN_URL[12:])
_FRAGMENT_IN_URL = _mods(_IN_URL[12:])


def _pct(byte: int) -> list[int]:
    return [0x25, ord(_HEX[byte >> 4]), ord(_HEX[byte & 0xF])]


def _decode_pct(units: list[int], i: int) -> int:
    """Value of the %XX at ``units[i]``, or -1 when the two characters are not hex digits."""
    a, b = units[i + 1], units[i + 2]
    if not (_is_hex_unit(a) and _is_hex_unit(b)):
        return -1
    return int(chr(a) + chr(b), 16)


def _pct_utf8_to_units(units: list[int], i: int, first: int) -> tuple[list[int], int] | None:
    """Decode a percent-encoded UTF-8 sequence starting at ``units[i]`` (QUtf8Functions::fromUtf8).

    Returns (UTF-16 units, index after the sequence) or None when the bytes are not valid UTF-8.
    """
    if first <= 0xC1 or first >= 0xF5:
        return None
    if first < 0xE0:
        needed, minimum, code = 2, 0x80, first & 0x1F
    elif first < 0xF0:
        needed, minimum, code = 3, 0x800, first & 0x0F
    else:
        needed, minimum, code = 4, 0x10000, first & 0x07
    pos = i + 3
    for _count in range(needed - 1):
        if pos + 2 >= len(units) or units[pos] != 0x25:
            return None
        byte = _decode_pct(units, pos)
        if byte < 0 or (byte & 0xC0) != 0x80:
            return None
        code = (code << 6) | (byte & 0x3F)
        pos += 3
    if code < minimum or 0xD800 <= code <= 0xDFFF or code > 0x10FFFF:
        return None
    return _units(chr(code)), pos


def _recode(units: list[int], options: int, mods: tuple[tuple[int, int], ...], retry: bool = False) -> list[int] | None:
    """Port of qt_urlRecode()/recode(): the recoded units, or None when nothing had to change."""
    table = list(_DEFAULT_ACTIONS)
    if options & _DECODE_RESERVED:
        for unit in _RESERVED_UNITS:
            table[unit - 0x20] = _DECODE
    if not options & _ENCODE_SPACES:
        table[0] = _DECODE
    for unit, action in mods:
        table[unit - 0x20] = action

    out: list[int] | None = None
    i = 0
    count = len(units)
    action = _ENCODE
    while i < count:
        c = units[i]
        if c >= 0x80:
            if options & _ENCODE_UNICODE:
                out = (units[:i] if out is None else out) + _utf8_pct(units, i)
                i += 2 if 0xD800 <= c <= 0xDBFF else 1
            else:
                if out is not None:
                    out.append(c)
                i += 1
            continue
        action = _ENCODE if c < 0x20 else table[c - 0x20]
        if action != _ENCODE:
            if out is not None:
                out.append(c)
            i += 1
            continue
        if out is None:
            out = units[:i]
        if c != 0x25:
            out.extend(_pct(c))
            i += 1
            continue
        if retry:
            # Qt's tolerant mode: one stray '%' makes every '%' literal
            out.extend((0x25, 0x32, 0x35))
            i += 1
            continue
        decoded = -1 if i + 2 >= count else _decode_pct(units, i)
        if decoded < 0:
            return _recode(units, options, mods, True)
        if decoded >= 0x80:
            utf16 = None if options & _ENCODE_UNICODE else _pct_utf8_to_units(units, i, decoded)
            if utf16 is not None:
                out.extend(utf16[0])
                i = utf16[1]
                continue
            action = _LEAVE
        elif decoded >= 0x20:
            action = table[decoded - 0x20]
        if action == _DECODE:
            out.append(decoded)
        else:
            out.extend((0x25, ord(chr(units[i + 1]).upper()), ord(chr(units[i + 2]).upper())))
        i += 3
    if out is not None and out == units:
        return None
    return out


def _utf8_pct(units: list[int], i: int) -> list[int]:
    """Percent-encoded UTF-8 of the character at ``units[i]`` (unicodeToEncodedUtf8)."""
    c = units[i]
    if 0xD800 <= c <= 0xDBFF and i + 1 < len(units) and 0xDC00 <= units[i + 1] <= 0xDFFF:
        char = _from_units(units[i : i + 2])
    elif 0xD800 <= c <= 0xDFFF:
        raise ValueError("URL contains an unpaired surrogate; not supported")
    else:
        char = chr(c)
    encoded: list[int] = []
    for byte in char.encode("utf-8"):
        encoded.extend(_pct(byte))
    return encoded


def _recoded(units: list[int], options: int, mods: tuple[tuple[int, int], ...]) -> list[int]:
    result = _recode(units, options, mods)
    return units if result is None else result


class _Url:
    """The parsed state of a QUrl (QUrlPrivate), components kept as UTF-16 units."""

    def __init__(self) -> None:
        self.scheme = ""
        self.has_scheme = False
        self.has_authority = False
        self.has_username = False
        self.has_password = False
        self.username: list[int] = []
        self.password: list[int] = []
        self.host = ""
        self.port = -1
        self.path: list[int] = []
        self.has_query = False
        self.query: list[int] = []
        self.has_fragment = False
        self.fragment: list[int] = []


_ASCII_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


def _set_scheme(url: _Url, text: str) -> bool:
    if not text or text[0] not in _ASCII_LETTERS:
        return False
    for ch in text:
        if ch not in _ASCII_LETTERS and ch not in "0123456789+-.":
            return False
    url.scheme = text.lower()
    url.has_scheme = True
    return True


def _canonical_ipv4(text: str) -> bool:
    parts = text.split(".")
    if len(parts) != 4:
        return False
    for part in parts:
        if not part.isdigit() or not part.isascii() or (len(part) > 1 and part[0] == "0") or int(part) > 255:
            return False
    return True


def _parse_ipv6(text: str) -> list[int]:
    """Parse an IPv6 address into 16 bytes (strict RFC 4291 text forms only)."""
    if not text or any(ch not in "0123456789abcdefABCDEF:." for ch in text):
        raise ValueError("invalid or unsupported IPv6 address %r" % text)
    tail: list[int] = []
    if "." in text:
        head, _sep, ipv4 = text.rpartition(":")
        if not _canonical_ipv4(ipv4):
            raise ValueError("invalid or unsupported IPv4 part in IPv6 address %r" % text)
        tail = [int(p) for p in ipv4.split(".")]
        text = head + ":0:0"
    words_needed = 8
    if text.count("::") > 1:
        raise ValueError("invalid IPv6 address %r" % text)
    if "::" in text:
        left, right = text.split("::")
        left_words = left.split(":") if left else []
        right_words = right.split(":") if right else []
        missing = words_needed - len(left_words) - len(right_words)
        if missing < 1:
            raise ValueError("invalid IPv6 address %r" % text)
        words = left_words + ["0"] * missing + right_words
    else:
        words = text.split(":")
    if len(words) != words_needed or any(not w or len(w) > 4 for w in words):
        raise ValueError("invalid or unsupported IPv6 address %r" % text)
    result: list[int] = []
    for word in words:
        value = int(word, 16)
        result.extend((value >> 8, value & 0xFF))
    if tail:
        result[12:16] = tail
    return result


def _ipv6_to_string(address: list[int]) -> str:
    """Port of QIPAddressUtils::toString(IPv6Address)."""
    embedded_ipv4 = False
    if all(b == 0 for b in address[:10]):
        if address[10] == 0xFF and address[11] == 0xFF:
            embedded_ipv4 = True
        elif address[10] == 0 and address[11] == 0:
            if address[12] or address[13] or address[14]:
                embedded_ipv4 = True
            elif address[15] == 0:
                return "::"
    run_length = 0
    run_offset = 0
    i = 0
    while i < 16:
        if address[i] == 0 and address[i + 1] == 0:
            j = i
            while j < 16 and address[j] == 0 and address[j + 1] == 0:
                j += 2
            if j - i > run_length:
                run_length = j - i
                run_offset = i
                i = j
        i += 2
    out = ""
    if run_length < 4:
        run_offset = -1
    elif run_offset == 0:
        out += ":"
    i = 0
    while i < 16:
        if i == run_offset:
            out += ":"
            i += run_length
            continue
        if i == 12 and embedded_ipv4:
            return out + ".".join(str(b) for b in address[12:16])
        out += "%x" % ((address[i] << 8) | address[i + 1])
        if i != 14:
            out += ":"
        i += 2
    return out


def _set_host(url: _Url, text: str) -> None:
    """QUrlPrivate::setHost() for the host forms this module supports; raises ValueError otherwise."""
    url.host = ""
    if not text:
        return
    if text[0] == "[":
        if text[-1] != "]":
            raise ValueError("invalid URL host %r: missing ']'" % text)
        inner = text[1:-1]
        if inner[:1] in ("v", "V"):
            raise ValueError("IPvFuture host %r is not supported" % text)
        if "%" in inner:
            raise ValueError("IPv6 host %r with zone id or percent-encoding is not supported" % text)
        url.host = "[" + _ipv6_to_string(_parse_ipv6(inner)) + "]"
        return
    if any(ord(ch) > 0x7F for ch in text):
        raise ValueError("host %r: non-ASCII (IDN) host names are not supported" % text)
    if "%" in text:
        raise ValueError("host %r: percent-encoded host names are not supported" % text)
    bad = [ch for ch in text if ch not in _KEY_SAFE]
    if bad:
        raise ValueError("invalid URL host %r (Qt rejects %r)" % (text, bad[0]))
    labels = text.split(".")
    if text[0] in "0123456789" and labels[-1][:1] in tuple("0123456789"):
        # Qt's inet_aton-style parser would read such hosts as (possibly shortened) IPv4.
        if not _canonical_ipv4(text):
            raise ValueError("host %r: only canonical dotted-quad IPv4 addresses are supported" % text)
        url.host = text
        return
    lowered = text.lower()
    for index, label in enumerate(lowered.split(".")):
        if not label:
            if index == len(labels) - 1 and index > 0:
                continue  # a trailing dot is kept
            raise ValueError("invalid URL host %r: empty label" % text)
        if label.startswith("xn--"):
            raise ValueError("host %r: ACE (xn--) labels are not supported" % text)
        if len(label) > 63 or label[0] == "-" or label[-1] == "-":
            raise ValueError("invalid URL host %r: bad label %r" % (text, label))
    url.host = lowered


def _set_authority(url: _Url, text: str, start: int, end: int) -> None:
    url.has_authority = True
    if start == end:
        return
    at = text.find("@", start)
    if 0 <= at < end:
        if text.find("@", at + 1, end) != -1:
            raise ValueError("URL authority %r has more than one '@'" % text[start:end])
        colon = text.find(":", start)
        user_end = at if colon == -1 else min(colon, at)
        url.has_username = True
        url.username = _recoded(_units(text[start:user_end]), 0, _USERNAME_IN_ISOLATION)
        if 0 <= colon < at:
            url.has_password = True
            url.password = _recoded(_units(text[colon + 1 : at]), 0, _PASSWORD_IN_ISOLATION)
        start = at + 1
    colon = text.rfind(":", start, end)
    if colon != -1 and text[start] == "[":
        bracket = text.rfind("]", start, end)
        if bracket == -1 or bracket > colon:
            colon = -1
    host_end = end
    if colon != -1:
        host_end = colon
        digits = text[colon + 1 : end]
        if digits:
            if not (digits.isascii() and digits.isdigit()) or int(digits) > 0xFFFF:
                raise ValueError("invalid URL port %r" % digits)
            url.port = int(digits)
    _set_host(url, text[start:host_end])


def _parse_url(text: str) -> _Url:
    """QUrlPrivate::parse() in TolerantMode, then QUrl::isValid(); raises ValueError if invalid."""
    if not isinstance(text, str):
        raise TypeError("URL must be a str, got %s" % type(text).__name__)
    if any(0xD800 <= ord(ch) <= 0xDFFF for ch in text):
        raise ValueError("URL contains an unpaired surrogate; not supported")
    url = _Url()
    hash_pos = text.find("#")
    head = text if hash_pos == -1 else text[:hash_pos]
    question = head.find("?")
    colon = (head if question == -1 else head[:question]).find(":")
    hier_start = 0
    if colon != -1 and _set_scheme(url, text[:colon]):
        hier_start = colon + 1
    hier_end = min(p for p in (question, hash_pos, len(text)) if p != -1)
    if text.startswith("//", hier_start) and hier_end - hier_start >= 2:
        slash = text.find("/", hier_start + 2, hier_end)
        authority_end = hier_end if slash == -1 else slash
        _set_authority(url, text, hier_start + 2, authority_end)
        path_start = authority_end
    else:
        path_start = hier_start
    url.path = _recoded(_units(text[path_start:hier_end]), 0, _PATH_IN_ISOLATION)
    if question != -1:
        url.has_query = True
        query_end = len(text) if hash_pos == -1 else hash_pos
        url.query = _recoded(_units(text[question + 1 : query_end]), 0, _QUERY_IN_ISOLATION)
    if hash_pos != -1:
        url.has_fragment = True
        url.fragment = _recoded(_units(text[hash_pos + 1 :]), 0, _FRAGMENT_IN_ISOLATION)
    _check_valid(url, text)
    return url


def _check_valid(url: _Url, text: str) -> None:
    """QUrlPrivate::validityError() for a URL that parsed without errors."""
    present = url.has_scheme or url.has_authority or url.has_query or url.has_fragment
    if not present and url.port == -1 and not url.path:
        raise ValueError("empty URL %r is not valid" % text)
    path = url.path
    if not path:
        return
    if path[0] == 0x2F:
        if url.has_authority or len(path) == 1 or path[1] != 0x2F:
            return
        raise ValueError("invalid URL %r: path starts with '//' but there is no authority" % text)
    if url.has_authority:
        raise ValueError("invalid URL %r: relative path with an authority" % text)
    if url.has_scheme:
        return
    for unit in path:
        if unit == 0x2F:
            return
        if unit == 0x3A:
            raise ValueError("invalid URL %r: relative URL path has ':' before any '/'" % text)


def _url_to_string(url: _Url, options: int) -> str:
    """QUrl::toString(options) with the full-URL tables (options include EncodeReserved)."""
    delimiters = bool(options & _ENCODE_DELIMITERS)
    out = ""
    if url.has_scheme:
        out += url.scheme + ":"
    if url.has_authority:
        out += "//"
        if url.has_username or url.has_password:
            out += _from_units(_recoded(url.username, options, _USERNAME_IN_URL))
            if url.has_password:
                out += ":" + _from_units(_recoded(url.password, options, _PASSWORD_IN_URL))
            out += "@"
        out += url.host
        if url.port != -1:
            out += ":%d" % url.port
    elif url.scheme == "file" and url.path[:1] == [0x2F]:
        out += "//"
    out += _from_units(_recoded(url.path, options, _PATH_IN_URL))
    if url.has_query:
        out += "?" + _from_units(_recoded(url.query, options, _QUERY_IN_URL))
    if url.has_fragment:
        mods = _FRAGMENT_IN_URL if delimiters else ()
        out += "#" + _from_units(_recoded(url.fragment, options, mods))
    return out


def qurl_encoded(url: str) -> str:
    """What ``QUrl(url).toEncoded()`` returns, as ASCII text.

    Raises ValueError when QUrl would be invalid, and for inputs this emulation does not
    cover (IDN or ``xn--`` hosts, percent-encoded hosts, IPv6 zone ids, non-canonical
    numeric IPv4 forms, IPvFuture).
    """
    return _url_to_string(_parse_url(url), _FULLY_ENCODED)


def qurl_string(url: str) -> str:
    """What ``QUrl(url).toString()`` returns (PrettyDecoded: spaces and non-ASCII decoded)."""
    return _url_to_string(_parse_url(url), _ENCODE_RESERVED)


def variant_url_raw(url: str) -> str:
    """The QString QSettings builds for a QUrl before INI escaping (one char per stream byte)."""
    encoded = qurl_encoded(url).encode("ascii")
    stream = struct.pack(">II", 17, len(encoded)) + encoded
    return "@Variant(" + stream.decode("latin-1") + ")"


# ---------------------------------------------------------------------------
# Writing values (QSettingsPrivate::variantToString + iniEscapedString)
# ---------------------------------------------------------------------------

_NAMED_ESCAPES = {0x07: "\\a", 0x08: "\\b", 0x0C: "\\f", 0x0A: "\\n", 0x0D: "\\r", 0x09: "\\t", 0x0B: "\\v"}


# printable ASCII that iniEscapedString() neither escapes nor quotes for
_PLAIN_VALUE_CHARS = frozenset(chr(unit) for unit in range(0x20, 0x7F)) - frozenset('"\\;,=')


def _escape_string(text: str) -> str:
    """iniEscapedString() without a codec: ASCII output, quoted when Qt quotes."""
    if _PLAIN_VALUE_CHARS.issuperset(text) and text[:1] != " " and text[-1:] != " ":
        return text  # most values; merge() formats every wanted value, so this is worth a shortcut
    out: list[str] = []
    needs_quotes = False
    escape_next_if_hex = False
    for unit in _units(text):
        if unit in (0x3B, 0x2C, 0x3D):
            needs_quotes = True
        if escape_next_if_hex and _is_hex_unit(unit):
            # the reader parses \x greedily, so a following hex digit must be escaped too
            out.append("\\x%x" % unit)
            continue
        escape_next_if_hex = False
        if unit == 0:
            out.append("\\0")
            escape_next_if_hex = True
        elif unit in _NAMED_ESCAPES:
            out.append(_NAMED_ESCAPES[unit])
        elif unit in (0x22, 0x5C):
            out.append("\\" + chr(unit))
        elif unit <= 0x1F or unit >= 0x7F:
            out.append("\\x%x" % unit)
            escape_next_if_hex = True
        else:
            out.append(chr(unit))
    result = "".join(out)
    if needs_quotes or result[:1] == " " or result[-1:] == " ":
        result = '"' + result + '"'
    return result


def _shortest_digits(value: float) -> tuple[str, int]:
    """Shortest round-trip digits and decimal-point position of a positive finite float."""
    mantissa, _sep, exponent = repr(value).partition("e")
    whole, _sep, fraction = mantissa.partition(".")
    digits = (whole + fraction).lstrip("0")
    decpt = len(whole) + (int(exponent) if exponent else 0)
    decpt -= len(whole + fraction) - len((whole + fraction).lstrip("0"))
    return digits.rstrip("0") or "0", decpt


def _format_double(value: float) -> str:
    """QString::number(value, 'g', QLocale::FloatingPointShortest) as QVariant::toString uses it."""
    if math.isnan(value):
        return "nan"
    if value in (float("inf"), float("-inf")):
        return "inf" if value > 0 else "-inf"
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    digits, decpt = _shortest_digits(abs(value))
    cutoff = 6
    if decpt > 0:
        # Qt picks exponent form only when it is shorter (qlocale.cpp, DFSignificantDigits)
        cutoff = len(digits) + 4 + (2 if decpt > 100 else 1)
        if len(digits) > decpt:
            cutoff += 1
    if decpt - 1 < -4 or decpt - 1 > cutoff - 1:
        exponent = decpt - 1
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return "%s%se%s%02d" % (sign, mantissa, "-" if exponent < 0 else "+", abs(exponent))
    if decpt <= 0:
        return sign + "0." + "0" * -decpt + digits
    if decpt >= len(digits):
        return sign + digits + "0" * (decpt - len(digits))
    return sign + digits[:decpt] + "." + digits[decpt:]


def _variant_to_string(value: object) -> str:
    """QSettingsPrivate::variantToString() for the value types this module supports."""
    if value is INVALID:
        return "@Invalid()"
    if isinstance(value, QtUrl):
        return variant_url_raw(value.url)
    if isinstance(value, QtOpaque):
        return value.text
    if isinstance(value, (bytes, bytearray)):
        return "@ByteArray(" + bytes(value).decode("latin-1") + ")"
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, int):
        if not -(2**63) <= value < 2**64:
            raise ValueError("integer %d does not fit a Qt 64-bit integer" % value)
        text = str(value)
    elif isinstance(value, float):
        text = _format_double(value)
    elif isinstance(value, str):
        if "\x00" in value:
            # Qt >= 5.10 writes such strings as @String(...); older 5.x did not, so refuse.
            raise ValueError("strings containing NUL are not supported")
        text = value
    else:
        raise TypeError("unsupported value type %s" % type(value).__name__)
    return "@" + text if text.startswith("@") else text


def format_value(value: object) -> str:
    """Exactly the text Qt 5 writes after ``key=`` for the QVariant of ``value``.

    str, bool, int, float, bytes (QByteArray), list/tuple (QStringList), QtUrl, QtOpaque
    and INVALID are supported.  A one-item list is written like its item, an empty list
    as ``@Invalid()``, as Qt does for a QStringList.
    """
    if isinstance(value, (list, tuple)):
        if not value:
            return "@Invalid()"
        if len(value) == 1 and not isinstance(value[0], str):
            raise TypeError("a one-item list must hold a str (it is written as a QStringList)")
        return ", ".join(_escape_string(_variant_to_string(item)) for item in value)
    return _escape_string(_variant_to_string(value))


# ---------------------------------------------------------------------------
# Reading values (iniUnescapedStringList + stringToVariant)
# ---------------------------------------------------------------------------

_ESCAPE_CODES = {"a": 7, "b": 8, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11, '"': 34, "?": 63, "'": 39, "\\": 92}


def _chop_trailing_spaces(units: list[int], limit: int) -> None:
    while len(units) > limit and units[-1] in (0x20, 0x09):
        units.pop()


def _append_run(units: list[int], run: str, utf8: bool) -> None:
    if utf8:
        units.extend(_units(run.encode("latin-1", "replace").decode("utf-8", "replace")))
    else:
        units.extend(ord(ch) for ch in run)


def _unescape_value(data: str, start: int, end: int, utf8: bool = False) -> str | list[str]:
    """Port of iniUnescapedStringList(): a str, or a list of str for an unquoted comma list."""
    result: list[int] = []
    items: list[str] | None = None
    in_quotes = False
    quoted = False
    i = start
    skip_spaces = True
    while True:
        if skip_spaces:
            while i < end and data[i] in " \t":
                i += 1
            skip_spaces = False
        chop_limit = len(result)
        finished = True
        while i < end:
            ch = data[i]
            if ch == "\\":
                i += 1
                if i >= end:
                    return _finish_value(result, items)
                code = data[i]
                i += 1
                if code in _ESCAPE_CODES:
                    result.append(_ESCAPE_CODES[code])
                    chop_limit = len(result)
                    continue
                if code == "x" or code in "01234567":
                    is_hex = code == "x"
                    if is_hex:
                        if i >= end:
                            return _finish_value(result, items)
                        if data[i] not in _HEX_CHARS:
                            chop_limit = len(result)
                            continue
                    value = 0 if is_hex else int(code)
                    digits = _HEX_CHARS if is_hex else "01234567"
                    while i < end and data[i] in digits:
                        value = ((value << (4 if is_hex else 3)) + int(data[i], 16)) & 0xFFFF
                        i += 1
                    result.append(value)
                    if i >= end:
                        return _finish_value(result, items)
                    chop_limit = len(result)
                    continue
                if code in "\n\r" and i < end and data[i] in "\n\r" and data[i] != code:
                    i += 1
                chop_limit = len(result)
            elif ch == '"':
                i += 1
                quoted = True
                in_quotes = not in_quotes
                if not in_quotes:
                    skip_spaces = True
                    finished = False
                    break
            elif ch == "," and not in_quotes:
                if not quoted:
                    _chop_trailing_spaces(result, chop_limit)
                if items is None:
                    items = []
                items.append(_from_units(result))
                result = []
                quoted = False
                i += 1
                skip_spaces = True
                finished = False
                break
            else:
                j = i + 1
                while j < end and data[j] not in '\\",':
                    j += 1
                _append_run(result, data[i:j], utf8)
                i = j
        if finished:
            if not quoted:
                _chop_trailing_spaces(result, chop_limit)
            return _finish_value(result, items)


def _finish_value(result: list[int], items: list[str] | None) -> str | list[str]:
    if items is None:
        return _from_units(result)
    items.append(_from_units(result))
    return items


def _split_args(text: str, index: int) -> list[str]:
    args: list[str] = []
    item = ""
    for ch in text[index + 1 :]:
        if ch == ")":
            args.append(item)
        elif ch == " ":
            args.append(item)
            item = ""
        else:
            item += ch
    return args


def _latin1_bytes(text: str) -> bytes:
    return text.encode("latin-1", "replace")


def _variant_from_stream(text: str) -> object:
    """Decode a ``@Variant(...)`` string: QUrl (type 17) becomes QtUrl, others stay opaque."""
    data = _latin1_bytes(text[9:])
    type_id = struct.unpack(">I", data[:4])[0] if len(data) >= 4 else 0
    if type_id == 0:
        return INVALID  # QDataStream yields a null QVariant for a missing or unknown type
    if type_id != 17:
        return QtOpaque(text)
    if len(data) < 8:
        return QtUrl("")
    size = struct.unpack(">I", data[4:8])[0]
    if size == 0xFFFFFFFF or 8 + size > len(data):
        # a null or truncated QByteArray reads as an empty QUrl
        return QtUrl("")
    return QtUrl(data[8 : 8 + size].decode("latin-1"))


def _string_to_variant(text: str) -> object:
    """QSettingsPrivate::stringToVariant()."""
    if text.startswith("@"):
        if text.endswith(")"):
            if text.startswith("@ByteArray("):
                return _latin1_bytes(text[11:-1])
            if text.startswith("@String("):
                return text[8:-1]
            if text.startswith("@Variant("):
                return _variant_from_stream(text)
            if text.startswith("@DateTime("):
                return QtOpaque(text)
            for prefix, count in (("@Rect(", 4), ("@Size(", 2), ("@Point(", 2)):
                if text.startswith(prefix) and len(_split_args(text, len(prefix) - 1)) == count:
                    return QtOpaque(text)
            if text == "@Invalid()":
                return INVALID
        if text.startswith("@@"):
            return text[1:]
    return text


def _list_to_value(items: list[str]) -> list:
    """QSettingsPrivate::stringListToVariantList()."""
    if any(item.startswith("@") and not item.startswith("@@") for item in items):
        return [_string_to_variant(item) for item in items]
    return [item[1:] if item.startswith("@@") else item for item in items]


def _value_from_span(data: str, start: int, end: int, utf8: bool = False) -> object:
    parsed = _unescape_value(data, start, end, utf8)
    if isinstance(parsed, list):
        return _list_to_value(parsed)
    return _string_to_variant(parsed)


def parse_value(text: str) -> object:
    """Read the text after ``=`` as Qt 5 does (no codec).

    Returns str (numbers and booleans stay str, as QSettings keeps them), list of str for
    an unquoted comma list, QtUrl, bytes (``@ByteArray``), INVALID or QtOpaque.
    """
    return _value_from_span(text, 0, len(text))


# ---------------------------------------------------------------------------
# Keys (iniEscapedKey / iniUnescapedKey)
# ---------------------------------------------------------------------------


def escape_key(key: str) -> str:
    """iniEscapedKey() of one key path: '/' becomes '\\', other unsafe characters %XX or %UXXXX."""
    if _KEY_SAFE_OR_SLASH.issuperset(key):
        return key.replace("/", "\\")  # most keys; merge() escapes every new one
    out: list[str] = []
    for unit in _units(key):
        ch = chr(unit)
        if ch == "/":
            out.append("\\")
        elif ch in _KEY_SAFE:
            out.append(ch)
        elif unit <= 0xFF:
            out.append("%%%02X" % unit)
        else:
            out.append("%%U%04X" % unit)
    return "".join(out)


def _qt_hex_to_int(text: str) -> int | None:
    """QByteArray::toInt(&ok, 16) for the short digit groups of a %-escape (None if not ok)."""
    body = text.lstrip(" \t\n\v\f\r")
    negative = body[:1] == "-"
    if body[:1] in ("+", "-"):
        body = body[1:]
    if body[:2] in ("0x", "0X") and body[2:3] in _HEX_CHARS:
        body = body[2:]
    count = 0
    while count < len(body) and body[count] in _HEX_CHARS:
        count += 1
    if count == 0 or body[count:].strip(" \t\n\v\f\r"):
        return None
    value = int(body[:count], 16)
    return -value if negative else value


def _unescape_key_span(data: str, start: int, end: int) -> str:
    span = data[start:end]
    if "%" not in span and (span.isascii() or max(span) <= "\xff"):
        # the usual key in a file (read as Latin-1): nothing to decode, a shortcut worth having
        # because every load decodes every key
        return span.replace("\\", "/")
    units: list[int] = []
    i = start
    while i < end:
        ch = data[i]
        if ch == "\\":
            units.append(0x2F)
            i += 1
            continue
        if ch != "%" or i == end - 1:
            units.append(ord(ch))
            i += 1
            continue
        first = i + 1
        size = 2
        if data[i + 1] == "U":
            first += 1
            size = 4
        value = None if first + size > end else _qt_hex_to_int(data[first : first + size])
        if value is None:
            units.append(0x25)
            i += 1
            continue
        units.append(value & 0xFFFF)
        i = first + size
    return _from_units(units)


def unescape_key(text: str) -> str:
    """iniUnescapedKey(): the inverse of :func:`escape_key` as Qt 5 reads it."""
    return _unescape_key_span(text, 0, len(text))


def _normalize_key(key: str) -> str:
    """QSettingsPrivate::normalizedKey(): no leading, trailing or doubled slashes."""
    if not isinstance(key, str):
        raise TypeError("setting key must be a str, got %s" % type(key).__name__)
    normalized = "/".join(part for part in key.split("/") if part)
    if not normalized:
        raise ValueError("empty setting key %r" % key)
    return normalized


def _section_header(name: str) -> str:
    """The ``[...]`` line writeIniFile() uses for a top-level group name ("" is General)."""
    escaped = escape_key(name)
    if not escaped:
        return "[General]"
    if escaped.lower() == "general":
        return "[%General]"
    return "[" + escaped + "]"


# ---------------------------------------------------------------------------
# File structure (readIniLine / readIniFile / readIniSection)
# ---------------------------------------------------------------------------

_LINE_SPACE = frozenset("\t\n\r ")
_LINE_SPECIAL = frozenset('\n\r";=\\')
_BOM = "\xef\xbb\xbf"


def _read_ini_line(data: str, pos: int) -> tuple[int, int, int, int]:
    """Port of readIniLine(): returns (next pos, line start, line length, equals position)."""
    size = len(data)
    in_quotes = False
    equals = -1
    line_start = pos
    while line_start < size and data[line_start] in _LINE_SPACE:
        line_start += 1
    i = line_start
    while i < size:
        while data[i] not in _LINE_SPECIAL:
            i += 1
            if i == size:
                return i, line_start, i - line_start, equals
        ch = data[i]
        i += 1
        if ch == "=":
            if not in_quotes and equals == -1:
                equals = i - 1
        elif ch in "\n\r":
            if i == line_start + 1:
                line_start += 1
            elif not in_quotes:
                i -= 1
                break
        elif ch == "\\":
            if i < size:
                first = data[i]
                i += 1
                if i < size and first + data[i] in ("\n\r", "\r\n"):
                    i += 1
        elif ch == '"':
            in_quotes = not in_quotes
        else:  # ';'
            if i == line_start + 1:
                while i < size and data[i] not in "\n\r":
                    i += 1
                # Qt 5.15 also skips the blanks after a comment line (older 5.x kept them in the key)
                while i < size and data[i] in _LINE_SPACE:
                    i += 1
                line_start = i
            elif not in_quotes:
                i -= 1
                break
    return i, line_start, i - line_start, equals


class _Entry:
    """A run of whole physical lines: a section header, a key line or anything else."""

    __slots__ = ("start", "end", "kind", "section", "key", "rel", "value_start", "value_end", "line_end", "index")

    def __init__(self, start: int, end: int, kind: str, section: str = "") -> None:
        self.start = start
        self.end = end
        self.kind = kind
        self.section = section
        self.key = ""
        self.rel = ""
        self.value_start = 0
        self.value_end = 0
        self.line_end = 0
        self.index = 0


def _line_end(data: str, pos: int) -> int:
    """Index just after the line terminator at or after ``pos``."""
    size = len(data)
    while pos < size and data[pos] not in "\n\r":
        pos += 1
    if pos < size:
        pos += 2 if data[pos : pos + 2] == "\r\n" else 1
    return pos


def _split_lines(data: str, start: int, end: int, out: list[_Entry]) -> None:
    while start < end:
        stop = min(_line_end(data, start), end)
        out.append(_Entry(start, stop, "other"))
        start = stop


def _section_name(data: str, line_start: int, line_end: int) -> str:
    """readIniFile(): the group prefix ("" or "name/") for a ``[...]`` line."""
    close = data.find("]", line_start)
    if close == -1 or close >= line_end:
        raw = data[line_start + 1 : line_end]
    else:
        raw = data[line_start + 1 : close]
    raw = raw.strip(" \t\n\v\f\r")
    if raw.lower() == "general":
        return ""
    if raw.lower() == "%general":
        return raw[1:] + "/"
    return _unescape_key_span(raw, 0, len(raw)) + "/"


class _Parsed:
    def __init__(self, data: str) -> None:
        self.data = data
        self.utf8 = data.startswith(_BOM)
        self.entries: list[_Entry] = []
        self._by_key: dict[str, list[_Entry]] | None = None
        pos = 3 if self.utf8 else 0
        if self.utf8:
            self.entries.append(_Entry(0, 3, "bom"))
        section = ""
        while True:
            pos, line_start, length, equals = _read_ini_line(data, pos)
            if length <= 0:
                break
            begin = max(data.rfind("\n", 0, line_start), data.rfind("\r", 0, line_start)) + 1
            begin = max(begin, self.entries[-1].end if self.entries else 0)
            _split_lines(data, self.entries[-1].end if self.entries else 0, begin, self.entries)
            line_end = line_start + length
            entry = _Entry(begin, _line_end(data, line_end), "other", section)
            if data[line_start] == "[":
                section = _section_name(data, line_start, line_end)
                entry.kind = "header"
                entry.section = section
            elif equals != -1:
                # Qt re-reads the first section from offset 0, so a BOM glued to the first key
                # becomes part of that key's name
                glued = self.utf8 and len(self.entries) == 1 and not any(ch in "\n\r" for ch in data[3:line_start])
                self._fill_key(entry, 0 if glued else line_start, equals, line_end)
            self.entries.append(entry)
        _split_lines(data, self.entries[-1].end if self.entries else 0, len(data), self.entries)
        for index, entry in enumerate(self.entries):
            entry.index = index

    def _fill_key(self, entry: _Entry, line_start: int, equals: int, line_end: int) -> None:
        data = self.data
        key_end = equals
        while key_end > line_start and data[key_end - 1] in " \t":
            key_end -= 1
        entry.kind = "key"
        entry.rel = _unescape_key_span(data, line_start, key_end)
        entry.key = entry.section + entry.rel
        entry.value_start, entry.value_end = _value_bounds(data, equals, line_end)
        entry.line_end = line_end

    def keys_named(self, key: str) -> list[_Entry]:
        if self._by_key is None:
            # built on first use: get() and diff_keys() look up every key, a scan each would be quadratic
            self._by_key = {}
            for entry in self.entries:
                if entry.kind == "key":
                    self._by_key.setdefault(entry.key, []).append(entry)
        return list(self._by_key.get(key, ()))

    def winner(self, entries: list[_Entry]) -> _Entry:
        # Qt parses sections in QMap (name) order, later keys overwrite earlier ones.
        return max(entries, key=lambda e: (_u16key(e.section), e.index))

    def value_of(self, entry: _Entry) -> object:
        # trailing blanks can sit inside an unterminated quote, so Qt's end of line is used
        return _value_from_span(self.data, entry.value_start, entry.line_end, self.utf8)

    def blocks(self) -> list[list[_Entry]]:
        result: list[list[_Entry]] = [[]]
        for entry in self.entries:
            if entry.kind == "header":
                result.append([])
            result[-1].append(entry)
        return result

    def raw_values(self) -> dict[str, str]:
        """Raw value of every key as Qt holds it once all sections are parsed."""
        data = self.data
        keys = (e for e in self.entries if e.kind == "key")
        return _winning_raws((e.section, e.key, data[e.value_start : e.value_end]) for e in keys)


def _value_bounds(data: str, equals: int, line_end: int) -> tuple[int, int]:
    """The value of a key line: after ``=`` up to Qt's end of line, without surrounding blanks."""
    value_start = equals + 1
    while value_start < line_end and data[value_start] in " \t":
        value_start += 1
    value_end = line_end
    while value_end > value_start and data[value_end - 1] in " \t":
        value_end -= 1
    return value_start, value_end


def _winning_raws(keys: Iterable[tuple[str, str, str]]) -> dict[str, str]:
    """Fold (section, key, raw) triples in file order into the raw value Qt ends up with per key."""
    best: dict[str, tuple[bytes, str]] = {}
    for section, key, raw in keys:
        rank = _u16key(section)
        # sections are parsed in name order; within one name a later line overwrites an earlier one
        if key not in best or rank >= best[key][0]:
            best[key] = (rank, raw)
    return {key: raw for key, (_rank, raw) in best.items()}


def _utf16_greater(left: str, right: str) -> bool:
    return _u16key(left) > _u16key(right)


# ---------------------------------------------------------------------------
# Editing: a parsed file as a list of lines, changed in place
# ---------------------------------------------------------------------------

_EOLS = ("\n", "\r")


class _Line:
    """One _Entry of the file being edited, holding its own text (value offsets point into it).

    ``written`` marks lines this module wrote: they end in a line break that ends Qt's line.
    """

    __slots__ = ("text", "kind", "section", "key", "rel", "value_start", "value_end", "block", "written")

    def __init__(self, text: str, kind: str, section: str = "", written: bool = False) -> None:
        self.text = text
        self.kind = kind
        self.section = section
        self.key = ""
        self.rel = ""
        self.value_start = 0
        self.value_end = 0
        self.block: _Block | None = None
        self.written = written

    def raw(self) -> str:
        return self.text[self.value_start : self.value_end]

    def is_blank(self) -> bool:
        return self.kind == "other" and not self.text.strip(" \t\r\n")

    def is_comment(self) -> bool:
        return self.kind == "other" and self.text.lstrip(" \t").startswith(";")


def _new_key_line(key: str, section: str, raw: str, eol: str) -> _Line:
    """The line Qt writes for ``key`` inside ``section`` (a prefix of the key)."""
    rel = key[len(section) :]
    escaped = escape_key(rel)
    line = _Line(escaped + "=" + raw + eol, "key", section, written=True)
    line.key = key
    line.rel = rel
    line.value_start = len(escaped) + 1
    line.value_end = line.value_start + len(raw)
    return line


class _Block:
    """The lines _Parsed.blocks() groups together: a header (none in the first block) and what follows.

    ``keys`` lists the key lines in file order and ``rels`` their sort keys, so that a new key
    finds its place by bisection while Qt's order holds (``ordered``; hand-written files may break it).
    """

    __slots__ = ("lines", "keys", "rels", "ordered")

    def __init__(self, lines: list[_Line]) -> None:
        self.lines = lines
        self.keys = [line for line in lines if line.kind == "key"]
        self.rels = [_u16key(line.rel) for line in self.keys]
        self.ordered = all(self.rels[i] <= self.rels[i + 1] for i in range(len(self.rels) - 1))
        for line in lines:
            line.block = self

    def has_header(self) -> bool:
        return bool(self.lines) and self.lines[0].kind == "header"

    def line_index(self, slot: int) -> int:
        """Index in ``lines`` of ``keys[slot]``.

        ``slot`` key lines come before it, plus at most every non-key line: searching only that
        window keeps inserting into a long section from scanning it all.
        """
        others = len(self.lines) - len(self.keys)
        return self.lines.index(self.keys[slot], slot, slot + others + 1)

    def name(self) -> str:
        return self.lines[0].section if self.has_header() else ""

    def has_content(self) -> bool:
        return bool(self.keys) or any(line.kind != "header" and not line.is_blank() for line in self.lines)


def _logical_lines(text: str, limit: int) -> list[tuple[int, int]]:
    """(start, length) of each line Qt's reader sees in ``text`` that starts before ``limit``."""
    found = []
    pos = 0
    while True:
        pos, line_start, length, _equals = _read_ini_line(text, pos)
        if length <= 0 or line_start >= limit:
            return found
        found.append((line_start, length))


def _runs_on(text: str, following: str) -> bool:
    """Whether the last line of a file would read ``following`` as part of itself (open quote, ``\\``)."""
    return _logical_lines(text, len(text)) != _logical_lines(text + following, len(text))


class _Editor:
    """Applies set/remove/set_array to a parsed file with the same result as re-parsing after each edit.

    Editing once meant: change the text, re-parse all of it, and compare every key with what
    was intended, so a batch of n edits cost n full parses.  Here the file is a list of lines
    grouped in blocks, every edit changes only its lines and indexes, and each edit checks the
    only places where Qt's reader could see the new text differently from these lines: a last
    line that runs on into appended text, and a key line glued to the UTF-8 BOM.  finish()
    parses the result once and refuses it unless every key holds exactly the expected value.
    """

    def __init__(self, parsed: _Parsed) -> None:
        data = parsed.data
        self.edited = False
        self.has_bom = parsed.utf8
        self.by_key: dict[str, list[_Line]] = {}
        self.sections: dict[str, int] = {}
        self.blocks: list[_Block] = []
        for entries in parsed.blocks():
            lines = []
            for entry in entries:
                line = _Line(data[entry.start : entry.end], entry.kind, entry.section)
                if entry.kind == "key":
                    line.key = entry.key
                    line.rel = entry.rel
                    line.value_start = entry.value_start - entry.start
                    line.value_end = entry.value_end - entry.start
                    self.by_key.setdefault(line.key, []).append(line)
                elif entry.kind == "header":
                    self.sections[line.section] = self.sections.get(line.section, 0) + 1
                lines.append(line)
            self.blocks.append(_Block(lines))
        # code point order keeps every "name/" prefix range contiguous for bisect
        self.sorted_keys = sorted(self.by_key)
        self.glued = self._first_after_bom()

    # -- the operations, with the rules of QtIniDocument.set/remove/set_array --------

    def set(self, key: str, value: object) -> None:
        key = _normalize_key(key)
        group = key.split("/", 1)[0]
        if "/" in key and group.lower() == "general" and group != "General":
            raise ValueError("group %r would be written as [%%General] and read back as 'General'" % group)
        raw = format_value(value)
        found = list(self.by_key.get(key, ()))
        if not found:
            self._insert(key, raw)
            return
        winner = self._winner(found)
        if winner.raw() != raw:
            self._replace_value(winner, raw)
        if len(found) > 1:
            # duplicates are dropped so that every Qt read path sees the same value
            self._drop([line for line in found if line is not winner])
            self._check_glue([key])

    def remove(self, key: str) -> None:
        """Remove ``key`` and every ``key/...`` key, as QSettings::remove(key)."""
        key = _normalize_key(key)
        doomed = [line for name in self._names_under(key) for line in self.by_key[name]]
        if doomed:
            gone = sorted({line.key for line in doomed})
            self._drop(doomed)
            self._check_glue(gone)

    def set_array(self, name: str, items: list[dict]) -> None:
        name = _normalize_key(name)
        if not isinstance(items, (list, tuple)):
            raise TypeError("array %r must be a list of dicts" % name)
        wanted: dict[str, object] = {}
        for number, item in enumerate(items, 1):
            if not isinstance(item, dict):
                raise TypeError("array %r item %d must be a dict, got %s" % (name, number, type(item).__name__))
            for field, value in item.items():
                wanted["%s/%d/%s" % (name, number, _normalize_key(field))] = value
        wanted[name + "/size"] = len(items)
        stale = [key for key in self._names_under(name) if key not in wanted]
        for stale_key in sorted(stale, key=_u16key):
            self.remove(stale_key)
        for wanted_key in sorted(wanted, key=_u16key):
            self.set(wanted_key, wanted[wanted_key])

    def finish(self) -> tuple[str, _Parsed | None]:
        """The new text and, when anything changed, its parse (which has been checked)."""
        text = "".join(line.text for block in self.blocks for line in block.lines)
        if not self.edited:
            return text, None
        parsed = _Parsed(text)
        expected = _winning_raws(
            (line.section, line.key, line.raw()) for block in self.blocks for line in block.lines if line.kind == "key"
        )
        actual = parsed.raw_values()
        if actual != expected:
            differ = [key for key in set(expected) | set(actual) if expected.get(key) != actual.get(key)]
            raise self._refusal(sorted(differ))
        return text, parsed

    # -- lookups -----------------------------------------------------------------

    def _names_under(self, key: str) -> list[str]:
        """Stored keys equal to ``key`` or below it (``key/...``)."""
        names = [key] if key in self.by_key else []
        prefix = key + "/"
        index = bisect.bisect_left(self.sorted_keys, prefix)
        while index < len(self.sorted_keys) and self.sorted_keys[index].startswith(prefix):
            names.append(self.sorted_keys[index])
            index += 1
        return names

    def _position(self, line: _Line) -> tuple[int, int]:
        return self.blocks.index(line.block), line.block.lines.index(line)

    def _winner(self, found: list[_Line]) -> _Line:
        if len(found) == 1:
            return found[0]
        # as _Parsed.winner: the greatest section name wins, then the later line
        return max(found, key=lambda line: (_u16key(line.section), self._position(line)))

    def _first_after_bom(self) -> _Line | None:
        lines = self.blocks[0].lines
        return lines[1] if self.has_bom and len(lines) > 1 else None

    def _eol(self) -> str:
        """The file's first line break, as _Parsed.eol() finds it ("\\n" when there is none)."""
        texts = (line.text for block in self.blocks for line in block.lines)
        for text in texts:
            lf, cr = text.find("\n"), text.find("\r")
            if cr < 0 and lf < 0:
                continue
            if cr < 0 or 0 <= lf < cr:
                return "\n"
            after = text[cr + 1 : cr + 2] or next(texts, "")[:1]
            return "\r\n" if after == "\n" else "\r"
        return "\n"

    def _target_section(self, key: str) -> str:
        """The section a new key goes to: the one a fresh QSettings::value() would look in, if any."""
        if "/" not in key:
            return ""
        names = [name for name, count in self.sections.items() if name and count]
        prefixes = [name for name in names if key.startswith(name)]
        if not prefixes:
            return key.split("/", 1)[0] + "/"
        below = [name for name in names if not _utf16_greater(name, key)]
        if below:
            chosen = max(below, key=_u16key)
            if chosen in prefixes:
                return chosen
        return max(prefixes, key=len)

    def _block_for(self, section: str) -> _Block | None:
        for block in self.blocks:
            if block.name() == section and (block.has_header() or block.keys):
                return block
        return None

    def _refusal(self, keys: list[str]) -> ValueError:
        return ValueError(
            "cannot edit %s safely: the file's syntax around it would change other keys" % ", ".join(keys)
        )

    # -- changing values ---------------------------------------------------------

    def _replace_value(self, line: _Line, raw: str) -> None:
        text = line.text[: line.value_start] + raw + line.text[line.value_end :]
        # the value may have spanned lines (quotes, continuation): find Qt's new end of line
        _pos, line_start, length, equals = _read_ini_line(text, 0)
        line.text = text
        line.value_start, line.value_end = _value_bounds(text, equals, line_start + length)
        self.edited = True

    # -- removing lines ------------------------------------------------------------

    def _drop(self, doomed: list[_Line]) -> None:
        """Remove key lines; a section left without content loses its header too (as writeIniFile)."""
        last = self.blocks[-1]
        touched: dict[_Block, list[_Line]] = {}
        for line in doomed:
            touched.setdefault(line.block, []).append(line)
            self._forget(line)
        dropped_last = False
        for block, lines in touched.items():
            gaps = _delete_lines(block.lines, lines)
            if block.has_content():
                for gap in reversed(gaps):
                    self._join_line_breaks(block, gap)
            else:
                self._drop_block(block)
                dropped_last = dropped_last or block is last
        if dropped_last:
            # the file should not end in the blank line that separated the dropped section
            lines = self.blocks[-1].lines
            while lines and lines[-1].is_blank():
                lines.pop()
        self.edited = True

    def _forget(self, line: _Line) -> None:
        same = self.by_key[line.key]
        same.remove(line)
        if not same:
            del self.by_key[line.key]
            del self.sorted_keys[bisect.bisect_left(self.sorted_keys, line.key)]
        block = line.block
        slot = block.keys.index(line)
        del block.keys[slot]
        del block.rels[slot]

    def _drop_block(self, block: _Block) -> None:
        for line in block.lines:
            if line.kind == "header":
                self.sections[line.section] -= 1
        if block is self.blocks[0]:
            block.lines.clear()  # the parser always has a first (headerless) block, maybe empty
        else:
            self.blocks.remove(block)

    def _check_glue(self, keys: list[str]) -> None:
        """Refuse an edit that leaves a key line right after the BOM: Qt would read the BOM into its name."""
        first = self._first_after_bom()
        if first is not None and first.kind == "key" and first is not self.glued:
            raise self._refusal(keys)

    @staticmethod
    def _join_line_breaks(block: _Block, index: int) -> None:
        """A CR line end now followed by an LF blank line is one CRLF line end to the parser."""
        lines = block.lines
        if 0 < index < len(lines) and lines[index].text == "\n" and lines[index - 1].text.endswith("\r"):
            lines[index - 1].text += "\n"
            del lines[index]

    # -- inserting lines -----------------------------------------------------------

    def _insert(self, key: str, raw: str) -> None:
        eol = self._eol()
        section = self._target_section(key)
        block = self._block_for(section)
        if block is None:
            group = key.split("/", 1)[0] if "/" in key else ""
            self._insert_section(group, _new_key_line(key, group + "/" if group else "", raw, eol), eol)
        else:
            self._insert_in_block(block, _new_key_line(key, section, raw, eol), eol)
        self.edited = True

    def _insert_in_block(self, block: _Block, line: _Line, eol: str) -> None:
        """Put ``line`` before the first key that sorts after it, else after the block's last key."""
        new_rel = _u16key(line.rel)
        if block.ordered:
            slot = bisect.bisect_right(block.rels, new_rel)
        else:
            slot = next((i for i, rel in enumerate(block.rels) if rel > new_rel), len(block.rels))
        if slot < len(block.keys):
            index = block.line_index(slot)
        elif block.keys:
            index = block.line_index(slot - 1) + 1
        else:
            index = 1  # right after the header
        if index > 0 and block.lines[index - 1].kind == "bom":
            # the new line would take the glued key's place after the BOM and change both names
            raise self._refusal([line.key])
        if index == len(block.lines) and block is self.blocks[-1]:
            self._end_last_line(block.lines[-1], line.text, eol, line.key)
        block.lines.insert(index, line)
        block.keys.insert(slot, line)
        block.rels.insert(slot, new_rel)
        self._add_key(line, block)
        self._join_line_breaks(block, index + 1)

    def _insert_section(self, group: str, line: _Line, eol: str) -> None:
        """A new ``[group]`` section at its sorted place, before the comments right above the next header."""
        header = _Line(_section_header(group) + eol, "header", line.section, written=True)
        following = self._following_block(group)
        if following is not None:
            at = self.blocks.index(following)
            above = self.blocks[at - 1]
            moved = self._comments_above_header(above)
            del above.lines[len(above.lines) - len(moved) :]
            block = _Block([header, line, _Line(eol, "other", written=True)] + moved)
            self.blocks.insert(at, block)
        else:
            if not self._is_empty():
                self._separate_last_block(header.text + line.text, eol, line.key)
            block = _Block([header, line])
            self.blocks.append(block)
        self.sections[header.section] = self.sections.get(header.section, 0) + 1
        self._add_key(line, block)

    def _following_block(self, group: str) -> _Block | None:
        for block in self.blocks[1:]:
            section = block.lines[0].section
            name = section[:-1] if section else ""
            if not group or (name and _utf16_greater(name, group)):
                return block
        return None

    def _comments_above_header(self, block: _Block) -> list[_Line]:
        """Comment lines that end ``block`` belong to the next header, unless they open the file."""
        lines = block.lines
        count = 0
        while count < len(lines) and lines[-1 - count].is_comment():
            count += 1
        if block is self.blocks[0] and all(line.kind == "bom" for line in lines[: len(lines) - count]):
            return []
        return lines[len(lines) - count :]

    def _is_empty(self) -> bool:
        return len(self.blocks) == 1 and all(line.kind == "bom" for line in self.blocks[0].lines)

    def _separate_last_block(self, following: str, eol: str, key: str) -> None:
        """End the file with a line break and a blank line before a section appended to it."""
        block = self.blocks[-1]
        last = block.lines[-1]
        blank = "" if last.is_blank() else eol
        self._end_last_line(last, blank + following, eol, key)
        if blank:
            block.lines.append(_Line(blank, "other", written=True))
            block.lines[-1].block = block
            self._join_line_breaks(block, len(block.lines) - 1)

    def _end_last_line(self, last: _Line, following: str, eol: str, key: str) -> None:
        """Give the file's last line a line break, refusing text it would run on into."""
        ending = "" if last.text.endswith(_EOLS) else eol
        if not last.written and _runs_on(last.text, ending + following):
            raise self._refusal([key])
        last.text += ending

    def _add_key(self, line: _Line, block: _Block) -> None:
        line.block = block
        self.by_key[line.key] = [line]
        bisect.insort(self.sorted_keys, line.key)


def _delete_lines(lines: list[_Line], doomed: list[_Line]) -> list[int]:
    """Delete ``doomed`` from ``lines``; return where each gap is now (the index after it)."""
    positions = sorted(lines.index(line) for line in doomed)
    for position in reversed(positions):
        del lines[position]
    return sorted({position - offset for offset, position in enumerate(positions)})


# ---------------------------------------------------------------------------
# The document
# ---------------------------------------------------------------------------


class QtIniDocument:
    """A QSettings INI file that is edited line by line.

    Reading follows Qt 5 exactly (Latin-1 bytes, escapes, sections, duplicate keys);
    editing keeps every untouched byte and writes new or changed lines as Qt 5 would.
    """

    def __init__(self, text: str = "") -> None:
        self._text = text
        self._cache: _Parsed | None = None

    @classmethod
    def parse(cls, data: bytes | str | None) -> QtIniDocument:
        """Load file content; bytes map 1:1 to characters (Latin-1), a str is taken as UTF-8 text."""
        if data is None:
            data = b""
        if isinstance(data, str):
            data = data.encode("utf-8")
        return cls(bytes(data).decode("latin-1"))

    def _parsed(self) -> _Parsed:
        if self._cache is None:
            self._cache = _Parsed(self._text)
        return self._cache

    def _edit(self, change: Callable[[_Editor], None]) -> None:
        """Run ``change`` on an editor; the text changes only if all of it succeeds."""
        editor = _Editor(self._parsed())
        change(editor)
        text, parsed = editor.finish()
        if text != self._text:
            self._text = text
            self._cache = parsed

    def keys(self) -> list[str]:
        """All keys as QSettings::allKeys() lists them (sorted, full paths)."""
        names = {e.key for e in self._parsed().entries if e.kind == "key"}
        return sorted(names, key=_u16key)

    def get(self, key: str) -> object:
        """The value Qt holds for ``key`` once every section is parsed, or None if absent."""
        parsed = self._parsed()
        found = parsed.keys_named(_normalize_key(key))
        return parsed.value_of(parsed.winner(found)) if found else None

    def get_raw(self, key: str) -> str | None:
        """The text after ``=`` (without surrounding blanks) of the line that wins, or None."""
        parsed = self._parsed()
        found = parsed.keys_named(_normalize_key(key))
        if not found:
            return None
        entry = parsed.winner(found)
        return parsed.data[entry.value_start : entry.value_end]

    def lookup(self, key: str) -> object:
        """What the first value(key) call on a freshly constructed QSettings returns, or None.

        Qt 5 then parses only the one section whose name is the greatest one not above
        the key: with hand-written ``[A\\b]`` sections some keys of ``[A]`` are not found,
        and a key present in two sections can change value on later reads.
        """
        key = _normalize_key(key)
        parsed = self._parsed()
        names = {""} | {e.section for e in parsed.entries if e.kind == "header"}
        if "/" in key:
            below = [n for n in names if not _utf16_greater(n, key)]
            if not below:
                return None
            section = max(below, key=_u16key)
            if not section or not key.startswith(section):
                return None
        else:
            section = ""
        found = [e for e in parsed.keys_named(key) if e.section == section]
        return parsed.value_of(found[-1]) if found else None

    def set(self, key: str, value: object) -> None:
        """Set ``key``: replace the value in place, or insert a line where Qt would sort it.

        Raises ValueError, leaving the document as it was, when the file's own syntax (a last
        line that runs on, a key glued to the BOM) would make the edit change other keys.
        """
        self._edit(lambda editor: editor.set(key, value))

    def remove(self, key: str) -> None:
        """Remove ``key`` and every ``key/...`` key, as QSettings::remove(key)."""
        self._edit(lambda editor: editor.remove(key))

    def set_array(self, name: str, items: list[dict]) -> None:
        """Replace a QSettings array: ``name/1/field`` ... ``name/n/field`` and ``name/size``."""
        self._edit(lambda editor: editor.set_array(name, items))

    def render(self) -> bytes:
        """The file content (Latin-1 back to bytes, so untouched bytes are unchanged)."""
        return self._text.encode("latin-1")


# ---------------------------------------------------------------------------
# Module-level helpers
# ---------------------------------------------------------------------------


def merge(
    data: bytes | None,
    set_values: dict,
    remove: list[str] | tuple[str, ...] = (),
    arrays: dict[str, list[dict]] | None = None,
) -> bytes:
    """Apply removals, then array replacements, then values, to existing file bytes.

    Untouched lines stay byte-identical; when nothing changes the input is returned as is.
    The result is the same as calling remove(), set_array() and set() one by one, but the
    file is parsed once before and once after, whatever the number of keys.
    """
    original = b"" if data is None else bytes(data)
    editor = _Editor(_Parsed(original.decode("latin-1")))
    for key in remove:
        editor.remove(key)
    for name, items in (arrays or {}).items():
        editor.set_array(name, items)
    for key, value in set_values.items():
        editor.set(key, value)
    result = editor.finish()[0].encode("latin-1")
    if result == original:
        return original if data is None else data
    return result


def diff_keys(before: bytes | None, after: bytes | None) -> list[tuple[str, str | None, str | None]]:
    """Keys whose raw value differs between two files, as (key, old raw, new raw), sorted."""
    old = QtIniDocument.parse(before)
    new = QtIniDocument.parse(after)
    names = sorted(set(old.keys()) | set(new.keys()), key=_u16key)
    changes = []
    for name in names:
        old_raw = old.get_raw(name)
        new_raw = new.get_raw(name)
        if old_raw != new_raw:
            changes.append((name, old_raw, new_raw))
    return changes
