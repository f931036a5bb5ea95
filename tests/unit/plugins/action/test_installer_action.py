"""starviewer_installer on the controller: one read of the installer gives both hashes and the DEB metadata."""

from __future__ import annotations

import builtins
import hashlib
import io
import tarfile
from unittest import mock

from ansible_collections.medimaging.starviewer.plugins.action.starviewer_installer import ActionModule
from ansible_collections.medimaging.starviewer.tests.unit.plugins.action.action_helpers import new_action


def _ar_member(name: str, data: bytes) -> bytes:
    header = "%-16s%-12s%-6s%-6s%-8s%-10d`\n" % (name, 0, 0, 0, 100644, len(data))
    return header.encode("ascii") + data + (b"\n" if len(data) % 2 else b"")


def _tar_gz(files: dict) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def make_deb(path, version: str = "2.0.0-CE", payload: int = 3 << 20) -> bytes:
    """A DEB as dpkg-deb lays it out, with a data member big enough to span several read blocks."""
    control = ("Package: starviewer\nVersion: %s\nArchitecture: amd64\n" % version).encode()
    data = (b"!<arch>\n" + _ar_member("debian-binary", b"2.0\n")
            + _ar_member("control.tar.gz", _tar_gz({"./control": control}))
            + _ar_member("data.tar.gz", bytes(range(256)) * (payload // 256)))
    path.write_bytes(data)
    return data


def run_action(args: dict) -> dict:
    plugin = new_action(ActionModule, args)
    return plugin.run(task_vars={})


def test_the_installer_is_opened_once_for_hashes_and_metadata(tmp_path):
    deb = tmp_path / "starviewer~2.0.0-CE~amd64-ubuntu.deb"
    data = make_deb(deb)
    real_open = builtins.open
    opened = []

    def counting_open(file, *args, **kwargs):
        if str(file) == str(deb):
            opened.append(file)
        return real_open(file, *args, **kwargs)

    with mock.patch("builtins.open", counting_open):
        result = run_action({"path": str(deb), "checksum": hashlib.sha256(data).hexdigest()})
    assert not result.get("failed"), result
    assert len(opened) == 1
    info = result["installer"]
    assert (info["package"], info["version"], info["format"]) == ("starviewer", "2.0.0-CE", "deb")
    assert info["sha1"] == hashlib.sha1(data).hexdigest() and info["size"] == len(data)
    assert "head" not in info


def test_a_file_that_is_not_a_deb_is_refused_by_name(tmp_path):
    fake = tmp_path / "starviewer.deb"
    fake.write_bytes(b"MZ not a package" * 100)
    result = run_action({"path": str(fake), "checksum": hashlib.sha256(fake.read_bytes()).hexdigest()})
    assert result["failed"] and "not a Debian package" in result["msg"]


def test_an_installer_verified_earlier_in_the_run_is_not_read_again(tmp_path):
    deb = tmp_path / "starviewer~2.0.0-CE~amd64-ubuntu.deb"
    data = make_deb(deb, payload=4096)
    checksum = hashlib.sha256(data).hexdigest()
    first = run_action({"path": str(deb), "checksum": checksum})["installer"]
    with mock.patch("builtins.open", side_effect=AssertionError("read again")):
        again = run_action({"path": str(deb), "checksum": checksum.upper(), "verified": first})
    assert again["installer"] == first and again["reused"] is True


def test_an_earlier_result_for_other_bytes_or_another_file_is_not_trusted(tmp_path):
    deb = tmp_path / "starviewer~2.0.0-CE~amd64-ubuntu.deb"
    data = make_deb(deb, payload=4096)
    checksum = hashlib.sha256(data).hexdigest()
    first = run_action({"path": str(deb), "checksum": checksum})["installer"]
    other = tmp_path / "copy.deb"
    other.write_bytes(data + b"x")
    result = run_action({"path": str(other), "checksum": checksum, "verified": first})
    assert result["failed"] and "does not match" in result["msg"]
    stale = dict(first, sha256="0" * 64)
    result = run_action({"path": str(deb), "checksum": checksum, "verified": stale})
    assert "reused" not in result and result["installer"]["sha256"] == checksum
