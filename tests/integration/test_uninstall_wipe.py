"""uninstall.yml and wipe.yml on real lab workstations with several real users (issue 4).

The lab is "uw" on 127.0.63.x; test_enforce.py uses the same lab, so the two modules must not run in parallel.
Expected counts come from find(1) on the workstation, not from the module under test.
"""

from __future__ import annotations

import base64
import json
import shlex

import pytest

from .conftest import Lab

HOSTS = ["uw-ws-1", "uw-ws-2"]
USERS = ["alice", "bob", "carol", "dave"]
PURGE = {"starviewer_uninstall_remove_system_settings": True, "starviewer_uninstall_remove_access_level": True,
         "starviewer_uninstall_remove_url_handler": True}
# A system-level custom database path: users without their own value get it (Qt fallbacks).
SYSTEM_SETTINGS = {"starviewer_settings": {"PACS/cache/MaximumDaysNotViewedStudy": 14,
                                           "PACS/cache/sdatabasePath": "%HOMEPATH%/starviewer-db/dicom.sdb"}}
# Everything outside these is compared before and after a wipe.
WATCHED = "/home /srv /etc/xdg /opt /var/cache/starviewer"
STANDIN_RUNNING = "python3 -i /opt/starviewer/starviewer"

SETUP = r"""
set -e
mkdir -p /srv/canary-dir /srv/canary2 /srv/shared-images
echo "canary one" > /srv/canary-dir/canary.txt
echo "canary two" > /srv/canary2/canary.txt
echo "not Starviewer's" > /srv/shared-images/keep.txt
for user in alice bob carol dave; do id $user >/dev/null 2>&1 || useradd -m -s /bin/bash $user; done
"""

# Per user, as that user: a cache of several studies (sizes differ per user), a log, a dump, config files.
USER_DATA = r"""
set -e
cd "$HOME"
mkdir -p .starviewer/pacs/dicom/1.2.3.4/1.2.3.4.5 .starviewer/pacs/dicom/1.2.3.9 .starviewer/pacs/database \
         .starviewer/log .starviewer/dumps .config/GILab
head -c {size} /dev/zero > .starviewer/pacs/dicom/1.2.3.4/1.2.3.4.5/img1.dcm
head -c 777 /dev/zero > .starviewer/pacs/dicom/1.2.3.4/1.2.3.4.5/img2.dcm
head -c 4096 /dev/zero > .starviewer/pacs/dicom/1.2.3.9/img.dcm
echo database > .starviewer/pacs/database/dicom.sdb
echo "started" > .starviewer/log/starviewer.log
: > .starviewer/dumps/empty.dmp
printf '[PACS]\npacsparam\\localPort=4010\n' > .config/GILab/Starviewer.conf
echo "not Starviewer's" > keep.txt
"""


def as_user(lab: Lab, host: str, user: str, script: str) -> None:
    """Run a multi-line script as a user (sudo -i would turn its line breaks into line continuations)."""
    encoded = base64.b64encode(script.encode()).decode()
    lab.sh(host, "echo %s | base64 -d | sh -e" % encoded, user=user)


def stats(run, host: str) -> dict:
    return run.output.get("stats", {}).get(host, {})


def wipe_result(run, host: str) -> dict:
    return run.tasks(host)["Delete Starviewer user data"]


def users_of(result: dict) -> dict:
    return {record["user"]: record for record in result["users"]}


@pytest.fixture(scope="module")
def uw(tmp_path_factory):
    import os

    if os.geteuid() != 0:
        pytest.skip("the lab needs root (namespaces, overlay mounts)")
    lab = Lab(tmp_path_factory.mktemp("uw"), name="uw", octet=63, hosts=HOSTS)
    lab.reset()
    yield lab
    lab.down()


def install(lab: Lab, extra: dict | None = None) -> None:
    run = lab.playbook(lab.installer_vars(), extra or {})
    assert run.rc == 0, run.messages()[-3000:]


