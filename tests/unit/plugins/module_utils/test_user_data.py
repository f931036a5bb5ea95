# Copyright: contributors to medimaging.starviewer
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests for module_utils/user_data.py: accounts, process matching, cache paths, safety rules, no-follow deletion."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ansible_collections.medimaging.starviewer.plugins.module_utils import user_data
from ansible_collections.medimaging.starviewer.plugins.module_utils.qt_ini import QtIniDocument
from ansible_collections.medimaging.starviewer.plugins.module_utils.user_data import (
    PathRefused,
    cache_paths,
    custom_path_problem,
    find_processes,
    is_program_process,
    plan_targets,
    read_user_file,
    replace_user_file,
    scan_target,
    setting_value,
    stop_processes,
    uid_range,
)

PROGRAM = "/opt/starviewer/starviewer"


# --- accounts ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    (None, (1000, 60000)),
    ("UID_MIN 500\nUID_MAX  2000\n", (500, 2000)),
    ("# UID_MIN 5\nUID_MIN\t1200\nSYS_UID_MIN 100\n", (1200, 60000)),
    ("UID_MIN abc\n", (1000, 60000)),
])
def test_uid_range(text, expected):
    assert uid_range(text) == expected


def test_list_accounts_named_and_missing():
    found, missing = user_data.list_accounts(["root", "no-such-user-here", "root"])
    assert [account["name"] for account in found] == ["root"]
    assert found[0]["uid"] == 0 and found[0]["home"].startswith("/")
    assert missing == ["no-such-user-here"]


# --- running instances ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("exe", "cmdline", "expected"), [
    (PROGRAM, [PROGRAM], True),
    (PROGRAM + " (deleted)", ["starviewer"], True),  # an upgrade replaced the file under the running instance
    ("/usr/bin/sleep", [PROGRAM, "3600"], True),  # argv[0], as after starviewer.sh's exec
    ("/usr/bin/python3.11", ["/usr/bin/python3", PROGRAM, "-url", "x"], True),  # the stand-in via its shebang
    ("/usr/bin/python3.11", ["python3", "-i", PROGRAM], True),
    ("/usr/bin/dash", ["sh", PROGRAM], True),
    ("/usr/bin/python3.11", ["python3", "-c", "print(1)", PROGRAM], False),
    ("/usr/bin/python3.11", ["python3", "/opt/other/tool", PROGRAM], False),
    ("/usr/bin/vim.basic", ["vim", PROGRAM], False),
    ("/usr/bin/dash", ["sh", "-c", "sleep 1 | exec python3 -i " + PROGRAM], False),
    ("", [], False),
])
def test_is_program_process(exe, cmdline, expected):
    assert is_program_process(exe, cmdline, [PROGRAM]) is expected


@pytest.fixture
def fake_program(tmp_path):
    program = tmp_path / "opt" / "starviewer"
    program.parent.mkdir()
    program.write_text("import signal, sys, time\n"
                       "if sys.argv[1:] == ['stubborn']:\n    signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
                       "print('ready', flush=True)\ntime.sleep(60)\n")
    return str(program)


def _spawn(args: list[str], ready: bool = True) -> subprocess.Popen:
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    if ready:
        assert proc.stdout.readline() == b"ready\n"
    else:
        time.sleep(0.3)
    return proc


def test_find_and_stop_processes(fake_program):
    script = _spawn([sys.executable, fake_program])
    stubborn = _spawn([sys.executable, fake_program, "stubborn"])
    native = _spawn(["bash", "-c", "exec -a %s sleep 60" % fake_program], ready=False)
    other = _spawn(["sleep", "60"], ready=False)
    try:
        found = {info["pid"]: info for info in find_processes([fake_program])}
        assert set(found) == {script.pid, stubborn.pid, native.pid}
        assert found[script.pid]["uids"] == [os.getuid(), os.geteuid()]
        started = time.monotonic()
        assert stop_processes(list(found.values()), timeout=0.5) == []
        # The stubborn one ignored SIGTERM and needed the SIGKILL after the timeout.
        assert time.monotonic() - started >= 0.5
        assert [proc.wait(5) for proc in (script, stubborn, native)] == [
            -signal.SIGTERM, -signal.SIGKILL, -signal.SIGTERM]
        assert other.poll() is None
    finally:
        for proc in (script, stubborn, native, other):
            proc.kill()
            proc.wait()


def test_stop_processes_never_signals_a_reused_pid(fake_program):
    proc = _spawn([sys.executable, fake_program])
    info = find_processes([fake_program])[0]
    proc.kill()
    proc.wait()
    # Same pid, other start time: a different process now, whatever the pid says.
    assert stop_processes([dict(info, start=info["start"] + 1)], timeout=0.1) == []
    assert stop_processes([info], timeout=0.1) == []


