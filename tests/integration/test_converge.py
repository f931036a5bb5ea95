"""Converge, re-run, upgrade and repair on real SSH workstations."""

from __future__ import annotations

import re

import pytest
import yaml

from .conftest import BASE_VARS, HOSTS

BASE = yaml.safe_load(BASE_VARS.read_text())
HOST = HOSTS[0]
CONF = "/etc/xdg/GILab/Starviewer.conf"
# Actions that run on the controller and send nothing to the workstation.
CONTROLLER_ONLY = {"include_role", "validate_argument_spec", "assert", "set_fact", "debug", "starviewer_config",
                   "starviewer_installer", "starviewer_preflight", "group_by"}


@pytest.fixture(scope="module")
def converged(lab):
    """Fresh hosts, a --check --diff run, then the real run; both results are kept for the tests."""
    lab.reset()
    check = lab.playbook(lab.installer_vars(), check=True)
    untouched_after_check = all(lab.untouched(host) for host in HOSTS)
    first = lab.playbook(lab.installer_vars())
    return lab, check, untouched_after_check, first


def test_check_mode_on_fresh_hosts_completes_and_changes_nothing(converged):
    _lab, check, untouched, _first = converged
    assert check.rc == 0, check.text[-3000:]
    assert untouched


def test_check_mode_lists_what_the_real_run_changes(converged):
    _lab, check, _untouched, first = converged
    assert first.rc == 0, first.text[-3000:]
    for host in HOSTS:
        # Check mode cannot run apt on a package it did not copy, nor write into /opt/starviewer before the package
        # creates it: it reports those changes in tasks of their own.
        stand_ins = {"Report the install that check mode skipped": "Install the package",
                     "Report the file check mode cannot write before Starviewer is installed":
                         "Write the access level file"}
        predicted = {stand_ins.get(name, name) for name in check.changed_tasks(host)}
        done = set(first.changed_tasks(host))
        assert done <= predicted, (done, predicted)
        assert "Write the system settings file" in predicted


def test_check_mode_diff_shows_the_settings_text(converged):
    _lab, check, _untouched, _first = converged
    result = check.tasks(HOST)["Write the system settings file"]
    diff = result["diff"][0] if isinstance(result["diff"], list) else result["diff"]
    assert "[PacsList]" in diff["after"]
    assert "1\\AETitle=\"@@PACS,1;=\"" in diff["after"]


def test_second_run_changes_nothing_and_sends_no_installer(converged):
    lab, _check, _untouched, _first = converged
    again = lab.playbook(lab.installer_vars())
    assert again.rc == 0
    plays = again.output["plays"]
    assert [play["play"]["name"] for play in plays] == ["Check the Starviewer configuration of every workstation",
                                                        "Install and configure Starviewer"]
    # Every host is in sync after the first run: the first play leaves them all out of the second, which then has
    # no host and no task (so no installer byte can move).
    assert plays[1]["tasks"] == []
    for host in HOSTS:
        assert again.changed_tasks(host) == []
        tasks = again.tasks(host)
        assert "Copy the verified installer" not in tasks and "Install the package" not in tasks
        # Only one module reached the host: the read-only probe of play 1.
        ran = [result.get("action", "").rsplit(".", 1)[-1] for _name, result in again.results(host)
               if not result.get("skipped") and result.get("action", "").rsplit(".", 1)[-1] not in CONTROLLER_ONLY]
        assert ran == ["starviewer_probe"], ran


@pytest.mark.parametrize("pattern", [None, "comma-list"])
def test_a_drifted_workstation_alone_goes_on_to_the_second_play(converged, pattern):
    lab = converged[0]
    other = HOSTS[1]
    lab.sh(other, "chmod 0600 " + CONF)
    # starviewer_hosts with commas, as README shows it: the second play must still be limited to the pending host.
    extra = [{"starviewer_hosts": ",".join(HOSTS)}] if pattern else []
    run = lab.playbook(lab.installer_vars(), *extra)
    assert run.rc == 0, run.text[-2000:]
    second = run.output["plays"][1]["tasks"]
    assert second and all(set(task["hosts"]) == {other} for task in second), [t["hosts"].keys() for t in second]
    assert run.changed_tasks(other) == ["Write the system settings file"]
    assert lab.sh(other, "stat -c %a " + CONF).stdout.strip() == "644"


