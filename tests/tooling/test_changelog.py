"""The changelog (antsibull-changelog) and galaxy.yml's version tell the same story."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
GALAXY = yaml.safe_load((ROOT / "galaxy.yml").read_text())
CHANGES = yaml.safe_load((ROOT / "changelogs" / "changelog.yaml").read_text())
FRAGMENTS = sorted((ROOT / "changelogs" / "fragments").glob("*.y*ml"))


def _version(text: str) -> tuple[int, ...]:
    core = str(text).split("-", 1)[0].split("+", 1)[0]
    parts = core.split(".")
    assert len(parts) == 3 and all(part.isdigit() for part in parts), "not a semantic version: %r" % text
    return tuple(int(part) for part in parts)


def _tool() -> str:
    path = shutil.which("antsibull-changelog") or str(Path(sys.executable).with_name("antsibull-changelog"))
    assert Path(path).exists(), "antsibull-changelog is pinned in requirements-dev.txt; run make deps"
    return path


def test_galaxy_version_is_the_latest_release_or_the_planned_one():
    version = _version(GALAXY["version"])
    releases = sorted((CHANGES.get("releases") or {}), key=_version)
    if releases and _version(releases[-1]) == version:
        return
    # Not released yet: galaxy.yml names the next release, which must be newer and have fragments waiting.
    assert not releases or version > _version(releases[-1]), (
        "galaxy.yml says %s but the changelog's latest release is %s" % (GALAXY["version"], releases[-1]))
    assert FRAGMENTS, "galaxy.yml plans %s but changelogs/fragments is empty" % GALAXY["version"]


def test_a_planned_release_has_a_summary():
    releases = CHANGES.get("releases") or {}
    if GALAXY["version"] in releases:
        assert releases[GALAXY["version"]].get("changes", {}).get("release_summary")
    else:
        summaries = [path.name for path in FRAGMENTS if "release_summary" in (yaml.safe_load(path.read_text()) or {})]
        assert summaries, "no fragment has the release_summary of %s" % GALAXY["version"]


def test_changelog_lint():
    proc = subprocess.run([_tool(), "lint"], cwd=ROOT, capture_output=True, text=True, check=False)
    assert proc.returncode == 0 and not proc.stdout.strip(), proc.stdout + proc.stderr


def test_changelog_rst_is_generated_from_changelog_yaml(tmp_path):
    if not CHANGES.get("releases"):
        pytest.skip("nothing released yet: CHANGELOG.rst is written by make changelog-release")
    copy = tmp_path / "starviewer"
    copy.mkdir()
    shutil.copytree(ROOT / "changelogs", copy / "changelogs")
    shutil.copy(ROOT / "galaxy.yml", copy)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".cache" / "collections"))
    proc = subprocess.run([_tool(), "generate"], cwd=copy, capture_output=True, text=True, check=False, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (ROOT / "CHANGELOG.rst").read_text() == (copy / "CHANGELOG.rst").read_text(), (
        "CHANGELOG.rst is stale; run make changelog")


def _released() -> dict[tuple[str, str], str]:
    """(kind, name) -> the release that introduced it, as changelog.yaml records it."""
    found = {}
    for version, release in (CHANGES.get("releases") or {}).items():
        for item in release.get("modules") or []:
            found[("module", item["name"])] = version
        for kind, items in (release.get("plugins") or {}).items():
            for item in items:
                found[(kind, item["name"])] = version
        for kind, items in (release.get("objects") or {}).items():
            for item in items:
                found[(kind, item["name"])] = version
    return found


def _documented() -> list[tuple[str, str, Path, str | None]]:
    """(kind, name, file, version_added) of every module, filter and role."""
    items = []
    for path in sorted((ROOT / "plugins" / "modules").glob("*.py")):
        match = re.search(r"^version_added:\s*['\"]?([^'\"\s]+)", path.read_text(), re.M)
        items.append(("module", path.stem, path, match and match.group(1)))
    for path in sorted((ROOT / "plugins" / "filter").glob("*.yml")):
        doc = (_load(path) or {}).get("DOCUMENTATION") or {}
        items.append(("filter", path.stem, path, doc.get("version_added")))
    for path in sorted((ROOT / "roles").glob("*/meta/argument_specs.yml")):
        main = ((_load(path) or {}).get("argument_specs") or {}).get("main") or {}
        items.append(("role", path.parents[1].name, path, main.get("version_added")))
    return items


def _load(path: Path) -> dict | None:
    # A file that is not YAML is reported by its own test (ansible-doc, sanity), not by failing collection here.
    try:
        return yaml.safe_load(path.read_text())
    except yaml.YAMLError:
        return None


@pytest.mark.parametrize(("kind", "name", "path", "added"), _documented(),
                         ids=["%s:%s" % (item[0], item[1]) for item in _documented()])
def test_version_added_matches_the_release_that_brings_it(kind, name, path, added):
    # antsibull-changelog lists a module, plugin or role as new in the release equal to its version_added.
    expected = _released().get((kind, name), GALAXY["version"])
    assert added is not None, "%s: no version_added (expected %s)" % (path.relative_to(ROOT), expected)
    assert str(added) == expected, "%s: version_added %s, but %s %s is new in %s" % (
        path.relative_to(ROOT), added, kind, name, expected)