# --- settings -------------------------------------------------------------------------------------------------

HOME = "/home/jdoe"


def _docs(user: bytes | None = None, org: bytes | None = None, system: bytes | None = None,
          system_org: bytes | None = None) -> list:
    return [(name, QtIniDocument.parse(data) if data is not None else None)
            for name, data in (("user", user), ("user-org", org), ("system", system), ("system-org", system_org))]


def test_setting_value_follows_qt_fallback_order():
    key = "PACS/cache/imagePath"
    assert setting_value(_docs(), key) == (None, None)
    assert setting_value(_docs(system=b"[PACS]\ncache\\imagePath=/s/\n"), key) == ("/s/", "system")
    assert setting_value(_docs(user=b"[PACS]\ncache\\imagePath=/u/\n", system=b"[PACS]\ncache\\imagePath=/s/\n"),
                         key) == ("/u/", "user")
    assert setting_value(_docs(org=b"[PACS]\ncache\\imagePath=/o/\n", system=b"[PACS]\ncache\\imagePath=/s/\n"),
                         key) == ("/o/", "user-org")


def test_fallback_order_matches_qt(tmp_path):
    """The same four files read by Qt 5's own QSettings(UserScope, "GILab", "Starviewer") in a fresh process."""
    pytest.importorskip("PyQt5.QtCore")
    home, xdg = tmp_path / "home", tmp_path / "xdg"
    files = {home / ".config/GILab/Starviewer.conf": "[PACS]\ncache\\imagePath=/user/\n",
             home / ".config/GILab.conf": "[PACS]\ncache\\imagePath=/user-org/\ncache\\sdatabasePath=/user-org.sdb\n",
             xdg / "GILab/Starviewer.conf": "[PACS]\ncache\\sdatabasePath=/system.sdb\npacsparam\\AETitle=SYS\n",
             xdg / "GILab.conf": "[PACS]\npacsparam\\AETitle=SYS-ORG\npacsparam\\localPort=4100\n"}
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    keys = ["PACS/cache/imagePath", "PACS/cache/sdatabasePath", "PACS/pacsparam/AETitle", "PACS/pacsparam/localPort"]
    code = ("import json; from PyQt5.QtCore import QSettings; "
            "s = QSettings(QSettings.NativeFormat, QSettings.UserScope, 'GILab', 'Starviewer'); "
            "print(json.dumps([s.value(k) for k in %r]))" % keys)
    env = dict(os.environ, HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), XDG_CONFIG_DIRS=str(xdg))
    qt = json.loads(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                                   check=True).stdout)
    docs = [(str(path), QtIniDocument.parse(path.read_bytes())) for path in files]
    assert [setting_value(docs, key)[0] for key in keys] == qt == ["/user/", "/user-org.sdb", "SYS", "4100"]


def test_cache_paths_defaults_expressions_and_problems():
    image, database = cache_paths(_docs(), HOME, "ws1", "10.0.0.7")
    assert (image["path"], image["custom"]) == (HOME + "/.starviewer/pacs/dicom", False)
    assert (database["path"], database["custom"]) == (HOME + "/.starviewer/pacs/database/dicom.sdb", False)

    user = b"[PACS]\ncache\\imagePath=%HOMEPATH%/starviewer/%HOSTNAME%-%IP.4%[3:0]//\n"
    system = b"[PACS]\ncache\\sdatabasePath=/srv/starviewer/%HOSTNAME%.sdb\ncache\\imagePath=/ignored/\n"
    image, database = cache_paths(_docs(user=user, system=system), HOME, "ws1", "10.0.0.7")
    assert (image["path"], image["raw"], image["source"]) == (
        HOME + "/starviewer/ws1-007", "%HOMEPATH%/starviewer/%HOSTNAME%-%IP.4%[3:0]//", "user")
    assert (database["path"], database["source"], database["custom"]) == ("/srv/starviewer/ws1.sdb", "system", True)

    # @Invalid() means the default; "" does not (Starviewer would use the empty string); a list is no path.
    odd = b"[PACS]\ncache\\imagePath=@Invalid()\ncache\\sdatabasePath=a, b\n"
    image, database = cache_paths(_docs(user=odd), HOME, "ws1", None)
    assert image["path"] == HOME + "/.starviewer/pacs/dicom" and not image["custom"]
    assert database["path"] is None and "not a text" in database["problem"]
    empty, _db = cache_paths(_docs(user=b"[PACS]\ncache\\imagePath=\n"), HOME, "ws1", None)
    assert empty["path"] == "" and empty["custom"]