def populate(lab: Lab) -> None:
    for index, host in enumerate(HOSTS):
        lab.sh(host, SETUP)
        for number, user in enumerate(USERS):
            as_user(lab, host, user, USER_DATA.replace("{size}", str(1000 * (index + 1) + number)))


def snapshot(lab: Lab, host: str) -> dict:
    """Every path under WATCHED with type, size and link target (the cleanest 'nothing else changed' oracle)."""
    # Ansible's own remote temporary folder comes and goes with every task.
    out = lab.sh(host, "find %s -xdev -path /home/ansible/.ansible -prune -o -printf '%%p\\t%%y\\t%%s\\t%%l\\n' "
                       "2>/dev/null | sort" % WATCHED).stdout
    return {line.split("\t", 1)[0]: line for line in out.splitlines()}


def tree(lab: Lab, host: str, path: str) -> dict:
    """files (non-folders), bytes (regular files) and dirs of a path, measured with find."""
    script = ("p=%s; [ -e \"$p\" ] || [ -L \"$p\" ] || { echo 0 0 0; exit 0; }; "
              "f=$(find \"$p\" ! -type d | wc -l); d=$(find \"$p\" -type d | wc -l); "
              "b=$(find \"$p\" -type f -printf '%%s\\n' | awk '{s+=$1} END {print s+0}'); echo $f $b $d"
              % shlex.quote(path))
    files, size, dirs = lab.sh(host, script).stdout.split()
    return {"files": int(files), "bytes": int(size), "dirs": int(dirs)}


def start_standin(lab: Lab, host: str, user: str) -> None:
    """The stand-in Starviewer, kept running by an interactive interpreter whose stdin never ends."""
    lab.sh(host, "setsid sh -c 'sleep 3600 | exec %s' >/dev/null 2>&1 </dev/null &" % STANDIN_RUNNING, user=user)
    lab.sh(host, "for i in $(seq 50); do pgrep -u %s -f '^%s$' >/dev/null && exit 0; sleep 0.1; done; exit 1"
           % (user, STANDIN_RUNNING))


# --- uninstall ----------------------------------------------------------------------------------------------------


def test_uninstall_keeps_data_and_config_then_does_nothing(uw):
    install(uw, SYSTEM_SETTINGS)
    populate(uw)
    before = {host: snapshot(uw, host) for host in HOSTS}

    run = uw.playbook(playbook="playbooks/uninstall.yml")
    assert run.rc == 0, run.messages()[-3000:]
    for host in HOSTS:
        assert uw.sh(host, "dpkg-query -W starviewer", check=False).returncode != 0
        after = snapshot(uw, host)
        gone = {path for path in before[host] if path not in after}
        # Only the package's files and the installer copy went; users' data and every configuration stayed.
        assert all(path.startswith(("/opt/starviewer/", "/var/cache/starviewer")) for path in gone), sorted(gone)
        assert "/opt/starviewer/settingsAccessLevel.ini" in after
        assert "/etc/xdg/GILab/Starviewer.conf" in after
        assert uw.sh(host, "grep -c '^x-scheme-handler/starviewer=StarviewerUrlHandler.desktop' "
                           "/etc/xdg/mimeapps.list").stdout.strip() == "1"
        assert all(path in after for path in before[host] if path.startswith("/home/"))

    again = uw.playbook(playbook="playbooks/uninstall.yml")
    assert again.rc == 0
    for host in HOSTS:
        assert stats(again, host)["changed"] == 0, again.changed_tasks(host)


