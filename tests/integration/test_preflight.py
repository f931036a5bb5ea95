"""The fleet preflight on real lab workstations (pf-*, 127.0.66.x): every AE title problem of the fleet in one run,
before any host changes. Like stock Ubuntu, each workstation's name resolves to 127.0.1.1."""

from __future__ import annotations

import os

import pytest

from .conftest import Lab

OCTET = 66
HOSTS = ["pf-ws-1", "pf-ws-2", "pf-ws-3", "pf-radiology-0017", "pf-ws-5", "pf-ws-6"]
# base_vars.yml gives every host SV%HOSTNAME%[8:] and a PACS list whose hybrid entry is titled PACS3.
TRAPS = {
    "pf-ws-1": {"starviewer_local_ae_title": "SVDUP"},
    "pf-ws-2": {"starviewer_local_ae_title": "SVDUP"},
    "pf-ws-3": {"starviewer_local_ae_title": "SV%IP.4%[3:0]"},
    # Statically valid (the expression alone is short); it is the host name that makes it 17 characters.
    "pf-radiology-0017": {"starviewer_local_ae_title": "%HOSTNAME%"},
    "pf-ws-5": {"starviewer_local_ae_title": "%USERNAME%"},
    "pf-ws-6": {"starviewer_local_ae_title": "PACS3"},
}
EXPECTED = {
    "pf-ws-1": "effective AE title 'SVDUP' is also the title of pf-ws-2",
    "pf-ws-2": "effective AE title 'SVDUP' is also the title of pf-ws-1",
    "pf-ws-3": "AE title 'SV001' (from 'SV%IP.4%[3:0]', starviewer_local_ae_title) depends on %IP.4% but pf-ws-3 "
               "resolves to the loopback address 127.0.1.1 on the host",
    "pf-radiology-0017": "effective AE title 'pf-radiology-0017' (from '%HOSTNAME%', starviewer_local_ae_title) is 17 "
                         "characters long; DICOM allows at most 16",
    "pf-ws-5": "uses %USERNAME%, which Starviewer 2.0 never expands",
    "pf-ws-6": "effective AE title 'PACS3' is also the AE title of PACS starviewer_pacs[2] 'PACS3'",
}


@pytest.fixture(scope="module")
def pf(tmp_path_factory):
    if os.geteuid() != 0:
        pytest.skip("the lab needs root (namespaces, overlay mounts)")
    pf = Lab(tmp_path_factory.mktemp("preflight"), name="pf", octet=OCTET, hosts=HOSTS)
    pf.reset()
    yield pf
    pf.down()


def preflight_failure(run) -> str:
    """The message of the one failed task of the run, which must be the fleet comparison."""
    failed = []
    for play in run.output.get("plays", []):
        for task in play["tasks"]:
            for host, result in task["hosts"].items():
                if result.get("failed"):
                    failed.append((task["task"]["name"], host, result.get("msg", "")))
    assert len(failed) == 1, failed or run.text[-3000:]
    assert failed[0][0].endswith("Compare the effective AE titles of the whole play"), failed
    return failed[0][2]


def comparison(run) -> dict:
    """The result of the fleet comparison (run once, on whichever host comes first)."""
    found = [result for play in run.output.get("plays", []) for task in play["tasks"]
             if task["task"]["name"].endswith("Compare the effective AE titles of the whole play")
             for result in task["hosts"].values()]
    assert len(found) == 1, run.text[-3000:]
    return found[0]


def assert_every_trap_reported(message: str, hosts: list[str]) -> None:
    lines = {}
    for line in message.splitlines():
        if line.startswith("- "):
            host, _sep, problem = line[2:].partition(": ")
            lines.setdefault(host, []).append(problem)
    assert sorted(lines) == sorted(hosts), message
    for host in hosts:
        assert any(EXPECTED[host] in problem for problem in lines[host]), (host, lines[host])
    assert "Nothing was changed on any host" in message


def test_preflight_playbook_reports_every_problem_in_one_run(pf):
    run = pf.playbook(playbook="playbooks/preflight.yml", host_vars=TRAPS)
    assert run.rc != 0
    message = preflight_failure(run)
    assert message.startswith("Starviewer preflight: 6 problem(s) on 6 of 6 host(s)")
    assert_every_trap_reported(message, HOSTS)
    for host in HOSTS:
        assert pf.untouched(host)

    # Check mode reads the same and fails the same way.
    checked = pf.playbook(playbook="playbooks/preflight.yml", host_vars=TRAPS, check=True)
    assert checked.rc != 0
    assert_every_trap_reported(preflight_failure(checked), HOSTS)


def test_site_stops_before_any_workstation_changes(pf):
    # %USERNAME% is refused earlier by the variable checks of site.yml (test_site.py covers it), so here the
    # workstation gets a valid title and the preflight reports the problems only the hosts themselves reveal.
    traps = dict(TRAPS, **{"pf-ws-5": {"starviewer_local_ae_title": "SVPF5"}})
    run = pf.playbook(pf.installer_vars(), host_vars=traps)
    assert run.rc != 0
    message = preflight_failure(run)
    offending = [host for host in HOSTS if host != "pf-ws-5"]
    assert_every_trap_reported(message, offending)
    for host in HOSTS:
        assert pf.untouched(host), host
    assert not any(name.startswith("Install") for host in HOSTS for name in run.tasks(host))


def test_warnings_instead_of_failure(pf):
    # Given on the command line, the switch arrives as the string "false".
    run = pf.playbook(playbook="playbooks/preflight.yml", host_vars=TRAPS,
                      args=("-e", "starviewer_preflight_fail=false"))
    assert run.rc == 0, run.text[-3000:]
    result = comparison(run)
    assert "reported as warnings" in result["msg"]
    assert len(result["problems"]) == 6
    # Shown as a warning (the JSON callback keeps it in the result), every problem included.
    warning = "\n".join(result["warnings"])
    assert warning.startswith("Starviewer preflight: 6 problem(s) on 6 of 6 host(s)")
    assert all(EXPECTED[host] in warning for host in HOSTS)


def test_unreachable_workstation_is_left_out_and_the_fleet_goes_on(pf, tmp_path):
    # pf-ws-off is in the inventory (127.0.66.7) but never started: switched off.
    fleet = Lab(tmp_path, name="pf", octet=OCTET, hosts=HOSTS + ["pf-ws-off"])
    run = fleet.playbook(fleet.installer_vars(), limit="pf-ws-1,pf-ws-2,pf-ws-off")
    # ansible-playbook still reports the unreachable host (rc 4), after the others were installed.
    assert run.rc == 4, run.text[-3000:]
    result = comparison(run)
    assert result["left_out"] == {"pf-ws-off": result["left_out"]["pf-ws-off"]}
    assert result["left_out"]["pf-ws-off"].startswith("unreachable: ")
    assert sorted(result["titles"]) == ["pf-ws-1", "pf-ws-2"]
    assert "left out 1 host(s)" in run.text
    for host in ("pf-ws-1", "pf-ws-2"):
        assert fleet.sh(host, "dpkg-query -W -f='${Version}' starviewer").stdout == "2.0.0-CE"