@pytest.mark.parametrize(("path", "problem"), [
    ("/home/jdoe/.starviewer/pacs/dicom", None),
    ("/srv/Starviewer-cache/jdoe", None),
    ("/data/cache/starviewer.sdb", None),
    ("relative/starviewer", "not an absolute path"),
    ("", "not an absolute path"),
    ("/home/jdoe/link/../starviewer", "contains . or .."),
    ("/", "too close to /"),
    ("/starviewer", "too close to /"),
    ("/home", "too close to /"),
    ("/home/jdoe/../..", "contains . or .."),
    ("/home/jdoe", "is or contains the home directory"),
    ("/home/jdoe/cache", "not clearly Starviewer's"),
    ("/opt/starviewer/cache", "protected folder /opt/starviewer"),
    ("/etc/starviewer", "protected folder /etc"),
    ("/usr/share/starviewer", "protected folder /usr"),
])
def test_custom_path_problem(path, problem):
    found = custom_path_problem(path, ["/home/jdoe", "/home/other"], ["/etc", "/usr", "/opt/starviewer"])
    assert (found is None) if problem is None else (problem in found)


def _account(name: str, home: str, image: str | None = None, database: str | None = None) -> dict:
    cache = []
    for key, kind, value in (("PACS/cache/imagePath", "image-cache", image),
                             ("PACS/cache/sdatabasePath", "database", database)):
        cache.append({"key": key, "kind": kind, "raw": value, "source": "user" if value else None,
                      "custom": value is not None, "path": value, "problem": None})
    return {"name": name, "home": home, "cache": cache}


def test_plan_targets():
    plans = plan_targets([
        _account("ann", "/home/ann", image="/home/ann/starviewer-cache", database="/home/ann/.starviewer/x.sdb"),
        _account("ben", "/home/ben", image="/srv/starviewer/shared", database="/srv/starviewer/ben.sdb"),
        _account("cy", "/home/cy", image="/srv/starviewer/shared/cy"),
        _account("dee", "/home/dee", image="/home/dee"),
        _account("alias1", "/home/shared"),
        _account("alias2", "/home/shared"),
    ], include_config=True, protected=["/etc"])
    assert [t["path"] for t in plans["ann"]["targets"]] == [
        "/home/ann/.starviewer", "/home/ann/.config/GILab/Starviewer.conf", "/home/ann/starviewer-cache"]
    assert [t["path"] for t in plans["ben"]["targets"]] == [
        "/home/ben/.starviewer", "/home/ben/.config/GILab/Starviewer.conf", "/srv/starviewer/ben.sdb",
        "/srv/starviewer/ben.sdb-journal", "/srv/starviewer/ben.sdb-wal", "/srv/starviewer/ben.sdb-shm"]
    # A cache used by two accounts (one inside the other) is refused for both.
    assert plans["ben"]["refused"] == [{"path": "/srv/starviewer/shared", "kind": "image-cache",
                                        "reason": "also a path of cy"}]
    assert plans["cy"]["refused"][0]["reason"] == "also a path of ben"
    assert "home directory /home/dee" in plans["dee"]["refused"][0]["reason"]
    # Two accounts with one home: neither may wipe it.
    assert plans["alias1"]["targets"] == [] and plans["alias2"]["targets"] == []
    assert {item["reason"] for item in plans["alias1"]["refused"]} == {"also a path of alias2"}


# --- deleting ---------------------------------------------------------------------------------------------------


@pytest.fixture
def home(tmp_path):
    """A home whose ~/.starviewer holds files, folders, a FIFO and symbolic links to two canaries outside."""
    root = tmp_path / "home" / "jdoe"
    study = root / ".starviewer" / "pacs" / "dicom" / "1.2.3"
    study.mkdir(parents=True)
    (study / "a.dcm").write_bytes(b"x" * 1000)
    (study / "b.dcm").write_bytes(b"y" * 24)
    (root / ".starviewer" / "log").mkdir()
    (root / ".starviewer" / "log" / "starviewer.log").write_text("log\n")
    os.mkfifo(root / ".starviewer" / "fifo")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "canary.txt").write_text("canary")
    (study / "link.dcm").symlink_to(outside / "canary.txt")
    (root / ".starviewer" / "pacs" / "dir-link").symlink_to(outside)
    return root


