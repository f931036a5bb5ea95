"""tools/role_docs.py: generated role tables and docs/variables.md, and the spec/defaults consistency checks."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("role_docs", ROOT / "tools" / "role_docs.py")
role_docs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(role_docs)

SPEC = {
    "short_description": "Demo role",
    "options": {
        "demo_port": {"type": "int", "default": 4006, "description": ["Port, see C(x|y)."]},
        "demo_name": {"type": "str", "required": True, "description": "Name."},
        "demo_list": {"type": "list", "elements": "str", "default": [], "description": "Items.",
                      "choices": ["a", "b"]},
        "demo_title": {"type": "str", "description": "Unset keeps the program's default."},
        "demo_flag": {"type": "bool", "default": True, "description": "Flag."},
    },
}
DEFAULTS = {"demo_port": 4006, "demo_list": [], "demo_title": None, "demo_flag": True}


def make_role(root: Path, name: str = "demo", spec: dict | None = None, defaults: dict | None = None,
              entry_points: dict | None = None, readme: str | None = None) -> Path:
    role = root / "roles" / name
    (role / "meta").mkdir(parents=True)
    (role / "defaults").mkdir()
    specs = {"main": SPEC if spec is None else spec, **(entry_points or {})}
    (role / "meta" / "argument_specs.yml").write_text(yaml.safe_dump({"argument_specs": specs}))
    (role / "defaults" / "main.yml").write_text(yaml.safe_dump(DEFAULTS if defaults is None else defaults))
    if readme is None:
        readme = "# %s\n\nIntro.\n\n## Variables\n%s\n%s\n\n## Known limitations\n- none\n" % (
            name, role_docs.BEGIN, role_docs.END)
    (role / "README.md").write_text(readme)
    return role


@pytest.fixture
def tree(tmp_path) -> Path:
    make_role(tmp_path)
    assert role_docs.run(tmp_path, check=False) == []
    return tmp_path


def test_generated_table(tree):
    text = (tree / "roles" / "demo" / "README.md").read_text()
    assert text.startswith("# demo\n\nIntro.\n\n## Variables\n" + role_docs.BEGIN + "\n| Variable |")
    assert text.endswith(role_docs.END + "\n\n## Known limitations\n- none\n")
    rows = text.split(role_docs.BEGIN)[1].split(role_docs.END)[0].strip().splitlines()
    assert rows[2:] == [
        "| `demo_flag` | bool | `true` | Flag. |",
        "| `demo_list` | list of str | `[]` | Items. Choices: `a`, `b`. |",
        "| `demo_name` | str | required | Name. |",
        "| `demo_port` | int | `4006` | Port, see `x\\|y`. |",
        "| `demo_title` | str | unset | Unset keeps the program's default. |",
    ]


def test_current_tree_passes_the_check(tree):
    assert role_docs.run(tree, check=True) == []
    assert role_docs.main(["--check", "--root", str(tree)]) == 0


def test_stale_readme_fails_and_is_not_touched_by_check(tree, capsys):
    spec_file = tree / "roles" / "demo" / "meta" / "argument_specs.yml"
    spec_file.write_text(spec_file.read_text().replace("Flag.", "A new description."))
    readme = tree / "roles" / "demo" / "README.md"
    before = readme.read_text()
    assert role_docs.main(["--check", "--root", str(tree)]) == 1
    err = capsys.readouterr().err
    assert "demo: README.md variables table is stale" in err
    assert "docs/variables.md is stale" in err
    assert readme.read_text() == before
    # Without --check the tables are rewritten, after which the check passes.
    assert role_docs.run(tree, check=False) == []
    assert "A new description." in readme.read_text()
    assert role_docs.run(tree, check=True) == []


def test_hand_edited_table_fails(tree):
    readme = tree / "roles" / "demo" / "README.md"
    readme.write_text(readme.read_text().replace("| Flag. |", "| Flag (edited by hand). |"))
    stale = "demo: README.md variables table is stale; run python tools/role_docs.py"
    assert role_docs.run(tree, check=True) == [stale]


def test_missing_markers_fail(tmp_path):
    make_role(tmp_path, readme="# demo\n\nNo table.\n")
    problems = role_docs.run(tmp_path, check=False)
    assert "demo: README.md lacks the generated variables markers" in problems


@pytest.mark.parametrize(("defaults", "spec_change", "message"), [
    ({**DEFAULTS, "demo_port": 104}, None, "demo: demo_port defaults to 104 but the spec says 4006"),
    (DEFAULTS, {"demo_port": {"type": "int", "description": "Port."}},
     "demo: demo_port defaults to 4006 in defaults/main.yml but argument_specs has no default for it"),
    ({**DEFAULTS, "demo_flag": 1}, None, "demo: demo_flag defaults to 1 but the spec says True"),
    ({**DEFAULTS, "demo_list": ["a"]}, None, "demo: demo_list defaults to ['a'] but the spec says []"),
    ({**DEFAULTS, "demo_extra": 1}, None, "demo: demo_extra is in defaults/main.yml but not in argument_specs"),
    ({key: value for key, value in DEFAULTS.items() if key != "demo_flag"}, None,
     "demo: demo_flag is in argument_specs but has no entry in defaults/main.yml"),
    ({**DEFAULTS, "demo_name": "x"}, None,
     "demo: demo_name is required, so it must not have a default in defaults/main.yml"),
    (DEFAULTS, {"demo_title": {"type": "str", "default": "WS", "description": "Title."}},
     "demo: demo_title defaults to null but the spec says 'WS'"),
])
def test_defaults_and_spec_must_agree(tmp_path, defaults, spec_change, message):
    spec = {**SPEC, "options": {**SPEC["options"], **(spec_change or {})}}
    make_role(tmp_path, spec=spec, defaults=defaults)
    assert role_docs.run(tmp_path, check=False) == [message]


def test_other_entry_points_must_match_main(tmp_path):
    validate = {"options": {"demo_port": {"type": "str", "default": "4006", "description": "Port."},
                            "demo_other": {"type": "str", "description": "Other."}}}
    make_role(tmp_path, entry_points={"validate": validate})
    assert sorted(role_docs.run(tmp_path, check=False)) == [
        "demo: entry point validate declares demo_port differently from main",
        "demo: entry point validate has option demo_other, which main lacks",
    ]


def test_shared_variable_must_have_one_type_and_default(tmp_path):
    make_role(tmp_path, "alpha")
    port = {"type": "str", "default": 4006, "description": "Port."}
    other = {**SPEC, "options": {**SPEC["options"], "demo_port": port}}
    make_role(tmp_path, "beta", spec=other)
    assert role_docs.run(tmp_path, check=False) == [
        "beta: demo_port has type 'str' here but 'int' in role alpha"]


def test_reference_lists_every_variable_by_role(tmp_path):
    make_role(tmp_path, "alpha")
    make_role(tmp_path, "beta", spec={"short_description": "Beta role", "options": {
        "demo_port": SPEC["options"]["demo_port"]}}, defaults={"demo_port": 4006})
    assert role_docs.run(tmp_path, check=False) == []
    text = (tmp_path / "docs" / "variables.md").read_text()
    assert "| `demo_port` | [alpha](#alpha), [beta](#beta) |" in text
    assert "| `demo_name` | [alpha](#alpha) |" in text
    assert "## beta\n\n`medimaging.starviewer.beta`: Beta role\n" in text
    assert text.count("| `demo_port` | int | `4006` | Port, see `x\\|y`. |") == 2


def test_role_without_spec_fails(tmp_path):
    (tmp_path / "roles" / "bare" / "tasks").mkdir(parents=True)
    assert role_docs.run(tmp_path, check=True)[0] == "bare: no meta/argument_specs.yml"
