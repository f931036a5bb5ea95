from __future__ import annotations

import itertools
import random
import shutil
import subprocess

import pytest

from ansible_collections.medimaging.starviewer.plugins.module_utils.installer import (
    compare_deb_versions,
    deb_control,
    file_digests,
    normalize_sha256,
)

VERSIONS = [
    "2.0.0-CE", "2.0.0", "2.0.0~rc1", "2.0.0~~", "2.0.0+ce1", "1:1.0", "1.1.1", "1.10", "1.9", "1.0-1", "1.0-10",
    "1.0-9", "1.0a", "1.0A", "1.0.", "1.0~", "0", "00", "1.0-1ubuntu1", "1.0-1build2", "2.0.0-CE2", "2.0.0-ce",
    "9.99", "10.0", "1:0.1", "2:0.0", "1.0+dfsg-1", "1.0-1~bpo1",
]


@pytest.mark.skipif(shutil.which("dpkg") is None, reason="needs dpkg as the reference")
@pytest.mark.parametrize(("first", "second"), list(itertools.combinations(VERSIONS, 2)))
def test_compare_matches_dpkg(first, second):
    expected = 0
    for op, value in (("lt", -1), ("gt", 1)):
        if subprocess.run(["dpkg", "--compare-versions", first, op, second], check=False).returncode == 0:
            expected = value
    assert compare_deb_versions(first, second) == expected
    assert compare_deb_versions(second, first) == -expected


@pytest.mark.parametrize("value", ["A" * 64, "a" * 64, " sha256:" + "0f" * 32 + " ", "SHA256:" + "ab" * 32])
def test_sha256_accepts_either_case_and_prefix(value):
    assert normalize_sha256(value, "v") == value.strip().lower().removeprefix("sha256:")


@pytest.mark.parametrize("value", ["", "a" * 63, "a" * 65, "g" * 64, None, 12, "md5:" + "a" * 64])
def test_sha256_rejects_with_variable_value_and_rule(value):
    with pytest.raises(ValueError) as info:
        normalize_sha256(value, "starviewer_installer_sha256")
    message = str(info.value)
    assert message.startswith("starviewer_installer_sha256: got %r" % (value,))
    assert "64 hexadecimal digits" in message


def _build_deb(tmp_path, version, compression):
    root = tmp_path / "pkg"
    (root / "DEBIAN").mkdir(parents=True)
    (root / "DEBIAN" / "control").write_text(
        "Package: starviewer\nVersion: %s\nArchitecture: all\nMaintainer: t <t@example.invalid>\n"
        "Description: test\n multi-line\n" % version
    )
    out = tmp_path / "x.deb"
    subprocess.run(["dpkg-deb", "-Z" + compression, "--root-owner-group", "--build", str(root), str(out)],
                   check=True, capture_output=True)
    return out


@pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="needs dpkg-deb to build a package")
@pytest.mark.parametrize("compression", ["gzip", "xz", "none"])
def test_deb_control_reads_what_dpkg_wrote(tmp_path, compression):
    deb = _build_deb(tmp_path, "1:2.0.0~rc1-CE", compression)
    fields = deb_control(deb.read_bytes())
    assert fields["Package"] == "starviewer"
    assert fields["Version"] == "1:2.0.0~rc1-CE"
    assert fields["Description"] == "test\nmulti-line"


def test_deb_control_rejects_other_files():
    with pytest.raises(ValueError, match="not a Debian package"):
        deb_control(b"MZ\x90\x00 not a deb")


def test_file_digests_match_hashlib(tmp_path):
    import hashlib

    data = random.Random(7).randbytes(3 * (1 << 20) + 5)
    path = tmp_path / "blob"
    path.write_bytes(data)
    assert file_digests(str(path)) == {
        "sha256": hashlib.sha256(data).hexdigest(), "sha1": hashlib.sha1(data).hexdigest(), "size": len(data),
    }


def test_file_digests_keeps_the_head_of_the_same_read(tmp_path):
    import hashlib

    data = random.Random(8).randbytes(2 * (1 << 20) + 17)
    path = tmp_path / "blob"
    path.write_bytes(data)
    found = file_digests(str(path), head=(1 << 20) + 3)
    assert found["head"] == data[:(1 << 20) + 3]
    assert found["sha256"] == hashlib.sha256(data).hexdigest()
    assert file_digests(str(path), head=10 * (1 << 20))["head"] == data
