# Copyright: contributors to medimaging.starviewer
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests for the starviewer_wipe, starviewer_enforce and starviewer_audit modules' logic and the audit file."""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
from pathlib import Path

import pytest

from ansible_collections.medimaging.starviewer.plugins.modules import starviewer_audit, starviewer_enforce
from ansible_collections.medimaging.starviewer.plugins.modules import starviewer_wipe as wipe

ROOT = Path(__file__).resolve().parents[4]
PARAMS = {"stop_running": False, "stop_timeout": 1}


@pytest.fixture
def account(tmp_path):
    home = tmp_path / "home" / "jdoe"
    (home / ".starviewer" / "pacs" / "dicom").mkdir(parents=True)
    (home / ".starviewer" / "pacs" / "dicom" / "img.dcm").write_bytes(b"z" * 300)
    (home / "starviewer-cache").mkdir()
    (home / "starviewer-cache" / "c.dcm").write_bytes(b"c" * 50)
    return {"name": "jdoe", "uid": os.getuid(), "gid": os.getgid(), "home": str(home)}


def _plan(account: dict, refused: list | None = None) -> dict:
    home = account["home"]
    return {"targets": [{"path": home + "/.starviewer", "kind": "data", "custom": False},
                        {"path": home + "/.config/GILab/Starviewer.conf", "kind": "config", "custom": False},
                        {"path": home + "/starviewer-cache", "kind": "image-cache", "custom": True}],
            "refused": refused or []}


def test_wipe_account_check_then_real(account):
    check = wipe._wipe_account(account, _plan(account), [], PARAMS, check_mode=True)
    assert check["outcome"] == "would-wipe"
    assert [(p["path"].rsplit("/", 1)[-1], p["files"], p["bytes"], p["dirs"], p["deleted"]) for p in check["paths"]] \
        == [(".starviewer", 1, 300, 3, False), ("starviewer-cache", 1, 50, 1, False)]
    assert (check["files"], check["bytes"], check["dirs"]) == (2, 350, 4)
    real = wipe._wipe_account(account, _plan(account), [], PARAMS, check_mode=False)
    assert real["outcome"] == "wiped"
    assert [(p["files"], p["bytes"], p["dirs"]) for p in real["paths"]] == \
        [(p["files"], p["bytes"], p["dirs"]) for p in check["paths"]]
    assert all(p["deleted"] for p in real["paths"])
    assert os.listdir(account["home"]) == []
    again = wipe._wipe_account(account, _plan(account), [], PARAMS, check_mode=False)
    assert again["outcome"] == "nothing" and again["paths"] == []


def test_wipe_account_skips_a_running_user(account):
    running = [{"pid": 4242, "cmdline": ["/opt/starviewer/starviewer"], "uids": [1, 1], "start": 1}]
    record = wipe._wipe_account(account, _plan(account), running, PARAMS, check_mode=False)
    assert record["outcome"] == "skipped-running"
    assert record["processes"] == [{"pid": 4242, "cmdline": "/opt/starviewer/starviewer"}]
    assert os.path.exists(account["home"] + "/.starviewer/pacs/dicom/img.dcm")
    assert "skipped-running (Starviewer running: pids 4242)" in wipe._summary(record)


def test_wipe_account_refusals(account, tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    shutil.rmtree(account["home"] + "/starviewer-cache")
    os.symlink(outside, account["home"] + "/starviewer-cache")
    refused = [{"path": str(tmp_path / "does-not-exist"), "kind": "image-cache", "reason": "x"},
               {"path": str(outside), "kind": "database", "reason": "not clearly Starviewer's"}]
    record = wipe._wipe_account(account, _plan(account, refused), [], PARAMS, check_mode=False)
    assert record["outcome"] == "partial"
    # A refusal of a path that does not exist is not reported; the symbolic link cache is refused, not followed.
    assert [(item["path"], item["reason"][:20]) for item in record["refused"]] == [
        (str(outside), "not clearly Starview"),
        (account["home"] + "/starviewer-cache", "is a symbolic link t")]
    assert outside.exists()


def test_enforce_plan_account(tmp_path):
    home = tmp_path / "home"
    (home / ".config" / "GILab").mkdir(parents=True)
    (home / ".config" / "GILab" / "Starviewer.conf").write_bytes(
        b"[PACS]\npacsparam\\AETitle=MINE\npacsparam\\localPort=4010\n\n[PacsList]\n1\\ID=0\nsize=1\n")
    (home / ".config" / "GILab.conf").write_bytes(b"[General]\nother=1\n")
    changes, refused, errors = starviewer_enforce._plan_account(
        {"home": str(home)}, ["PacsList", "PACS/pacsparam/AETitle"])
    assert (refused, errors) == ([], [])
    (path, before, after, _info, removed), (org_path, org_before, org_after, _i, org_removed) = changes
    assert path.endswith("GILab/Starviewer.conf")
    assert after == b"[PACS]\npacsparam\\localPort=4010\n"
    assert removed == ["PACS/pacsparam/AETitle", "PacsList/1/ID", "PacsList/size"]
    assert org_before == org_after and org_removed == []


def test_audit_records():
    results = {
        "ws2": {"hostname": "ws2", "users": [{
            "user": "a", "uid": 1001, "time": "2026-01-01T00:00:00Z", "outcome": "wiped", "files": 2, "bytes": 30,
            "dirs": 1, "paths": [{
                "path": "/home/a/.starviewer", "kind": "data", "files": 2, "bytes": 30, "dirs": 1, "deleted": True}],
        }]},
        "ws1": None,
        "ws3": {"failed": True, "msg": "boom"},
    }
    records = starviewer_audit._records(results)
    assert [(r["host"], r["user"], r["outcome"]) for r in records] == [
        ("ws1", None, "no-result"), ("ws2", "a", "wiped"), ("ws3", None, "no-result")]
    assert records[1]["paths"] == [{"path": "/home/a/.starviewer", "kind": "data", "files": 2, "bytes": 30, "dirs": 1}]
    assert records[2]["errors"] == [{"path": None, "error": "boom"}]


def _append_many(path: str, worker: int) -> None:
    for index in range(50):
        line = json.dumps({"worker": worker, "index": index, "pad": "x" * 5000}) + "\n"
        starviewer_audit._append(path, (line * 3).encode())


def test_audit_appends_from_many_processes_never_interleave(tmp_path):
    path = str(tmp_path / "deep" / "audit.jsonl")
    workers = [multiprocessing.Process(target=_append_many, args=(path, n)) for n in range(6)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
    lines = Path(path).read_text().splitlines()
    assert len(lines) == 6 * 50 * 3
    assert len({(entry["worker"], entry["index"]) for entry in map(json.loads, lines)}) == 300
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"
    assert oct(os.stat(os.path.dirname(path)).st_mode & 0o777) == "0o700"
