"""Build the collection, install the artefact into an empty collections path and use it from there on a lab host.

Nothing here reads the repository at run time: the playbook, inventory and ansible.cfg are written to a scratch
directory, and ANSIBLE_COLLECTIONS_PATH holds only the installed artefact (community.general and ansible.windows come
from the pinned ansible bundle, as they would from Galaxy). Lab host pk-ws-1 on 127.0.67.1.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
GALAXY = yaml.safe_load((ROOT / "galaxy.yml").read_text())
FQCN = "%s.%s" % (GALAXY["namespace"], GALAXY["name"])
HOST = "pk-ws-1"

# The Lab helper of the integration tests (lab.sh up/down, SSH as root or a user, Qt read-back of the stand-in).
_spec = importlib.util.spec_from_file_location("svlab_lab", ROOT / "tests" / "integration" / "conftest.py")
svlab_lab = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = svlab_lab
_spec.loader.exec_module(svlab_lab)

ANSIBLE_CFG = """[defaults]
host_key_checking = False
interpreter_python = /usr/bin/python3
remote_user = ansible
private_key_file = {key}
gathering = explicit
inject_facts_as_vars = False
stdout_callback = ansible.posix.json

[ssh_connection]
pipelining = True
ssh_args = -o ControlMaster=auto -o ControlPersist=60s -o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no
"""

# Runs site.yml from the installed collection, then uses its module and filter by FQCN.
PLAYBOOK = [
    {"name": "The whole job, from the installed collection",
     "ansible.builtin.import_playbook": FQCN + ".site"},
    {"name": "The installed collection's plugins",
     "hosts": "all",
     "gather_facts": False,
     "tasks": [
         {"name": "Read the workstation", FQCN + ".starviewer_probe": {}},
         {"name": "Compute the AE title as Starviewer does",
          "ansible.builtin.set_fact": {
              "pk_ae_title": "{{ starviewer_local_ae_title | %s.ae_title_expr(hostname=ansible_facts.starviewer"
                             ".hostname, ip=ansible_facts.starviewer.ip) }}" % FQCN}},
         {"name": "Show what was found",
          "ansible.builtin.debug": {"msg": "{{ {'version': ansible_facts.starviewer.package.version, "
                                           "'ae_title': pk_ae_title} }}"}},
     ]},
]


def _cli(name: str) -> str:
    path = shutil.which(name) or str(Path(sys.executable).with_name(name))
    assert Path(path).exists(), name
    return path


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> dict:
    """The artefact built from the files git knows and installed with --offline --no-deps; env to use it."""
    tmp = tmp_path_factory.mktemp("pk")
    tree = tmp / "tree"
    listing = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout
    for name in listing.splitlines():
        if (ROOT / name).is_file():
            (tree / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, tree / name)
    subprocess.run([_cli("ansible-galaxy"), "collection", "build", "--output-path", str(tmp / "dist"), str(tree)],
                   capture_output=True, text=True, check=True)
    artefact = tmp / "dist" / ("%s-%s-%s.tar.gz" % (GALAXY["namespace"], GALAXY["name"], GALAXY["version"]))
    shutil.rmtree(tree)
    collections = tmp / "collections"
    (tmp / "ansible.cfg").write_text(ANSIBLE_CFG.format(key=svlab_lab.SVLAB / "ssh" / "id_ed25519"))
    env = {key: value for key, value in os.environ.items() if not key.startswith("ANSIBLE_")}
    env.update(ANSIBLE_CONFIG=str(tmp / "ansible.cfg"), ANSIBLE_COLLECTIONS_PATH=str(collections),
               ANSIBLE_NOCOLOR="1")
    # With only the empty path configured, no copy installed elsewhere can make ansible-galaxy skip the install.
    subprocess.run([_cli("ansible-galaxy"), "collection", "install", "--offline", "--no-deps", "-p",
                    str(collections), str(artefact)], capture_output=True, text=True, check=True, env=env)
    assert (collections / "ansible_collections" / GALAXY["namespace"] / GALAXY["name"] / "MANIFEST.json").exists()
    return {"tmp": tmp, "collections": collections, "env": env}


@pytest.fixture(scope="module")
def lab(scratch):
    if os.geteuid() != 0:
        pytest.skip("the lab needs root (namespaces, overlay mounts)")
    lab = svlab_lab.Lab(scratch["tmp"], name="pk", octet=67, hosts=[HOST])
    lab.reset()
    yield lab
    lab.down()


def _playbook(scratch: dict, lab, plays: list, extra_vars: dict) -> dict:
    tmp = scratch["tmp"]
    (tmp / "play.yml").write_text(yaml.safe_dump(plays, sort_keys=False, allow_unicode=True))
    (tmp / "extra.json").write_text(json.dumps(extra_vars))
    command = [_cli("ansible-playbook"), "-i", str(lab.write_inventory()), "-e", "@" + str(tmp / "extra.json"),
               str(tmp / "play.yml")]
    proc = subprocess.run(command, cwd=tmp, env=scratch["env"], capture_output=True, text=True, check=False,
                          timeout=900)
    try:
        output = json.loads(proc.stdout[proc.stdout.index("{"):])
    except ValueError:
        output = {}
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    return output


def _results(output: dict, task: str) -> dict:
    for play in output["plays"]:
        for item in play["tasks"]:
            if item["task"]["name"] == task:
                return item["hosts"][HOST]
    raise AssertionError("task %r did not run" % task)


def test_only_the_installed_copy_is_visible(scratch):
    proc = subprocess.run([_cli("ansible-galaxy"), "collection", "list", FQCN, "--format", "json"],
                          env=scratch["env"], capture_output=True, text=True, check=True, cwd=scratch["tmp"])
    listing = json.loads(proc.stdout)
    assert list(listing) == [str(scratch["collections"] / "ansible_collections")]
    assert listing[str(scratch["collections"] / "ansible_collections")][FQCN]["version"] == GALAXY["version"]


def test_site_and_plugins_from_the_installed_collection(scratch, lab):
    output = _playbook(scratch, lab, PLAYBOOK, lab.installer_vars())
    shown = _results(output, "Show what was found")["msg"]
    assert shown["version"] == "2.0.0-CE"
    # The stand-in reads the settings through Qt 5 as an ordinary user and expands the AE title itself.
    read = lab.qt_read(HOST)
    assert read["effective"]["ae_title"] == shown["ae_title"] != ""
    assert read["effective"]["pacs_count"] == 3


def test_module_examples_from_the_installed_collection(scratch, lab):
    """The documented examples of the modules that work on a Linux workstation, as ansible-doc prints them."""
    proc = subprocess.run([_cli("ansible-doc"), "--json", "-t", "module", FQCN + ".qt_settings",
                           FQCN + ".starviewer_probe", FQCN + ".starviewer_config"], env=scratch["env"],
                          capture_output=True, text=True, check=True, cwd=scratch["tmp"])
    docs = json.loads(proc.stdout)
    tasks = []
    for name in ("starviewer_config", "qt_settings", "starviewer_probe"):
        tasks += yaml.safe_load(docs[FQCN + "." + name]["examples"])
    output = _playbook(scratch, lab, [{"name": "Module examples", "hosts": "all", "gather_facts": False,
                                       "become": True, "tasks": tasks}], {})
    assert _results(output, "Point Starviewer at the hospital PACS")["changed"] is True
    read = lab.qt_read(HOST)
    # The example's AE title expression, expanded by the stand-in through Qt (the host name resolves to 127.0.1.1).
    assert read["effective"]["ae_title"] == "RAD001"
    assert read["effective"]["pacs_count"] == 1
