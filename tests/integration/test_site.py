"""site.yml end to end on real SSH workstations (tests/lab/lab.sh), with the stand-in Starviewer package."""

from __future__ import annotations

import copy

import pytest
import yaml

from .conftest import BASE_VARS, HOSTS

BASE = yaml.safe_load(BASE_VARS.read_text())


def pacs_with(index: int, **changes) -> dict:
    pacs = copy.deepcopy(BASE["starviewer_pacs"])
    for key, value in changes.items():
        if value is None:
            pacs[index].pop(key, None)
        else:
            pacs[index][key] = value
    return {"starviewer_pacs": pacs}


BAD_INPUT = {
    "unknown type": (pacs_with(0, type="dimse"), "starviewer_pacs[0].type", "dimse"),
    "port too high": (pacs_with(0, port=70000), "starviewer_pacs[0].port", "70000"),
    "negative store port": (pacs_with(2, store_port=-1), "starviewer_pacs[2].store_port", "-1"),
    "DIMSE without ae_title": (pacs_with(0, ae_title=None), "starviewer_pacs[0].ae_title", "None"),
    "WADO without base_uri": (pacs_with(1, base_uri=None), "starviewer_pacs[1].base_uri", "None"),
    "invalid base_uri": (pacs_with(1, base_uri="ftp://pacs2.example.org/"), "starviewer_pacs[1].base_uri", "ftp://"),
    "PACS AE title of 17": (pacs_with(0, ae_title="A" * 17), "starviewer_pacs[0].ae_title", "A" * 17),
    "PACS AE title with backslash": (pacs_with(2, ae_title="PACS\\3"), "starviewer_pacs[2].ae_title", "PACS"),
    "local AE title of 17": ({"starviewer_local_ae_title": "WORKSTATION-00042"}, "starviewer_local_ae_title",
                             "WORKSTATION-00042"),
    "local AE title with control character": ({"starviewer_local_ae_title": "WS\t1"}, "starviewer_local_ae_title",
                                              "WS"),
    "same identity twice": ({"starviewer_pacs": BASE["starviewer_pacs"] + [BASE["starviewer_pacs"][0]]},
                            "starviewer_pacs[3]", "starviewer_pacs[0]"),
    "local port": ({"starviewer_local_port": 65536}, "starviewer_local_port", "65536"),
    "malformed SHA-256": ({"starviewer_installer_sha256": "abc123"}, "starviewer_installer_sha256", "abc123"),
    "unknown settings key": ({"starviewer_settings": {"PACS/cache/MaximumDaysNotViewed": 3}}, "starviewer_settings",
                             "PACS/cache/MaximumDaysNotViewed"),
    "unknown access level key": ({"starviewer_system_settings": ["PACS/pacsparam/AETitel"]},
                                 "starviewer_system_settings", "PACS/pacsparam/AETitel"),
    "relative installer path": ({"starviewer_installer_src": "starviewer~2.0.0-CE~amd64-ubuntu.deb"},
                                "starviewer_installer_src", "starviewer~2.0.0-CE"),
    "NUL in free text": (pacs_with(0, institution="Hospital\u0000Nord"), "starviewer_pacs[0].institution",
                         "Hospital"),
    "settings file path is a folder": ({"starviewer_system_config_path": "/etc/xdg/GILab/"},
                                       "starviewer_system_config_path", "/etc/xdg/GILab/"),
    "two PACS share a default-list key": (
        {"starviewer_pacs": [
            {"ae_title": "AB", "hostname": "Cx.example.org", "port": 104},
            {"ae_title": "ABC", "hostname": "x.example.org", "port": 104, "query_by_default": True}]},
        "starviewer_pacs[1]", "ABCx.example.org:104"),
}


@pytest.fixture(scope="module")
def fresh(lab):
    lab.reset()
    return lab


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_fails_before_any_host_changes(fresh, case):
    override, variable, value = BAD_INPUT[case]
    run = fresh.playbook(fresh.installer_vars(), override)
    assert run.rc != 0
    messages = run.messages()
    assert variable in messages, messages[-3000:]
    assert value in messages
    assert "allowed" in messages
    for host in HOSTS:
        assert fresh.untouched(host)


def test_one_bad_host_stops_the_whole_fleet(fresh):
    bad = {HOSTS[1]: {"starviewer_local_ae_title": "%USERNAME%-WS"}}
    run = fresh.playbook(fresh.installer_vars(), host_vars=bad)
    assert run.rc != 0
    assert "starviewer_local_ae_title" in run.messages() and "USERNAME" in run.messages()
    for host in HOSTS:
        assert fresh.untouched(host)


def test_wrong_sha256_shows_both_hashes_and_installs_nothing(fresh):
    installer = fresh.installer_vars()
    wrong = "0123456789abcdef" * 4
    run = fresh.playbook(dict(installer, starviewer_installer_sha256=wrong.upper()))
    assert run.rc != 0
    messages = run.messages()
    assert "expected %s" % wrong in messages
    assert "actual %s" % installer["starviewer_installer_sha256"] in messages
    for host in HOSTS:
        assert fresh.untouched(host)


def test_hosts_with_different_installers_are_refused(fresh):
    # Host variables, not extra vars (extra vars would win over them and hide the difference).
    run = fresh.playbook(host_vars={HOSTS[0]: fresh.installer_vars(), HOSTS[1]: fresh.installer_vars("2.0.1-CE")})
    assert run.rc != 0
    assert "one installer per platform per play" in run.messages()
    for host in HOSTS:
        assert fresh.untouched(host)


def test_a_deb_of_another_package_is_refused_before_install(fresh, tmp_path):
    import hashlib
    import subprocess

    root = tmp_path / "pkg"
    (root / "DEBIAN").mkdir(parents=True)
    (root / "DEBIAN" / "control").write_text("Package: not-starviewer\nVersion: 2.0.0-CE\nArchitecture: all\n"
                                             "Maintainer: t <t@example.invalid>\nDescription: impostor\n")
    deb = tmp_path / "starviewer~2.0.0-CE~amd64-ubuntu.deb"
    subprocess.run(["dpkg-deb", "--root-owner-group", "--build", str(root), str(deb)], check=True, capture_output=True)
    run = fresh.playbook({"starviewer_installer_src": str(deb),
                          "starviewer_installer_sha256": hashlib.sha256(deb.read_bytes()).hexdigest()})
    assert run.rc != 0
    assert "package not-starviewer" in run.messages()
    for host in HOSTS:
        assert fresh.untouched(host)
