"""starviewer_push: sends the verified installer with the SHA-1 of the controller's single read, never hashing again."""

from __future__ import annotations

import hashlib
from unittest import mock

import pytest

from ansible_collections.medimaging.starviewer.plugins.action.starviewer_push import ActionModule
from ansible_collections.medimaging.starviewer.tests.unit.plugins.action.action_helpers import new_action

DEST = "/var/cache/starviewer-installer/starviewer.deb"


def make_action(args: dict, remote: dict, check_mode: bool = False):
    plugin = new_action(ActionModule, args, check_mode, tmpdir="/tmp/ansible-tmp-1")
    plugin._connection._shell.join_path = lambda *parts: "/".join(parts)
    plugin._execute_remote_stat = mock.MagicMock(return_value=remote)
    plugin._execute_module = mock.MagicMock(return_value={"changed": True, "checksum": args.get("sha1")})
    plugin._transfer_file = mock.MagicMock()
    plugin._fixup_perms2 = mock.MagicMock()
    plugin._remove_tmp_path = mock.MagicMock()
    return plugin


@pytest.fixture
def installer(tmp_path):
    path = tmp_path / "starviewer.deb"
    path.write_bytes(b"!<arch>\n" + b"x" * 5000)
    return path, hashlib.sha1(path.read_bytes()).hexdigest()


def run(plugin):
    with mock.patch("ansible.plugins.action.ActionBase.run", return_value={}):
        return plugin.run(task_vars={})


def test_a_missing_file_is_sent_once_and_checked_on_the_host_against_the_given_sha1(installer):
    path, sha1 = installer
    args = {"src": str(path), "dest": DEST, "sha1": sha1.upper(), "owner": "root", "mode": "0600"}
    plugin = make_action(args, {"exists": False, "isdir": False, "checksum": None})
    real_open = open
    opened = []

    def counting_open(file, *args, **kwargs):
        opened.append(str(file))
        return real_open(file, *args, **kwargs)

    # The transfer is mocked: any read of the installer left in the action would be a second hash.
    with mock.patch("builtins.open", counting_open):
        result = run(plugin)
    assert str(path) not in opened
    assert result["changed"] and result["sent"] == path.stat().st_size
    plugin._transfer_file.assert_called_once_with(str(path), "/tmp/ansible-tmp-1/.source.deb")
    name, = plugin._execute_module.call_args.args
    module_args = plugin._execute_module.call_args.kwargs["module_args"]
    assert name == "ansible.legacy.copy"
    assert module_args["checksum"] == sha1 and module_args["dest"] == DEST and module_args["mode"] == "0600"
    plugin._remove_tmp_path.assert_called_once()


def test_a_file_already_there_is_not_sent_only_its_attributes_are_set(installer):
    path, sha1 = installer
    plugin = make_action({"src": str(path), "dest": DEST, "sha1": sha1, "owner": "root"},
                         {"exists": True, "isdir": False, "checksum": sha1})
    result = run(plugin)
    plugin._transfer_file.assert_not_called()
    assert plugin._execute_module.call_args.args == ("ansible.legacy.file",)
    assert plugin._execute_module.call_args.kwargs["module_args"] == {"path": DEST, "state": "file", "owner": "root"}
    assert result["sent"] == 0


def test_check_mode_reports_the_copy_and_sends_nothing(installer):
    path, sha1 = installer
    plugin = make_action({"src": str(path), "dest": DEST, "sha1": sha1}, {"exists": False, "isdir": False},
                         check_mode=True)
    result = run(plugin)
    assert result["changed"] and result["sent"] == 0
    plugin._transfer_file.assert_not_called()
    plugin._execute_module.assert_not_called()


@pytest.mark.parametrize("change, named", [
    ({"src": "relative.deb"}, "src:"),
    ({"dest": "relative/path"}, "dest:"),
    ({"dest": "/var/cache/"}, "dest:"),
    ({"sha1": "abc"}, "sha1:"),
])
def test_bad_arguments_are_refused_by_name_before_the_host_is_contacted(installer, change, named):
    path, sha1 = installer
    plugin = make_action(dict({"src": str(path), "dest": DEST, "sha1": sha1}, **change), {})
    result = run(plugin)
    assert result["failed"] and result["msg"].startswith(named)
    plugin._execute_remote_stat.assert_not_called()


def test_a_folder_at_dest_is_refused(installer):
    path, sha1 = installer
    plugin = make_action({"src": str(path), "dest": DEST, "sha1": sha1}, {"exists": True, "isdir": True})
    result = run(plugin)
    assert result["failed"] and "is a folder" in result["msg"]
    plugin._transfer_file.assert_not_called()
