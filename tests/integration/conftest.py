"""Lab fixtures for the integration tests: real SSH workstations (tests/lab/lab.sh), real ansible-playbook runs."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SVLAB = Path(os.environ.get("SVLAB", "/var/tmp/svlab"))
LAB = ROOT / "tests" / "lab" / "lab.sh"
BASE_VARS = Path(__file__).with_name("base_vars.yml")
OCTET = 62
HOSTS = ["it-ws-1", "it-ws-2"]
SSH = ["ssh", "-i", str(SVLAB / "ssh" / "id_ed25519"), "-o", "StrictHostKeyChecking=no",
       "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-o", "BatchMode=yes"]


def standin_deb(version: str) -> Path:
    """Build (once, cached) the stand-in package for a version and return its path."""
    dist = SVLAB / "dist"
    deb = dist / ("starviewer~%s~amd64-ubuntu.deb" % version)
    if not deb.exists():
        subprocess.run(["bash", str(ROOT / "tests/fixtures/standin/build-deb.sh"), version, str(dist)],
                       check=True, capture_output=True)
    return deb


def sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass
class Run:
    rc: int
    output: dict
    text: str
    changed: dict = field(default_factory=dict)

    def results(self, host: str) -> list[tuple[str, dict]]:
        """(task name, result) for one host, in run order."""
        found = []
        for play in self.output.get("plays", []):
            for task in play["tasks"]:
                if host in task["hosts"]:
                    # Drop the "namespace.collection.role : " prefix the callback adds.
                    found.append((task["task"]["name"].split(" : ", 1)[-1], task["hosts"][host]))
        return found

    def tasks(self, host: str) -> dict:
        """Task name -> result for one host (the last of equal names wins)."""
        return dict(self.results(host))

    def changed_tasks(self, host: str) -> list[str]:
        return [name for name, result in self.tasks(host).items() if result.get("changed")]

    def messages(self) -> str:
        parts = [self.text]
        for play in self.output.get("plays", []):
            for task in play["tasks"]:
                for result in task["hosts"].values():
                    if result.get("failed"):
                        parts.append(str(result.get("msg", "")))
        return "\n".join(parts)


class Lab:
    def __init__(self, tmp: Path, name: str = "it", octet: int = OCTET, hosts: list[str] | None = None,
                 netns: str | None = None):
        """Lab hosts NAME on 127.0.OCTET.n; with ``netns`` the hosts, SSH and ansible-playbook all run inside it."""
        self.tmp = tmp
        self.name = name
        self.octet = octet
        self.hosts = list(HOSTS if hosts is None else hosts)
        self.prefix = ["ip", "netns", "exec", netns] if netns else []

    def write_inventory(self, host_vars: dict | None = None) -> Path:
        """Inventory with base_vars.yml as group vars (so host vars can override them) plus per-host overrides."""
        # base_vars.yml holds !unsafe-free plain data; it is loaded as YAML and written back as inventory vars.
        group_vars = yaml.safe_load(BASE_VARS.read_text())
        group_vars.update({"ansible_user": "ansible",
                           "ansible_ssh_private_key_file": str(SVLAB / "ssh" / "id_ed25519")})
        hosts = {}
        for i, name in enumerate(self.hosts):
            hosts[name] = {"ansible_host": "127.0.%d.%d" % (self.octet, i + 1), **(host_vars or {}).get(name, {})}
        path = self.tmp / "inventory.yml"
        path.write_text(yaml.safe_dump({"all": {"hosts": hosts, "vars": group_vars}}, allow_unicode=True))
        return path

    def reset(self) -> None:
        """Fresh workstations: stop, drop overlays, start again."""
        subprocess.run(["bash", str(LAB), "down", self.name], check=True, capture_output=True)
        subprocess.run([*self.prefix, "bash", str(LAB), "up", self.name, str(len(self.hosts)), str(self.octet),
                        *self.hosts], check=True, capture_output=True)

    def down(self) -> None:
        subprocess.run(["bash", str(LAB), "down", self.name], capture_output=True, check=False)

    def ip(self, host: str) -> str:
        return "127.0.%d.%d" % (self.octet, self.hosts.index(host) + 1)

    def sh(self, host: str, command: str, user: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
        """Run a shell command on a workstation over SSH, as root or (with user) as that user."""
        if user:
            command = "sudo -u %s -i sh -c %s" % (user, shlex.quote(command))
        else:
            command = "sudo sh -c %s" % shlex.quote(command)
        return subprocess.run([*self.prefix, *SSH, "ansible@" + self.ip(host), command], capture_output=True,
                              text=True, check=check)

    def playbook(self, *extra_vars: dict, playbook: str = "playbooks/site.yml", check: bool = False,
                 limit: str | None = None, args: tuple = (), host_vars: dict | None = None) -> Run:
        var_files = []
        for index, data in enumerate(extra_vars):
            path = self.tmp / ("extra-%d-%d.json" % (os.getpid(), index))
            path.write_text(json.dumps(data))
            var_files += ["-e", "@" + str(path)]
        command = [*self.prefix, "ansible-playbook", "-i", str(self.write_inventory(host_vars)), *var_files,
                   str(ROOT / playbook), *args]
        if check:
            command += ["--check", "--diff"]
        if limit:
            command += ["--limit", limit]
        env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
                   ANSIBLE_CONFIG=str(ROOT / "tests/lab/ansible.cfg"),
                   ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".cache" / "collections"))
        proc = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT, check=False)
        try:
            output = json.loads(proc.stdout[proc.stdout.index("{"):])
        except ValueError:
            output = {}
        return Run(proc.returncode, output, proc.stdout + proc.stderr)

    def installer_vars(self, version: str = "2.0.0-CE") -> dict:
        deb = standin_deb(version)
        return {"starviewer_installer_src": str(deb), "starviewer_installer_sha256": sha256(deb)}

    def qt_read(self, host: str, user: str = "clinician") -> dict:
        """What the stand-in Starviewer reads through Qt 5 QSettings, as an ordinary user."""
        self.sh(host, "id %s >/dev/null 2>&1 || useradd -m -s /bin/bash %s" % (user, user))
        return json.loads(self.sh(host, "/usr/bin/starviewer --dump-settings", user=user).stdout)

    def untouched(self, host: str) -> bool:
        """No trace of the collection on the workstation."""
        probe = self.sh(host, "dpkg-query -W starviewer; ls -d /etc/xdg/GILab /var/cache/starviewer /opt/starviewer",
                        check=False)
        return "No such file" in probe.stderr and probe.stdout.strip() == "" and probe.stderr.count("No such") == 3


@pytest.fixture(scope="session")
def lab(tmp_path_factory):
    if os.geteuid() != 0:
        pytest.skip("the lab needs root (namespaces, overlay mounts)")
    lab = Lab(tmp_path_factory.mktemp("lab"))
    lab.reset()
    yield lab
    subprocess.run(["bash", str(LAB), "down", "it"], capture_output=True, check=False)
