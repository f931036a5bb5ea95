"""PyQt5 (Qt 5.15) as the oracle for QSettings INI files.

Every read goes to a new file name: Qt caches parsed files per absolute path in the
process, so re-reading a path it wrote would return cached values, not the file's.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from ansible_collections.medimaging.starviewer.plugins.module_utils.qt_ini import (
    INVALID,
    QtOpaque,
    QtUrl,
)

_counter = itertools.count()
_ABSENT = "\x00absent\x00"


class QtOracle:
    """Writes and reads INI files with the real QSettings."""

    def __init__(self, directory: Path, qtcore) -> None:
        self.directory = directory
        self.core = qtcore

    def _path(self, tag: str) -> str:
        return str(self.directory / ("%s-%06d.conf" % (tag, next(_counter))))

    def qt_value(self, value: object) -> object:
        """Turn one of our values into what C++ code would hand to setValue()."""
        if isinstance(value, QtUrl):
            return self.core.QUrl(value.url)
        if isinstance(value, (bytes, bytearray)):
            return self.core.QByteArray(bytes(value))
        if value is INVALID:
            return self.core.QVariant()
        if isinstance(value, (list, tuple)):
            variant = self.core.QVariant([str(v) for v in value])
            assert variant.convert(self.core.QVariant.StringList)
            return variant
        return value

    def py_value(self, value: object) -> object:
        """Turn what PyQt5 returns into our value types."""
        if isinstance(value, self.core.QUrl):
            return QtUrl(bytes(value.toEncoded()).decode("latin-1"))
        if isinstance(value, self.core.QByteArray):
            return bytes(value)
        if value is None:
            return INVALID
        if isinstance(value, list):
            return [self.py_value(v) for v in value]
        if isinstance(value, self.core.QRect):
            return QtOpaque("@Rect(%d %d %d %d)" % (value.x(), value.y(), value.width(), value.height()))
        if isinstance(value, (self.core.QSize, self.core.QPoint)):
            numbers = (value.width(), value.height()) if isinstance(value, self.core.QSize) else (value.x(), value.y())
            return QtOpaque("@%s(%d %d)" % (type(value).__name__[1:], numbers[0], numbers[1]))
        if not isinstance(value, str):
            return QtOpaque("<%s>" % type(value).__name__)  # another typed value
        return value

    def write(self, operations: list[tuple], initial: bytes | None = None, parse_all: bool = False) -> bytes:
        """Apply ("set", key, value), ("remove", key) or ("array", name, items) like C++ code would.

        ``parse_all`` calls allKeys() first: QSettings::remove() only sees sections parsed so far.
        """
        path = self._path("w")
        if initial is not None:
            Path(path).write_bytes(initial)
        settings = self.core.QSettings(path, self.core.QSettings.IniFormat)
        if parse_all:
            settings.allKeys()
        for operation in operations:
            if operation[0] == "set":
                settings.setValue(operation[1], self.qt_value(operation[2]))
            elif operation[0] == "remove":
                settings.remove(operation[1])
            else:
                settings.beginWriteArray(operation[1])
                for index, item in enumerate(operation[2]):
                    settings.setArrayIndex(index)
                    for field, value in item.items():
                        settings.setValue(field, self.qt_value(value))
                settings.endArray()
        settings.sync()
        assert settings.status() == self.core.QSettings.NoError
        del settings
        return Path(path).read_bytes()

    def read_all(self, data: bytes) -> dict:
        """Every key and value, as allKeys() (which makes Qt parse every section) sees them."""
        path = self._path("r")
        Path(path).write_bytes(data)
        settings = self.core.QSettings(path, self.core.QSettings.IniFormat)
        return {key: self.py_value(settings.value(key)) for key in settings.allKeys()}

    def lookup(self, data: bytes, key: str) -> object:
        """The first value(key) on a fresh QSettings, or None when Qt does not find the key.

        Only one call: every read makes Qt parse one more section, which can change the result.
        """
        path = self._path("l")
        Path(path).write_bytes(data)
        settings = self.core.QSettings(path, self.core.QSettings.IniFormat)
        value = settings.value(key, _ABSENT)
        return None if value == _ABSENT else self.py_value(value)

    def reads(self, data: bytes, keys: list[str]) -> list:
        """Successive value() calls on one fresh QSettings (each may parse one more section)."""
        path = self._path("s")
        Path(path).write_bytes(data)
        settings = self.core.QSettings(path, self.core.QSettings.IniFormat)
        return [self.py_value(settings.value(key)) for key in keys]

    def read_value(self, raw: str) -> object:
        """What Qt reads for ``k=<raw>`` in [General]."""
        return self.read_all(b"[General]\nk=" + raw.encode("latin-1") + b"\n").get("k")

    def formatted(self, values: list) -> list[str]:
        """The text Qt writes after ``=`` for each value (one file for the whole batch)."""
        keys = ["k%05d" % i for i in range(len(values))]
        data = self.write([("set", keys[i], value) for i, value in enumerate(values)])
        lines = data.decode("ascii").split("\n")
        assert lines[0] == "[General]"
        found = dict(line.split("=", 1) for line in lines[1:] if line)
        return [found[k] for k in keys]


@pytest.fixture
def qt(tmp_path: Path) -> QtOracle:
    """QSettings oracle writing to a per-test directory (skips the test when PyQt5 is missing).

    PyQt5 is imported here, not at module level, so other tests in this directory run without it.
    """
    return QtOracle(tmp_path, pytest.importorskip("PyQt5.QtCore"))
