"""Every module and filter is documented, and the EXAMPLES of the docs are true.

Filter examples are run for real: all of them in one generated play on localhost (the filters need no managed host),
each task's result compared with the result the example states. An example states its result in a comment right
below the task, ``# => VALUE``, where VALUE is a YAML scalar or flow value; inside a string, ``...`` stands for any
text (for results too long to print whole). Module examples need workstations, so here their arguments are checked
against the module's documented options; tests/package runs modules for real from the installed collection.
"""

from __future__ import annotations

import atexit
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
PREFIX = "medimaging.starviewer."
EXPECTED = re.compile(r"^\s*# => (.*)$")


def _ansible_cli(name: str) -> str:
    path = shutil.which(name) or str(Path(sys.executable).with_name(name))
    if not Path(path).exists():
        pytest.skip("%s not installed" % name)
    return path


# Under ansible-test the tree already sits at .../ansible_collections/medimaging/starviewer; in a checkout the
# symlink made by tests/conftest.py gives it that path.
COLLECTIONS = ROOT.parents[2] if ROOT.parent.parent.name == "ansible_collections" else ROOT / ".cache" / "collections"


def _run(args: list[str]) -> subprocess.CompletedProcess:
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0", ANSIBLE_DEPRECATION_WARNINGS="0")
    return subprocess.run(args, capture_output=True, text=True, env=env, check=False, timeout=300)


def module_names() -> list[str]:
    # A PowerShell module is documented by the .py (or .yml) beside its .ps1, so the stems cover both kinds.
    stems = {path.stem for path in (ROOT / "plugins" / "modules").iterdir()
             if path.suffix in (".py", ".yml", ".ps1") and path.stem != "__init__"}
    return sorted(stems)


def filter_names() -> list[str]:
    """Every filter a FilterModule in plugins/filter exports (one documentation file per filter)."""
    names = []
    for path in sorted((ROOT / "plugins" / "filter").glob("*.py")):
        names += re.findall(r'"(\w+)":\s*\w+', path.read_text().split("def filters", 1)[-1])
    return sorted(names)


def split_examples(text: str) -> list[tuple[dict, list]]:
    """(task, stated results) per top-level task of an EXAMPLES string, comments kept."""
    chunks, current = [], []
    for line in text.splitlines():
        if line.startswith("- ") and current:
            chunks.append(current)
            current = []
        current.append(line)
    if current:
        chunks.append(current)
    examples = []
    for chunk in chunks:
        if not any(line.startswith("- ") for line in chunk):
            continue
        tasks = yaml.safe_load("\n".join(chunk))
        stated = []
        for line in chunk:
            match = EXPECTED.match(line)
            if match:
                try:
                    stated.append(yaml.safe_load(match.group(1)))
                except yaml.YAMLError:
                    stated.append(match.group(1))
        examples.append((tasks[0], stated))
    return examples


def matches(actual: object, expected: object) -> bool:
    if isinstance(expected, str) and "..." in expected:
        pattern = ".*".join(re.escape(part) for part in expected.split("..."))
        return isinstance(actual, str) and re.fullmatch(pattern, actual, re.DOTALL) is not None
    if actual == expected:
        return True
    # A stated scalar such as -1 also matches the same text (templating may return either).
    return not isinstance(expected, (dict, list)) and str(actual) == str(expected)


def test_matches():
    assert matches("hex:40,00,11,00,29,00", "hex:40,00,...,29,00")
    assert not matches("hex:41,00,11,00,29,00", "hex:40,00,...,29,00")
    assert matches(-1, -1) and matches("-1", -1) and not matches(1, -1)
    assert matches("a\\b", "a\\b") and not matches("a\\\\b", "a\\b")


def test_split_examples_keeps_stated_results():
    text = ("- name: one\n  ansible.builtin.debug:\n    msg: x\n  # => 'a\\b'\n\n"
            "# a comment between examples\n- name: two\n  ansible.builtin.debug:\n    msg: y\n")
    assert split_examples(text) == [({"name": "one", "ansible.builtin.debug": {"msg": "x"}}, ["a\\b"]),
                                    ({"name": "two", "ansible.builtin.debug": {"msg": "y"}}, [])]


# ansible-test units runs each test in a forked child, so module-scoped fixtures are computed again for every test;
# the ansible-doc output (several seconds) is kept in a directory made at import time, in the parent process.
_CACHE = Path(tempfile.mkdtemp(prefix="doc-examples-"))
_OWNER = os.getpid()
atexit.register(lambda: os.getpid() == _OWNER and shutil.rmtree(_CACHE, ignore_errors=True))


def _docs(kind: str, names: list[str]) -> dict:
    """ansible-doc --json for all plugins at once, then one by one for any missing (a broken doc names itself)."""
    cached = _CACHE / ("%s.json" % kind)
    if cached.exists():
        return json.loads(cached.read_text())
    command = [_ansible_cli("ansible-doc"), "-t", kind, "--json"]
    proc = _run([*command, *[PREFIX + name for name in names]])
    bulk = json.loads(proc.stdout) if proc.returncode == 0 else {}
    docs = {}
    for name in names:
        if isinstance(bulk.get(PREFIX + name), dict):
            docs[name] = bulk[PREFIX + name]
            continue
        proc = _run([*command, PREFIX + name])
        found = json.loads(proc.stdout).get(PREFIX + name) if proc.returncode == 0 else None
        docs[name] = found if found is not None else (proc.stderr.strip() or "no documentation found")
    cached.write_text(json.dumps(docs))
    return docs


