"""The collection artefact (ansible-galaxy collection build) and the execution environment definition.

The artefact must hold everything a user runs or reads and nothing of the development tree; the execution
environment must bring the collection, the collections it calls and its Python dependencies. ``ansible-builder
create`` needs no container engine, so its build context is generated here and inspected.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
GALAXY = yaml.safe_load((ROOT / "galaxy.yml").read_text())
ARTEFACT = "%s-%s-%s.tar.gz" % (GALAXY["namespace"], GALAXY["name"], GALAXY["version"])
EE = yaml.safe_load((ROOT / "execution-environment.yml").read_text())


def _cli(name: str) -> str:
    path = shutil.which(name) or str(Path(sys.executable).with_name(name))
    assert Path(path).exists(), "%s is pinned in requirements-dev.txt; run make deps" % name
    return path


def _run(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    proc = subprocess.run(args, capture_output=True, text=True, check=False, timeout=300, **kwargs)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def _install(artefact: Path, collections: Path) -> None:
    # Only the empty target path is configured, so a copy installed elsewhere (ansible-lint puts one in
    # ~/.ansible/collections) cannot make ansible-galaxy report "already installed" and skip the install.
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(collections))
    _run([_cli("ansible-galaxy"), "collection", "install", "--offline", "--no-deps", "-p", str(collections),
          str(artefact)], env=env)


def _tracked() -> list[str]:
    listing = _run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT).stdout
    return [name for name in listing.splitlines() if (ROOT / name).is_file()]


@pytest.fixture(scope="module")
def artefact(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("build")
    # Build from a copy of the files git knows, as a fresh checkout would: caches in the work tree must not matter.
    tree = tmp_path_factory.mktemp("tree")
    for name in _tracked():
        (tree / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, tree / name)
    _run([_cli("ansible-galaxy"), "collection", "build", "--output-path", str(out), str(tree)])
    path = out / ARTEFACT
    assert path.exists()
    return path


@pytest.fixture(scope="module")
def members(artefact) -> set[str]:
    with tarfile.open(artefact) as tar:
        return {member.name for member in tar.getmembers() if member.isfile()}


def test_artefact_is_small(artefact):
    assert artefact.stat().st_size < 1024 * 1024


def test_artefact_holds_no_development_files(members):
    for prefix in ("tests/", "molecule/", ".cache/", "tools/", "changelogs/fragments/", ".ci/", "bench/", "build/",
                   "context/"):
        assert not [name for name in members if name.startswith(prefix)], prefix
    for name in ("Makefile", "requirements-dev.txt", "pyproject.toml", ".ansible-lint", ".yamllint"):
        assert name not in members
    assert not [name for name in members if "__pycache__" in name or name.endswith(".pyc")]


def test_artefact_holds_everything_users_need(members):
    wanted = [name for name in _tracked()
              if name.split("/", 1)[0] in ("plugins", "roles", "playbooks", "meta", "docs", "examples")]
    wanted += ["README.md", "CHANGELOG.rst", "changelogs/changelog.yaml", "requirements.txt",
               "execution-environment.yml", "meta/execution-environment.yml"]
    missing = sorted(set(wanted) - members)
    assert not missing, missing
    assert {"MANIFEST.json", "FILES.json"} <= members


def test_artefact_installs_offline_into_an_empty_path(artefact, tmp_path):
    collections = tmp_path / "collections"
    _install(artefact, collections)
    manifest = json.loads((collections / "ansible_collections" / GALAXY["namespace"] / GALAXY["name"]
                           / "MANIFEST.json").read_text())
    assert manifest["collection_info"]["version"] == GALAXY["version"]
    assert manifest["collection_info"]["dependencies"] == GALAXY["dependencies"]


# --- execution environment ----------------------------------------------------------------------------------------


def _bundled_version(fqcn: str) -> str:
    """Version of a collection in the pinned ansible bundle, the one the tests run with."""
    spec = importlib.util.find_spec("ansible_collections")
    for location in spec.submodule_search_locations:
        manifest = Path(location, *fqcn.split("."), "MANIFEST.json")
        if manifest.exists():
            return json.loads(manifest.read_text())["collection_info"]["version"]
    raise AssertionError("%s is not in the ansible bundle" % fqcn)


def _at_least(version: str, minimum: str) -> bool:
    return tuple(int(part) for part in version.split(".")) >= tuple(int(part) for part in minimum.split("."))


def test_ee_names_this_version_of_the_collection():
    collections = EE["dependencies"]["galaxy"]["collections"]
    assert {"name": "/build/collections/" + ARTEFACT, "type": "file"} in collections
    assert {"src": "build/" + ARTEFACT, "dest": "collections"} in EE["additional_build_files"]


def test_ee_brings_the_collections_the_collection_needs_at_the_tested_versions():
    pinned = {item["name"]: str(item["version"]) for item in EE["dependencies"]["galaxy"]["collections"]
              if item.get("type") != "file"}
    for fqcn, requirement in GALAXY["dependencies"].items():
        assert fqcn in pinned, "%s (a dependency in galaxy.yml) is missing from execution-environment.yml" % fqcn
        assert requirement.startswith(">="), requirement
        assert _at_least(pinned[fqcn], requirement[2:]), (fqcn, pinned[fqcn], requirement)
        assert pinned[fqcn] == _bundled_version(fqcn), "%s: the EE pins %s, the tests run with %s" % (
            fqcn, pinned[fqcn], _bundled_version(fqcn))


def test_ee_core_matches_the_tested_core():
    dev = (ROOT / "requirements-dev.txt").read_text().splitlines()
    assert EE["dependencies"]["ansible_core"]["package_pip"] in dev


def test_collection_declares_pywinrm_for_ansible_builder(artefact, tmp_path):
    meta = yaml.safe_load((ROOT / "meta" / "execution-environment.yml").read_text())
    assert meta["dependencies"]["python"] == "requirements.txt"
    collections = tmp_path / "collections"
    _install(artefact, collections)
    # What ansible-builder finds in the installed collection during an image build.
    found = yaml.safe_load(_run([_cli("ansible-builder"), "introspect", "--sanitize", str(collections)]).stdout)
    assert [line for line in found["python"] if line.startswith("pywinrm")], found


def test_ansible_builder_create_makes_the_context(artefact, tmp_path):
    (tmp_path / "build").mkdir()
    shutil.copy(artefact, tmp_path / "build" / ARTEFACT)
    shutil.copy(ROOT / "execution-environment.yml", tmp_path)
    _run([_cli("ansible-builder"), "create", "--file", "execution-environment.yml", "--context", "context",
          "--output-filename", "Containerfile"], cwd=tmp_path)
    context = tmp_path / "context"
    containerfile = (context / "Containerfile").read_text()
    assert 'ARG EE_BASE_IMAGE="%s"' % EE["images"]["base_image"]["name"] in containerfile
    assert "ansible-galaxy collection install" in containerfile
    assert "introspect" in containerfile
    requirements = yaml.safe_load((context / "_build" / "requirements.yml").read_text())
    names = [item["name"] for item in requirements["collections"]]
    assert names[0] == "/build/collections/" + ARTEFACT
    assert set(GALAXY["dependencies"]) <= set(names[1:])
    assert "pywinrm" in (context / "_build" / "requirements.txt").read_text()
    assert (context / "_build" / "collections" / ARTEFACT).read_bytes() == artefact.read_bytes()