def test_uninstall_purge_options_remove_system_files_too(uw):
    install(uw, SYSTEM_SETTINGS)
    homes = {host: {p: v for p, v in snapshot(uw, host).items() if p.startswith("/home/")} for host in HOSTS}

    check = uw.playbook(PURGE, playbook="playbooks/uninstall.yml", check=True)
    assert check.rc == 0
    for host in HOSTS:
        assert uw.sh(host, "dpkg-query -W starviewer").returncode == 0
        assert uw.sh(host, "test -f /etc/xdg/GILab/Starviewer.conf").returncode == 0

    run = uw.playbook(PURGE, playbook="playbooks/uninstall.yml")
    assert run.rc == 0, run.messages()[-3000:]
    for host in HOSTS:
        probe = uw.sh(host, "dpkg-query -W starviewer; ls -d /etc/xdg/GILab/Starviewer.conf /opt/starviewer "
                            "/usr/share/applications/StarviewerUrlHandler.desktop; "
                            "grep -l StarviewerUrlHandler /etc/xdg/mimeapps.list "
                            "/usr/share/applications/mimeinfo.cache",
                      check=False)
        assert probe.stdout.strip() == "", probe.stdout
        assert probe.stderr.count("No such file") == 3, probe.stderr
        assert {p: v for p, v in snapshot(uw, host).items() if p.startswith("/home/")} == homes[host]

    again = uw.playbook(PURGE, playbook="playbooks/uninstall.yml")
    assert again.rc == 0
    for host in HOSTS:
        assert stats(again, host)["changed"] == 0, again.changed_tasks(host)


# --- wipe -------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def prepared(uw):
    """Starviewer installed, four users with data, the canaries, a custom cache and a running stand-in for dave."""
    install(uw, SYSTEM_SETTINGS)
    for host in HOSTS:
        uw.sh(host, "rm -rf /home/*/.starviewer /home/*/starviewer-* /srv/*")
    populate(uw)
    for host in HOSTS:
        # alice: a symbolic link to another canary inside her cache.
        uw.sh(host, "ln -s /srv/canary2/canary.txt .starviewer/pacs/dicom/linked.dcm && "
                    "ln -s /srv/canary2 .starviewer/pacs/dicom/linked-dir && "
                    "mkdir -p starviewer-db && echo db > starviewer-db/dicom.sdb && "
                    "echo j > starviewer-db/dicom.sdb-journal",
              user="alice")
        # bob: his own image cache outside ~/.starviewer (an expression), his own database path inside it, and a
        # decoy at the system-level database path that his own value overrides.
        uw.sh(host, "mkdir -p starviewer-cache/1.2.840.1 starviewer-db && head -c 5000 /dev/zero > "
                    "starviewer-cache/1.2.840.1/a.dcm && echo decoy > starviewer-db/dicom.sdb && "
                    "printf '[PACS]\\ncache\\\\imagePath=%%HOMEPATH%%/starviewer-cache/\\n"
                    "cache\\\\sdatabasePath=%%HOMEPATH%%/.starviewer/pacs/database/dicom.sdb\\n' "
                    ">> .config/GILab/Starviewer.conf", user="bob")
        # carol: ~/.starviewer is a symbolic link to a folder holding a canary; her cache setting points at a folder
        # that is not Starviewer's.
        uw.sh(host, "rm -rf .starviewer && ln -s /srv/canary-dir .starviewer && "
                    "printf '[PACS]\\ncache\\\\imagePath=/srv/shared-images/\\n' > .config/GILab/Starviewer.conf",
              user="carol")
        start_standin(uw, host, "dave")
    return uw


def expected_targets(lab: Lab, host: str) -> dict:
    """user -> {path: find counts} of what a wipe without config must delete."""
    return {
        "alice": {"/home/alice/.starviewer": tree(lab, host, "/home/alice/.starviewer"),
                  "/home/alice/starviewer-db/dicom.sdb": tree(lab, host, "/home/alice/starviewer-db/dicom.sdb"),
                  "/home/alice/starviewer-db/dicom.sdb-journal":
                      tree(lab, host, "/home/alice/starviewer-db/dicom.sdb-journal")},
        "bob": {"/home/bob/.starviewer": tree(lab, host, "/home/bob/.starviewer"),
                "/home/bob/starviewer-cache": tree(lab, host, "/home/bob/starviewer-cache")},
        "carol": {},
        "ansible": {},
    }