@pytest.fixture(scope="module")
def filter_docs() -> dict:
    return _docs("filter", filter_names())


@pytest.fixture(scope="module")
def module_docs() -> dict:
    return _docs("module", module_names())


def _doc(docs: dict, name: str) -> dict:
    doc = docs.get(name)
    assert isinstance(doc, dict) and doc.get("doc"), "%s: ansible-doc cannot read the documentation: %s" % (name, doc)
    return doc


@pytest.mark.parametrize("name", filter_names())
def test_filter_is_documented(filter_docs, name):
    doc = _doc(filter_docs, name)
    assert doc["doc"].get("short_description") and doc["doc"].get("description")
    assert doc["doc"].get("version_added")
    assert "_input" in doc["doc"].get("options", {}), "the input (_input) is not documented"
    assert doc.get("examples"), "no EXAMPLES"
    assert "_value" in (doc.get("return") or {}), "the result (_value) is not documented"


@pytest.mark.parametrize("name", module_names())
def test_module_is_documented(module_docs, name):
    doc = _doc(module_docs, name)
    assert doc["doc"].get("short_description") and doc["doc"].get("description")
    assert doc["doc"].get("version_added")
    assert doc.get("examples"), "no EXAMPLES"
    assert doc.get("return") is not None, "no RETURN"


@pytest.mark.parametrize("name", module_names())
def test_module_examples_use_documented_options(module_docs, name):
    doc = _doc(module_docs, name)
    options = doc["doc"].get("options") or {}
    known = set(options)
    for option in options.values():
        known.update(option.get("aliases") or [])
    required = {key for key, option in options.items() if option.get("required")}
    calls = 0
    for task, _stated in split_examples(doc["examples"]):
        args = task.get(PREFIX + name, "absent")
        if args == "absent":
            continue
        calls += 1
        args = args or {}
        assert isinstance(args, dict), "example %r: arguments must be a mapping" % task.get("name")
        unknown, missing = sorted(set(args) - known), sorted(required - set(args))
        assert not unknown, "example %r: undocumented options %s" % (task.get("name"), unknown)
        assert not missing, "example %r: required options missing %s" % (task.get("name"), missing)
    assert calls, "no example calls the module by its FQCN"


@pytest.fixture(scope="module")
def filter_examples(filter_docs) -> dict:
    """Run the examples of every readable filter doc in one play; name -> [(label, stated, result, task)]."""
    cached = _CACHE / "examples.json"
    if cached.exists():
        return json.loads(cached.read_text())
    tmp = Path(tempfile.mkdtemp(dir=_CACHE))
    play_tasks, checks = [], []
    for name in filter_names():
        if not isinstance(filter_docs.get(name), dict):
            continue
        for index, (task, stated) in enumerate(split_examples(filter_docs[name]["examples"])):
            register = "example_%d" % len(checks)
            play_tasks.append(dict(task, register=register, ignore_errors=True))
            checks.append((name, "example %d (%s)" % (index + 1, task.get("name")), register, stated, task))
    results = tmp / "results.json"
    play_tasks.append({"name": "Save the results", "ansible.builtin.copy": {
        "dest": str(results), "mode": "0600",
        "content": "{{ {%s} | to_json }}" % ", ".join("'%s': %s" % (check[2], check[2]) for check in checks)}})
    playbook = tmp / "examples.yml"
    playbook.write_text(yaml.safe_dump([{"name": "Filter examples", "hosts": "localhost", "connection": "local",
                                         "gather_facts": False, "tasks": play_tasks,
                                         # The copy module runs on localhost: with this Python, not a discovered one.
                                         "vars": {"ansible_python_interpreter": "{{ ansible_playbook_python }}"}}],
                                       sort_keys=False))
    proc = _run([_ansible_cli("ansible-playbook"), "-i", "localhost,", str(playbook)])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    outcome = json.loads(results.read_text())
    by_filter: dict = {}
    for name, label, register, stated, task in checks:
        by_filter.setdefault(name, []).append((label, stated, outcome[register], task))
    cached.write_text(json.dumps(by_filter))
    return by_filter


@pytest.mark.parametrize("name", filter_names())
def test_filter_examples_give_the_stated_results(filter_docs, filter_examples, name):
    _doc(filter_docs, name)
    examples = filter_examples.get(name, [])
    assert any(stated for _label, stated, _result, _task in examples), "no example states its result (# => ...)"
    problems = []
    for label, stated, result, task in examples:
        if stated and "ansible.builtin.debug" not in task:
            problems.append("%s: a stated result needs an ansible.builtin.debug msg" % label)
        if result.get("failed"):
            problems.append("%s failed: %s" % (label, result.get("msg")))
            continue
        for expected in stated:
            if not matches(result.get("msg"), expected):
                problems.append("%s gives %r, the docs say %r" % (label, result.get("msg"), expected))
    assert not problems, "\n".join(problems)
