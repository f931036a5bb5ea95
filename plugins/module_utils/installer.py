# Copyright: contributors to medimaging.starviewer
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Installer helpers shared by the controller-side plugins: checksums, DEB metadata, Debian version order."""

from __future__ import annotations

import hashlib
import io
import re
import tarfile

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def normalize_sha256(value: object, variable: str) -> str:
    """Lower-case hex SHA-256 (Windows tools print upper case); ValueError naming the variable otherwise."""
    text = value.strip().lower() if isinstance(value, str) else ""
    if text.startswith("sha256:"):
        text = text[len("sha256:"):]
    if not _SHA256.match(text):
        raise ValueError("%s: got %r; allowed: 64 hexadecimal digits (the installer's SHA-256, as sha256sum or "
                         "Get-FileHash prints it)" % (variable, value))
    return text


def file_digests(path: str, head: int = 0) -> dict:
    """SHA-256 and SHA-1 of a file in one read (SHA-1 is what ansible's copy module checks transfers with).

    With ``head`` > 0 the result also holds its first ``head`` bytes under "head", from the same read: the DEB
    metadata is then parsed from the very bytes that were hashed, and the installer is opened once per run.
    """
    sha256 = hashlib.sha256()
    sha1 = hashlib.sha1()
    size = 0
    kept = bytearray()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            sha256.update(block)
            sha1.update(block)
            size += len(block)
            if len(kept) < head:
                kept += block[:head - len(kept)]
    result = {"sha256": sha256.hexdigest(), "sha1": sha1.hexdigest(), "size": size}
    if head > 0:
        result["head"] = bytes(kept)
    return result


def _ar_members(data: bytes):
    if not data.startswith(b"!<arch>\n"):
        raise ValueError("not a Debian package (no ar header)")
    offset = 8
    while offset + 60 <= len(data):
        header = data[offset:offset + 60]
        name = header[:16].decode("ascii", "replace").strip().rstrip("/")
        size = int(header[48:58].decode("ascii").strip())
        start = offset + 60
        yield name, data[start:start + size]
        offset = start + size + (size % 2)


def deb_control(data: bytes) -> dict:
    """Fields of the control file of a .deb given as bytes (control.tar.gz, .xz or uncompressed)."""
    for name, member in _ar_members(data):
        if not name.startswith("control.tar"):
            continue
        if name.endswith(".zst"):
            raise ValueError("the package's control archive is zstd-compressed, which Python cannot read here; "
                             "set starviewer_installer_version to the package version")
        with tarfile.open(fileobj=io.BytesIO(member), mode="r:*") as archive:
            for info in archive.getmembers():
                if info.name in ("./control", "control"):
                    handle = archive.extractfile(info)
                    return _parse_control(handle.read().decode("utf-8"))
    raise ValueError("not a Debian package (no control file)")


def _parse_control(text: str) -> dict:
    fields = {}
    key = None
    for line in text.splitlines():
        if line[:1] in (" ", "\t") and key:
            fields[key] += "\n" + line.strip()
        elif ":" in line:
            key, _sep, value = line.partition(":")
            key = key.strip()
            fields[key] = value.strip()
    return fields


def _order(char: str) -> int:
    if char == "~":
        return -1
    if char.isalpha():
        return ord(char)
    return ord(char) + 256 if char else 0


def _compare_part(left: str, right: str) -> int:
    # dpkg's verrevcmp: alternate non-digit runs (compared with ~ < end < letters < others) and digit runs.
    i = j = 0
    while i < len(left) or j < len(right):
        first_diff = 0
        while (i < len(left) and not left[i].isdigit()) or (j < len(right) and not right[j].isdigit()):
            lc = _order(left[i]) if i < len(left) and not left[i].isdigit() else 0
            rc = _order(right[j]) if j < len(right) and not right[j].isdigit() else 0
            if lc != rc:
                return -1 if lc < rc else 1
            i += 1
            j += 1
        while i < len(left) and left[i] == "0":
            i += 1
        while j < len(right) and right[j] == "0":
            j += 1
        while i < len(left) and left[i].isdigit() and j < len(right) and right[j].isdigit():
            if not first_diff:
                first_diff = ord(left[i]) - ord(right[j])
            i += 1
            j += 1
        if i < len(left) and left[i].isdigit():
            return 1
        if j < len(right) and right[j].isdigit():
            return -1
        if first_diff:
            return -1 if first_diff < 0 else 1
    return 0


def _split_version(version: str) -> tuple[int, str, str]:
    epoch, sep, rest = version.partition(":")
    if not sep:
        epoch, rest = "0", version
    upstream, sep, revision = rest.rpartition("-")
    if not sep:
        upstream, revision = rest, ""
    return int(epoch or 0), upstream, revision


def compare_deb_versions(left: str, right: str) -> int:
    """-1, 0 or 1 as dpkg --compare-versions orders the two versions."""
    le, lu, lr = _split_version(left)
    re_, ru, rr = _split_version(right)
    if le != re_:
        return -1 if le < re_ else 1
    return _compare_part(lu, ru) or _compare_part(lr, rr)
