"""Per-user enforcement of system settings (site.yml, enforce role) on real lab workstations (issue 4).

The lab is "uw" on 127.0.63.x, shared with test_uninstall_wipe.py: the two modules must not run in parallel.
What a user gets is read by the stand-in's Qt 5 (QSettings with Qt's fallbacks) as that user.
"""

from __future__ import annotations

import base64
import os

import pytest
import yaml

from .conftest import BASE_VARS, Lab

HOSTS = ["uw-ws-1", "uw-ws-2"]
BASE = yaml.safe_load(BASE_VARS.read_text())
ENFORCE = {"starviewer_enforce_system_settings": True}
STANDIN_RUNNING = "python3 -i /opt/starviewer/starviewer"
REMOVED = ("PACS/pacsparam/AETitle", "PacsList/1/AETitle", "PacsList/1/ID", "PacsList/size")

# A hand-edited user file: a comment, keys before and after the system ones, a non-ASCII escape.
ERIN = (b"[General]\nLastReleaseNotesVersionShown=2.0.0\n\n"
        b"[InstitutionInformation]\nInstitutionName=Erin\\x2019s\n\n"
        b"[PACS]\n; my own note\ncache\\MaximumDaysNotViewedStudy=3\npacsparam\\AETitle=ERIN-OWN\n"
        b"pacsparam\\localPort=4010\n\n"
        b"[PacsList]\n1\\AETitle=MYPACS\n1\\ID=0\nsize=1\n")
ERIN_ENFORCED = (b"[General]\nLastReleaseNotesVersionShown=2.0.0\n\n"
                 b"[InstitutionInformation]\nInstitutionName=Erin\\x2019s\n\n"
                 b"[PACS]\n; my own note\ncache\\MaximumDaysNotViewedStudy=3\npacsparam\\localPort=4010\n")
OVERRIDE = b"[PACS]\npacsparam\\AETitle=OWN-TITLE\n"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    if os.geteuid() != 0:
        pytest.skip("the lab needs root (namespaces, overlay mounts)")
    lab = Lab(tmp_path_factory.mktemp("uw-enforce"), name="uw", octet=63, hosts=HOSTS)
    lab.reset()
    run = lab.playbook(lab.installer_vars())
    assert run.rc == 0, run.messages()[-3000:]
    for host in HOSTS:
        lab.sh(host, "for u in erin frank gina henry; do useradd -m -s /bin/bash $u; done; mkdir -p /srv && "
                     "echo %s | base64 -d > /srv/gina-target.conf" % base64.b64encode(OVERRIDE).decode())
        put(lab, host, "erin", ".config/GILab/Starviewer.conf", ERIN, "600")
        put(lab, host, "frank", ".config/GILab/Starviewer.conf", OVERRIDE, "644")
        put(lab, host, "henry", ".config/GILab.conf", OVERRIDE, "640")
        lab.sh(host, "mkdir -p .config/GILab && ln -s /srv/gina-target.conf .config/GILab/Starviewer.conf", user="gina")
    yield lab
    lab.down()


def put(lab: Lab, host: str, user: str, rel: str, data: bytes, mode: str) -> None:
    encoded = base64.b64encode(data).decode()
    lab.sh(host, "mkdir -p \"$(dirname %s)\" && echo %s | base64 -d > %s && chmod %s %s"
           % (rel, encoded, rel, mode, rel), user=user)


def read(lab: Lab, host: str, path: str) -> bytes:
    return base64.b64decode(lab.sh(host, "base64 -w0 %s" % path).stdout)


def stat(lab: Lab, host: str, path: str) -> str:
    return lab.sh(host, "stat -c '%%U %%G %%a %%i' %s" % path).stdout.strip()


def enforce_result(run, host: str) -> dict:
    return {record["user"]: record for record in run.tasks(host)["Remove users' own values of the system-level keys"]
            ["users"]}


def start_standin(lab: Lab, host: str, user: str) -> None:
    lab.sh(host, "setsid sh -c 'sleep 3600 | exec %s' >/dev/null 2>&1 </dev/null &" % STANDIN_RUNNING, user=user)
    lab.sh(host, "for i in $(seq 50); do pgrep -u %s -f '^%s$' >/dev/null && exit 0; sleep 0.1; done; exit 1"
           % (user, STANDIN_RUNNING))