def test_without_the_first_play_sorting_every_host_goes_on(converged):
    # --skip-tags always skips the whole first play, sorting included: the second play must then run on every host
    # (deciding task by task, as the roles do on their own), not on none.
    lab = converged[0]
    run = lab.playbook(lab.installer_vars(), args=("--skip-tags", "always"))
    assert run.rc == 0, run.text[-2000:]
    second = run.output["plays"][1]["tasks"]
    assert second and {host for task in second for host in task["hosts"]} == set(HOSTS)
    for host in HOSTS:
        assert run.changed_tasks(host) == []


def test_qt_reads_the_configured_values_as_an_ordinary_user(converged):
    lab = converged[0]
    for host in HOSTS:
        data = lab.qt_read(host)
        keys = data["keys"]
        first, wado, hybrid = BASE["starviewer_pacs"]
        # An INI file has no types: Qt reads every number back as a string and Starviewer converts with toInt().
        assert keys["PacsList/size"] == "3"
        assert keys["PacsList/1/AETitle"] == first["ae_title"]
        assert keys["PacsList/1/Institution"] == first["institution"]
        assert keys["PacsList/1/Location"] == first["location"]
        assert keys["PacsList/1/Description"] == first["description"]
        assert keys["PacsList/1/PacsPort"] == "11112"
        assert keys["PacsList/2/Institution"] == "@Hospital"
        assert keys["PacsList/3/StoreServicePort"] == "11113"
        assert keys["PacsList/3/QueryRetrieveServiceEnabled"] == "true"
        assert keys["InstitutionInformation/InstitutionName"] == BASE["starviewer_settings"][
            "InstitutionInformation/InstitutionName"]
        assert keys["PACS/defaultPACSListToQuery2"] == (
            "@PACS,1;=pacs1.example.org:11112\\\\http://10.0.0.3/wado-uri/\U00012256PACS310.0.0.3:104\\\\")
        assert keys["PACS/defaultPACSListToQuery"] == ""
        assert data["effective"]["ae_title"] == "SV" + host[-8:]
        assert data["effective"]["pacs_count"] == 3
        raw = lab.sh(host, "cat " + CONF).stdout
        assert raw.isascii()


def test_foreign_key_survives_and_a_shorter_list_leaves_no_stale_entries(converged):
    lab = converged[0]
    lab.sh(HOST, "printf '\\n[Foreign]\\nkept=by someone else\\n' >> " + CONF)
    run = lab.playbook(lab.installer_vars(), {"starviewer_pacs": BASE["starviewer_pacs"][:1]}, limit=HOST)
    assert run.rc == 0, run.text[-2000:]
    text = lab.sh(HOST, "cat " + CONF).stdout
    assert "kept=by someone else" in text
    assert not re.search(r"(?m)^[23]\\", text), text
    assert lab.qt_read(HOST)["keys"]["PacsList/size"] == "1"


def test_url_handler_is_repaired(converged):
    lab = converged[0]
    lab.sh(HOST, "rm /usr/share/applications/StarviewerUrlHandler.desktop /etc/xdg/mimeapps.list; "
                 "update-desktop-database /usr/share/applications")
    assert lab.sh(HOST, "xdg-mime query default x-scheme-handler/starviewer", user="clinician").stdout.strip() == ""
    run = lab.playbook(lab.installer_vars(), limit=HOST)
    assert run.rc == 0
    answer = lab.sh(HOST, "xdg-mime query default x-scheme-handler/starviewer", user="clinician").stdout.strip()
    assert answer == "StarviewerUrlHandler.desktop"


def test_access_level_file(converged):
    lab = converged[0]
    info = lab.sh(HOST, "stat -c '%U:%G %a' /opt/starviewer/settingsAccessLevel.ini; "
                        "cat /opt/starviewer/settingsAccessLevel.ini").stdout.splitlines()
    assert info[0] == "root:root 644"
    assert "settingsAccessLevelVersion=1.0" in info
    assert all(line.endswith("=system") for line in info[1:] if "=" in line and "Version" not in line)


def test_upgrade_then_no_downgrade(converged):
    lab = converged[0]
    newer = lab.playbook(lab.installer_vars("2.0.1-CE"), limit=HOST)
    assert newer.rc == 0, newer.text[-2000:]
    assert lab.qt_read(HOST)["version"].startswith("2.0.1")
    # "false" as a string, as -e starviewer_allow_downgrade=false gives it: still no downgrade.
    older = lab.playbook(lab.installer_vars("2.0.0-CE"), {"starviewer_allow_downgrade": "false"}, limit=HOST)
    assert older.rc == 0, older.text[-2000:]
    assert older.changed_tasks(HOST) == []
    assert "left as is" in older.text
    assert lab.qt_read(HOST)["version"].startswith("2.0.1")
