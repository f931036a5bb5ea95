"""The inventories under examples/ that docs/quickstart.md tells users to copy resolve and validate as documented.

Runs on the controller only: the validation action contacts no host and the AE titles are computed with the
collection's filter from each host's address, as Starviewer would expand them there.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
TWO_SITES = ROOT / "examples" / "two-sites" / "hosts.yml"

PLAY = [{
    "name": "Validate the example inventory on the controller",
    "hosts": "all",
    "gather_facts": False,
    "tasks": [
        {"name": "Validate and compute the settings", "register": "config",
         "medimaging.starviewer.starviewer_config": {
             "pacs": "{{ starviewer_pacs }}", "local_ae_title": "{{ starviewer_local_ae_title }}",
             "local_port": "{{ starviewer_local_port }}", "settings": "{{ starviewer_settings }}",
             "system_settings": "{{ starviewer_system_settings }}"}},
        {"name": "Save what each workstation gets", "delegate_to": "localhost",
         "vars": {"ansible_python_interpreter": "{{ ansible_playbook_python }}", "ansible_connection": "local"},
         "ansible.builtin.copy": {
             "dest": "{{ out }}/{{ inventory_hostname }}.json", "mode": "0600",
             "content": "{{ {'ae_title': starviewer_local_ae_title | medimaging.starviewer.ae_title_expr("
                        "hostname=inventory_hostname, ip=ansible_host), 'pacs': config.pacs | length, "
                        "'days': starviewer_settings['PACS/cache/MaximumDaysNotViewedStudy']} | to_json }}"}},
    ],
}]


def _cli(name: str) -> str:
    path = shutil.which(name) or str(Path(sys.executable).with_name(name))
    assert Path(path).exists(), name
    return path


def test_two_sites_example_as_the_quick_start_describes(tmp_path):
    playbook = tmp_path / "validate.yml"
    playbook.write_text(yaml.safe_dump(PLAY, sort_keys=False))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".cache" / "collections"), ANSIBLE_NOCOLOR="1")
    proc = subprocess.run([_cli("ansible-playbook"), "-i", str(TWO_SITES), "-e", "out=%s" % tmp_path, str(playbook)],
                          env=env, capture_output=True, text=True, check=False, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    got = {path.stem: json.loads(path.read_text()) for path in tmp_path.glob("*.json")}
    assert got == {
        # site pattern SVEX%IP.4%[3:0]; radiology's own cache setting replaces the site's
        "ws-rad-01": {"ae_title": "SVEX057", "pacs": 2, "days": 30},
        "ws-rad-02": {"ae_title": "SVEX058", "pacs": 2, "days": 30},
        "ws-emerg-01": {"ae_title": "SVEX021", "pacs": 2, "days": 14},
        # second site: its own PACS list; the host_vars exception wins over the site pattern
        "ws-nord-rad-07": {"ae_title": "NORDRAD07", "pacs": 2, "days": 14},
    }
