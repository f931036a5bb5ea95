"""Running ansible-playbook against the collection from the Windows tests (no host is ever contacted)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _tool(name: str) -> str:
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if not found:
        raise RuntimeError("%s not found next to %s or on PATH" % (name, sys.executable))
    return found


def ansible_env(**extra: str) -> dict:
    env = dict(os.environ)
    env.update(
        ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".cache" / "collections"),
        ANSIBLE_CONFIG=str(ROOT / "tests" / "lab" / "ansible.cfg"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_RETRY_FILES_ENABLED="0",
    )
    env.update(extra)
    return env


def ansible_playbook(playbook: Path | str, *args: str, inventory: Path | None = None, extra_vars: dict | None = None,
                     json_output: bool = False, check: bool = True, **env: str) -> subprocess.CompletedProcess:
    """Run ansible-playbook; with ``json_output`` its stdout is the json callback's document (parsed into .json)."""
    command = [_tool("ansible-playbook"), str(playbook), *args]
    if inventory is not None:
        command += ["-i", str(inventory)]
    if extra_vars:
        command += ["-e", json.dumps(extra_vars)]
    extra = dict(env)
    if json_output:
        extra["ANSIBLE_STDOUT_CALLBACK"] = "ansible.builtin.json"
    proc = subprocess.run(command, env=ansible_env(**extra), capture_output=True, text=True, timeout=300,
                          cwd=str(ROOT), check=False)
    proc.json = json.loads(proc.stdout) if json_output and proc.stdout.strip().startswith("{") else None
    if check and proc.returncode != 0:
        raise AssertionError("ansible-playbook failed (%d):\n%s\n%s"
                             % (proc.returncode, proc.stdout[-6000:], proc.stderr[-3000:]))
    return proc