def test_wipe_without_confirmation_fails_before_touching_anything(prepared):
    before = {host: snapshot(prepared, host) for host in HOSTS}
    run = prepared.playbook(playbook="playbooks/wipe.yml")
    assert run.rc != 0
    assert "starviewer_wipe_confirm=true" in run.messages()
    # Only the controller-side check ran: no task of the wipe play reached a workstation.
    assert [play["play"]["name"] for play in run.output["plays"]] == ["Check the wipe request for every workstation"]
    for host in HOSTS:
        assert snapshot(prepared, host) == before[host]


def test_wipe_check_mode_then_real_run(prepared, tmp_path):
    audit = tmp_path / "audit" / "wipe.jsonl"
    expected = {host: expected_targets(prepared, host) for host in HOSTS}
    dave = {host: tree(prepared, host, "/home/dave/.starviewer") for host in HOSTS}
    before = {host: snapshot(prepared, host) for host in HOSTS}

    check = prepared.playbook({"starviewer_wipe_audit_file": str(audit)}, playbook="playbooks/wipe.yml", check=True)
    assert check.rc == 0, check.messages()[-3000:]
    assert not audit.exists()
    predicted = {}
    for host in HOSTS:
        assert snapshot(prepared, host) == before[host]
        records = users_of(wipe_result(check, host))
        predicted[host] = records
        for user, paths in expected[host].items():
            found = {path["path"]: {k: path[k] for k in ("files", "bytes", "dirs")} for path in records[user]["paths"]}
            assert found == paths, (host, user)
        assert records["alice"]["outcome"] == "would-wipe"
        assert records["dave"]["outcome"] == "skipped-running"
        assert records["dave"]["paths"] == []

    run = prepared.playbook({"starviewer_wipe_confirm": True, "starviewer_wipe_audit_file": str(audit)},
                            playbook="playbooks/wipe.yml")
    assert run.rc == 0, run.messages()[-3000:]
    lines = [json.loads(line) for line in audit.read_text().splitlines()]
    assert len(lines) == len({(line["host"], line["user"]) for line in lines}) == 2 * 5
    for host in HOSTS:
        records = users_of(wipe_result(run, host))
        # The real run deletes exactly what check mode predicted.
        for user in ("alice", "bob", "carol", "ansible"):
            assert [(p["path"], p["files"], p["bytes"], p["dirs"]) for p in records[user]["paths"]] == \
                   [(p["path"], p["files"], p["bytes"], p["dirs"]) for p in predicted[host][user]["paths"]]
        assert records["alice"]["outcome"] == "wiped"
        assert records["bob"]["outcome"] == "wiped"
        assert records["carol"]["outcome"] == "refused"
        assert {item["path"] for item in records["carol"]["refused"]} == {"/home/carol/.starviewer",
                                                                          "/srv/shared-images"}
        assert records["dave"]["outcome"] == "skipped-running"
        assert records["dave"]["processes"]
        assert "dave: skipped-running" in " ".join(wipe_result(run, host)["summary"])

        after = snapshot(prepared, host)
        gone = {path for path in before[host] if path not in after}
        wiped = [path for paths in expected[host].values() for path in paths]
        assert all(any(path == target or path.startswith(target + "/") for target in wiped) for path in gone), \
            sorted(gone)
        assert all(path not in after for path in wiped)
        # Both canaries, the not-Starviewer folder, bob's decoy and dave's data survive.
        assert prepared.sh(host, "cat /srv/canary-dir/canary.txt /srv/canary2/canary.txt").stdout == \
            "canary one\ncanary two\n"
        for path in ("/srv/shared-images/keep.txt", "/home/bob/starviewer-db/dicom.sdb", "/home/carol/.starviewer",
                     "/home/alice/keep.txt", "/home/alice/.config/GILab/Starviewer.conf"):
            assert path in after
        assert tree(prepared, host, "/home/dave/.starviewer") == dave[host]

        audited = {line["user"]: line for line in lines if line["host"] == host}
        assert set(audited) == {"alice", "ansible", "bob", "carol", "dave"}
        for user, paths in expected[host].items():
            assert audited[user]["files"] == sum(p["files"] for p in paths.values())
            assert audited[user]["bytes"] == sum(p["bytes"] for p in paths.values())
            assert {p["path"] for p in audited[user]["paths"]} == set(paths)
        assert audited["dave"]["outcome"] == "skipped-running" and audited["dave"]["files"] == 0
        assert audited["alice"]["hostname"] == host and audited["alice"]["time"].endswith("Z")