def test_check_counts_equal_deleted_counts_and_links_are_not_followed(home, tmp_path):
    target = str(home / ".starviewer")
    counted = scan_target(target, str(home), delete=False)
    assert (counted["files"], counted["bytes"], counted["dirs"]) == (6, 1028, 5)
    assert os.path.isdir(target)
    deleted = scan_target(target, str(home), delete=True)
    assert {k: deleted[k] for k in ("files", "bytes", "dirs", "kept", "errors")} == \
        {k: counted[k] for k in ("files", "bytes", "dirs", "kept", "errors")}
    assert not os.path.lexists(target)
    assert (tmp_path / "outside" / "canary.txt").read_text() == "canary"
    assert scan_target(target, str(home), delete=True) == {
        "path": target, "exists": False, "files": 0, "bytes": 0, "dirs": 0, "kept": [], "errors": []}


def test_a_symlinked_data_folder_is_refused(home, tmp_path):
    real = home / ".starviewer"
    moved = tmp_path / "moved"
    real.rename(moved)
    real.symlink_to(moved)
    with pytest.raises(PathRefused, match="is a symbolic link to .*moved; neither the link nor its target"):
        scan_target(str(real), str(home), delete=True)
    assert real.is_symlink() and (moved / "pacs" / "dicom" / "1.2.3" / "a.dcm").exists()


def test_a_path_through_a_symlink_is_refused(home, tmp_path):
    (home / "link").symlink_to(home / ".starviewer")
    with pytest.raises(PathRefused, match="goes through the symbolic link .*/link"):
        scan_target(str(home / "link" / "pacs"), str(home), delete=True)
    assert (home / ".starviewer" / "pacs" / "dicom" / "1.2.3" / "a.dcm").exists()


def test_a_file_target_and_an_absent_one(home):
    database = home / ".starviewer" / "pacs" / "dicom" / "1.2.3" / "a.dcm"
    assert scan_target(str(database), str(home), delete=True)["bytes"] == 1000
    assert not database.exists()
    assert not scan_target(str(home / "nothing" / "here"), str(home), delete=True)["exists"]
    assert not scan_target(str(home / ".starviewer" / "x"), "/no/such/home", delete=False)["exists"]


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to own files as another uid")
def test_owner_check(home):
    target = home / ".starviewer"
    os.chown(target, 4242, 4242)
    with pytest.raises(PathRefused, match="belongs to uid 4242"):
        scan_target(str(target), str(home), delete=True, owner=0)
    assert scan_target(str(target), str(home), delete=False, owner=4242)["files"] == 6


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting needs root")
def test_another_file_system_inside_is_left_alone(home):
    mount = home / ".starviewer" / "mounted"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "tmpfs", str(mount)], capture_output=True, check=False).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        (mount / "remote.dcm").write_text("remote")
        result = scan_target(str(home / ".starviewer"), str(home), delete=True)
        assert result["kept"] == [{"path": str(mount), "reason": "another file system is mounted there"}]
        assert (mount / "remote.dcm").read_text() == "remote"
        assert sorted(os.listdir(home / ".starviewer")) == ["mounted"]
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def test_read_and_replace_user_file_keep_owner_mode_and_refuse_links(home, tmp_path):
    config = home / ".config" / "GILab" / "Starviewer.conf"
    config.parent.mkdir(parents=True)
    config.write_bytes(b"[PACS]\npacsparam\\AETitle=X\n")
    os.chmod(config, 0o640)
    data, info = read_user_file(str(config), str(home))
    assert data == b"[PACS]\npacsparam\\AETitle=X\n"
    replace_user_file(str(config), str(home), b"", info)
    after = os.stat(config)
    assert config.read_bytes() == b""
    assert (stat.S_IMODE(after.st_mode), after.st_uid, after.st_gid) == (0o640, info.st_uid, info.st_gid)
    assert after.st_ino != info.st_ino
    assert sorted(os.listdir(config.parent)) == ["Starviewer.conf"]

    target = tmp_path / "target.conf"
    target.write_bytes(b"[PACS]\n")
    config.unlink()
    config.symlink_to(target)
    with pytest.raises(PathRefused, match="symbolic link"):
        read_user_file(str(config), str(home))
    assert read_user_file(str(home / ".config" / "missing.conf"), str(home)) is None
    fifo = home / ".config" / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(PathRefused, match="not a regular file"):
        read_user_file(str(fifo), str(home))


def test_no_module_util_outside_the_standard_library():
    source = Path(user_data.__file__).read_text()
    imports = {line.split()[1].split(".")[0] for line in source.splitlines() if line.startswith(("import ", "from "))}
    assert imports <= {"__future__", "errno", "os", "pwd", "signal", "socket", "stat", "time", "ansible_collections"}
