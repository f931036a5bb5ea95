"""Playbooks with a Windows inventory: site.yml syntax, and export.yml end to end (no host contacted).

The inventory points every host at a TCP listener on 127.0.0.1 owned by the test, which counts connections: any
attempt to reach a workstation would show up there (and fail), so "no host contacted" is checked, not assumed.
"""

from __future__ import annotations

import socket
import threading

import pytest
import yaml
from helpers import ROOT, ansible_playbook

from ansible_collections.medimaging.starviewer.plugins.action.starviewer_export import (
    ACCESS_FILE,
    CONF_FILE,
    REG_FILE,
)
from ansible_collections.medimaging.starviewer.plugins.module_utils.qt_ini import QtUrl, merge
from ansible_collections.medimaging.starviewer.plugins.module_utils.qt_registry import (
    apply_ops,
    delta,
    reg_state,
    settings_desired,
    with_ancestors,
)
from ansible_collections.medimaging.starviewer.plugins.module_utils.starviewer import access_level_ini, build_settings

FIXTURES = ROOT / "tests" / "fixtures" / "windows"
KEY = "HKEY_LOCAL_MACHINE\\SOFTWARE\\GILab\\Starviewer"
SYSTEM = ["PacsList", "PACS/pacsparam/AETitle"]


class Listener:
    """Counts TCP connections to a loopback port (nothing may connect during an export)."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.running = True
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while self.running:
            try:
                conn, _peer = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self.running = False
        self.thread.join(2)
        self.sock.close()


@pytest.fixture
def listener():
    box = Listener()
    yield box
    box.close()


def _inventory(path, port: int, config: dict, windows_vars: dict | None = None) -> None:
    """Two Windows workstations sharing a folder, one Linux workstation with the Annex A configuration."""
    text = yaml.safe_dump({
        "all": {
            "vars": {"ansible_host": "127.0.0.1", "ansible_port": port},
            "children": {
                "windows": {
                    "hosts": {"ws-win-01": {}, "ws-win-02": windows_vars or {}},
                    "vars": dict(config, ansible_connection="winrm", ansible_user="svlab-test",
                                 ansible_password="not-a-secret", ansible_winrm_transport="basic",
                                 ansible_winrm_scheme="http", ansible_become_method="runas",
                                 ansible_become_user="SYSTEM", starviewer_export_name="radiology",
                                 starviewer_system_settings=SYSTEM,
                                 starviewer_installer_src="/nonexistent/Starviewer-2.0.0-x64.msi",
                                 starviewer_installer_sha256="0" * 64),
                },
                "linux": {
                    "hosts": {"ws-lin-01": {}},
                    "vars": dict(yaml.safe_load((FIXTURES / "annex-a.yml").read_text()), ansible_user="svlab-test",
                                 starviewer_installer_src="/nonexistent/starviewer~2.0.0-CE~amd64-ubuntu.deb",
                                 starviewer_installer_sha256="0" * 64),
                },
            },
        }
    }, allow_unicode=True, sort_keys=False)
    # Starviewer's own {%...%} placeholders must not reach Jinja.
    text = text.replace("url: https://viewer.example.org", "url: !unsafe https://viewer.example.org")
    path.write_text(text, encoding="utf-8")


def _config() -> dict:
    return yaml.safe_load((FIXTURES / "config.yml").read_text(encoding="utf-8"))


def test_site_syntax_with_a_windows_inventory(tmp_path, listener):
    inventory = tmp_path / "hosts.yml"
    _inventory(inventory, listener.port, _config())
    for playbook in ("site.yml", "export.yml"):
        ansible_playbook(ROOT / "playbooks" / playbook, "--syntax-check", inventory=inventory)
    assert listener.connections == 0


def test_export_writes_what_the_roles_write_and_contacts_nobody(wine, tmp_path, listener):
    inventory = tmp_path / "hosts.yml"
    config = _config()
    _inventory(inventory, listener.port, config)
    out = tmp_path / "out"
    run = ansible_playbook(ROOT / "playbooks" / "export.yml", inventory=inventory, json_output=True,
                           extra_vars={"starviewer_export_dir": str(out)})
    assert listener.connections == 0
    stats = run.json["stats"]
    assert set(stats) == {"ws-win-01", "ws-win-02", "ws-lin-01"}
    assert stats["ws-win-01"]["changed"] == 1 and stats["ws-win-02"]["changed"] == 0  # one writer per folder
    assert sorted(p.name for p in out.iterdir()) == ["radiology", "ws-lin-01"]
    assert sorted(p.name for p in (out / "radiology").iterdir()) == sorted([REG_FILE, CONF_FILE, ACCESS_FILE])
    assert sorted(p.name for p in (out / "ws-lin-01").iterdir()) == sorted([REG_FILE, CONF_FILE])

    settings = build_settings(config)
    desired = settings_desired(settings["set"], settings["remove"], settings["arrays"])
    roles = with_ancestors(apply_ops({}, delta({}, desired)))
    # on a fresh workstation and on a drifted one, importing the file gives value for value what the roles write
    for start in (None, FIXTURES / "drifted.export.reg"):
        if start is not None:
            assert wine.reg_import(start.read_bytes()).returncode == 0
        before = reg_state(wine.reg_export(KEY), KEY) if start else {}
        assert wine.reg_import((out / "radiology" / REG_FILE).read_bytes()).returncode == 0
        after = reg_state(wine.reg_export(KEY), KEY)
        expected = with_ancestors(apply_ops(before, delta(before, desired))) if start else roles
        assert after == expected
        assert delta(after, desired) == []

    assert (out / "radiology" / CONF_FILE).read_bytes() == merge(None, settings["set"], (), settings["arrays"])
    assert (out / "radiology" / ACCESS_FILE).read_text() == access_level_ini(SYSTEM)
    annex = build_settings(yaml.safe_load((FIXTURES / "annex-a.yml").read_text()))
    assert (out / "ws-lin-01" / CONF_FILE).read_bytes() == merge(None, annex["set"], (), annex["arrays"])

    qtcore = pytest.importorskip("PyQt5.QtCore")
    qt = qtcore.QSettings(str(out / "radiology" / CONF_FILE), qtcore.QSettings.IniFormat)
    assert qt.value("PacsList/size") == "3"
    assert qt.value("PacsList/2/BaseUri") == qtcore.QUrl(QtUrl("https://pacs2.example.org/dicom-web/").url)
    assert qt.value("PACS/pacsparam/localPort") == "4007"

    again = ansible_playbook(ROOT / "playbooks" / "export.yml", inventory=inventory, json_output=True,
                             extra_vars={"starviewer_export_dir": str(out)})
    assert all(host["changed"] == 0 for host in again.json["stats"].values())
    assert listener.connections == 0


def test_hosts_sharing_a_folder_must_agree(tmp_path, listener):
    inventory = tmp_path / "hosts.yml"
    _inventory(inventory, listener.port, _config(), windows_vars={"starviewer_local_port": 4010})
    run = ansible_playbook(ROOT / "playbooks" / "export.yml", inventory=inventory, check=False,
                           extra_vars={"starviewer_export_dir": str(tmp_path / "out")})
    assert run.returncode != 0
    assert "ws-win-01, ws-win-02 export to the same folder radiology" in run.stdout
    assert not (tmp_path / "out").exists()
    assert listener.connections == 0
