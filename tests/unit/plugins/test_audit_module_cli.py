"""The starviewer_audit module run through the ansible CLI, as the wipe role runs it on the controller.

It lives here, not under tests/unit/plugins/modules, because ansible-test runs module tests without the controller
(the ansible CLI is not importable there).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def test_audit_module_through_ansible(tmp_path):
    """The module as the wipe role runs it on the controller; check mode writes nothing."""
    ansible = shutil.which("ansible") or str(Path(sys.executable).with_name("ansible"))
    if not Path(ansible).exists():
        pytest.skip("ansible not installed")
    path = tmp_path / "audit.jsonl"
    args = json.dumps({"path": str(path), "results": {"ws1": {"hostname": "ws1", "users": [
        {"user": "a", "uid": 1001, "outcome": "nothing", "paths": [], "files": 0, "bytes": 0, "dirs": 0}]}}})
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".cache" / "collections"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0")
    command = [ansible, "localhost", "-i", "localhost,", "-c", "local", "-e",
               "ansible_python_interpreter=" + sys.executable, "-m", "medimaging.starviewer.starviewer_audit",
               "-a", args]
    check = subprocess.run(command + ["--check"], capture_output=True, text=True, env=env, timeout=120, check=False)
    assert check.returncode == 0, check.stdout + check.stderr
    assert not path.exists()
    real = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120, check=False)
    assert real.returncode == 0, real.stdout + real.stderr
    (record,) = [json.loads(line) for line in path.read_text().splitlines()]
    assert (record["host"], record["hostname"], record["user"], record["outcome"]) == ("ws1", "ws1", "a", "nothing")