def test_off_by_default(lab):
    for host in HOSTS:
        assert read(lab, host, "/home/erin/.config/GILab/Starviewer.conf") == ERIN
        assert lab.qt_read(host, "erin")["effective"]["ae_title"] == "ERIN-OWN"
        assert lab.qt_read(host, "erin")["effective"]["pacs_count"] == 1


def test_check_mode_changes_nothing(lab):
    before = {host: stat(lab, host, "/home/erin/.config/GILab/Starviewer.conf") for host in HOSTS}
    run = lab.playbook(lab.installer_vars(), ENFORCE, check=True)
    assert run.rc == 0, run.messages()[-3000:]
    for host in HOSTS:
        records = enforce_result(run, host)
        assert records["erin"]["outcome"] == "would-enforce"
        assert records["henry"]["outcome"] == "would-enforce"
        assert stat(lab, host, "/home/erin/.config/GILab/Starviewer.conf") == before[host]
        assert read(lab, host, "/home/erin/.config/GILab/Starviewer.conf") == ERIN


def test_enforcement_removes_only_the_system_keys(lab):
    for host in HOSTS:
        start_standin(lab, host, "frank")
    before = {host: stat(lab, host, "/home/erin/.config/GILab/Starviewer.conf") for host in HOSTS}
    system_view = {host: lab.qt_read(host, "clinician")["effective"] for host in HOSTS}

    run = lab.playbook(lab.installer_vars(), ENFORCE)
    assert run.rc == 0, run.messages()[-3000:]
    for host in HOSTS:
        records = enforce_result(run, host)
        assert records["erin"]["outcome"] == "enforced"
        assert sorted(records["erin"]["files"][0]["removed"]) == sorted(REMOVED)
        # Every other byte of erin's file stays: exactly the system keys' lines (and their emptied section) went.
        after = read(lab, host, "/home/erin/.config/GILab/Starviewer.conf")
        assert after == ERIN_ENFORCED
        owner, group, mode, inode = stat(lab, host, "/home/erin/.config/GILab/Starviewer.conf").split()
        assert (owner, group, mode) == tuple(before[host].split()[:3]) == ("erin", "erin", "600")
        assert inode != before[host].split()[3]  # replaced atomically, not rewritten in place

        # Qt 5 as erin and henry now returns the system values; erin keeps her own other settings.
        erin = lab.qt_read(host, "erin")
        assert erin["effective"]["ae_title"] == system_view[host]["ae_title"] == "SV" + host[-8:]
        assert erin["effective"]["pacs_count"] == system_view[host]["pacs_count"] == len(BASE["starviewer_pacs"])
        assert erin["keys"]["PACS/pacsparam/localPort"] == "4010"
        assert erin["keys"]["InstitutionInformation/InstitutionName"] == "Erin\u2019s"
        assert lab.qt_read(host, "henry")["effective"]["ae_title"] == system_view[host]["ae_title"]
        assert records["henry"]["files"] == [{"path": "/home/henry/.config/GILab.conf",
                                              "removed": ["PACS/pacsparam/AETitle"]}]
        assert stat(lab, host, "/home/henry/.config/GILab.conf").split()[:3] == ["henry", "henry", "640"]

        # frank's Starviewer runs: skipped, reported, untouched.
        assert records["frank"]["outcome"] == "skipped-running"
        assert read(lab, host, "/home/frank/.config/GILab/Starviewer.conf") == OVERRIDE
        assert "not enforced for frank" in run.text
        # gina's file is a symbolic link: refused, its target untouched.
        assert records["gina"]["outcome"] == "refused"
        assert read(lab, host, "/srv/gina-target.conf") == OVERRIDE

    again = lab.playbook(lab.installer_vars(), ENFORCE)
    assert again.rc == 0
    for host in HOSTS:
        assert again.output["stats"][host]["changed"] == 0, again.changed_tasks(host)
        assert enforce_result(again, host)["erin"]["outcome"] == "unchanged"

    # Once frank closes Starviewer, the next run enforces his file too.
    for host in HOSTS:
        lab.sh(host, "pkill -u frank -f '^%s$'; sleep 0.5" % STANDIN_RUNNING)
    last = lab.playbook(lab.installer_vars(), ENFORCE)
    assert last.rc == 0
    for host in HOSTS:
        assert enforce_result(last, host)["frank"]["outcome"] == "enforced"
        assert read(lab, host, "/home/frank/.config/GILab/Starviewer.conf") == b""
        assert lab.qt_read(host, "frank")["effective"]["ae_title"] == "SV" + host[-8:]
