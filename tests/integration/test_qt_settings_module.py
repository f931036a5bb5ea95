"""The qt_settings module on a real workstation: links, bad paths, values Qt cannot store, atomic writes."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from .conftest import HOSTS, ROOT

HOST = HOSTS[1]


@pytest.fixture(scope="module")
def host(lab):
    lab.reset()
    return lab


def module(lab, args: dict, check: bool = False) -> dict:
    """Run medimaging.starviewer.qt_settings ad hoc on one host and return its JSON result."""
    inventory = lab.write_inventory()
    command = ["ansible", HOST, "-i", str(inventory), "-b", "-m", "medimaging.starviewer.qt_settings",
               "-a", json.dumps(args)]
    if check:
        command += ["--check", "--diff"]
    env = dict(os.environ, ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
               ANSIBLE_CONFIG=str(ROOT / "tests/lab/ansible.cfg"),
               ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".cache" / "collections"))
    # A failing task is an outcome the tests inspect in the JSON, not an error of the run itself.
    proc = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT, check=False)
    data = json.loads(proc.stdout[proc.stdout.index("{"):])
    return data["plays"][0]["tasks"][0]["hosts"][HOST]


def test_a_symlinked_file_is_updated_through_the_link(host):
    host.sh(HOST, "mkdir -p /srv/shared /etc/xdg/GILab && printf '[Foreign]\\nkept=1\\n' > /srv/shared/sv.conf && "
                  "ln -sfn /srv/shared/sv.conf /etc/xdg/GILab/Starviewer.conf")
    result = module(host, {"path": "/etc/xdg/GILab/Starviewer.conf", "set": {"PACS/pacsparam/localPort": "4010"}})
    assert result["changed"] and result["path"] == "/srv/shared/sv.conf"
    assert host.sh(HOST, "readlink /etc/xdg/GILab/Starviewer.conf").stdout.strip() == "/srv/shared/sv.conf"
    assert host.sh(HOST, "cat /srv/shared/sv.conf").stdout == "[Foreign]\nkept=1\n\n[PACS]\npacsparam\\localPort=4010\n"


@pytest.mark.parametrize(("args", "message"), [
    ({"path": "relative.conf"}, "allowed: an absolute file path"),
    ({"path": "/etc/xdg/GILab/"}, "allowed: an absolute file path"),
    ({"path": "/tmp/t.conf", "set": {"G/a": 10 ** 30}}, "nothing was written"),
    ({"path": "/tmp/t.conf", "set": {"G/a": {"qurl": "http://ex ample.org/"}}}, "nothing was written"),
])
def test_bad_arguments_fail_cleanly_and_write_nothing(host, args, message):
    result = module(host, args)
    assert result.get("failed") and message in result["msg"], result
    assert "Traceback" not in json.dumps(result)
    assert host.sh(HOST, "ls /tmp/t.conf /home/ansible/relative.conf", check=False).stdout == ""


def test_check_mode_reports_and_writes_nothing(host):
    result = module(host, {"path": "/tmp/check.conf", "set": {"PACS/pacsparam/localPort": "4011"}}, check=True)
    assert result["changed"] and "pacsparam\\localPort=4011" in result["diff"]["after"]
    assert host.sh(HOST, "ls /tmp/check.conf", check=False).returncode != 0


def test_no_temporary_files_are_left(host):
    module(host, {"path": "/tmp/clean.conf", "set": {"PACS/pacsparam/localPort": "4012"}})
    assert host.sh(HOST, "ls -A /tmp | grep -c '^\\.clean.conf' || true").stdout.strip() == "0"