def test_wipe_stops_a_running_starviewer_when_asked(prepared, tmp_path):
    audit = tmp_path / "audit.jsonl"
    dave = {host: tree(prepared, host, "/home/dave/.starviewer") for host in HOSTS}
    run = prepared.playbook({"starviewer_wipe_confirm": True, "starviewer_wipe_audit_file": str(audit),
                             "starviewer_wipe_users": ["dave", "nobody-here"], "starviewer_wipe_stop_running": True,
                             "starviewer_wipe_stop_timeout": 3}, playbook="playbooks/wipe.yml")
    assert run.rc == 0, run.messages()[-3000:]
    for host in HOSTS:
        records = users_of(wipe_result(run, host))
        assert set(records) == {"dave", "nobody-here"}
        assert records["nobody-here"]["outcome"] == "no-such-user"
        assert records["dave"]["outcome"] == "wiped"
        assert records["dave"]["stopped"]
        assert (records["dave"]["files"], records["dave"]["bytes"]) == (dave[host]["files"], dave[host]["bytes"])
        assert prepared.sh(host, "pgrep -u dave -f '^%s$'" % STANDIN_RUNNING, check=False).returncode == 1
        for pid in records["dave"]["stopped"]:
            assert prepared.sh(host, "kill -0 %d" % pid, check=False).returncode == 1
        assert prepared.sh(host, "test -e /home/dave/.starviewer", check=False).returncode == 1
    assert len(audit.read_text().splitlines()) == 2 * 2


def test_wipe_config_of_a_named_user_only(prepared, tmp_path):
    run = prepared.playbook({"starviewer_wipe_confirm": True, "starviewer_wipe_audit_file": str(tmp_path / "a.jsonl"),
                             "starviewer_wipe_users": ["alice"], "starviewer_wipe_config": True},
                            playbook="playbooks/wipe.yml")
    assert run.rc == 0, run.messages()[-3000:]
    for host in HOSTS:
        record = users_of(wipe_result(run, host))["alice"]
        assert [(p["path"], p["kind"]) for p in record["paths"]] == [
            ("/home/alice/.config/GILab/Starviewer.conf", "config")]
        assert prepared.sh(host, "test -e /home/alice/.config/GILab/Starviewer.conf", check=False).returncode == 1
        assert prepared.sh(host, "test -f /home/bob/.config/GILab/Starviewer.conf").returncode == 0
    again = prepared.playbook({"starviewer_wipe_confirm": True, "starviewer_wipe_audit_file": str(tmp_path / "a.jsonl"),
                               "starviewer_wipe_users": ["alice"], "starviewer_wipe_config": True},
                              playbook="playbooks/wipe.yml")
    assert again.rc == 0
    for host in HOSTS:
        assert users_of(wipe_result(again, host))["alice"]["outcome"] == "nothing"
        assert not wipe_result(again, host)["changed"]


def test_audit_records_a_host_that_could_not_be_wiped(prepared, tmp_path):
    audit = tmp_path / "audit.jsonl"
    # Nothing listens on 127.0.63.9: the second workstation is unreachable for this run.
    run = prepared.playbook({"starviewer_wipe_confirm": True, "starviewer_wipe_audit_file": str(audit),
                             "starviewer_wipe_users": ["ansible"]}, playbook="playbooks/wipe.yml",
                            host_vars={HOSTS[1]: {"ansible_host": "127.0.63.9"}})
    assert run.rc != 0
    lines = [json.loads(line) for line in audit.read_text().splitlines()]
    assert [(line["host"], line["user"], line["outcome"]) for line in lines] == [
        (HOSTS[0], "ansible", "nothing"), (HOSTS[1], None, "no-result")]
