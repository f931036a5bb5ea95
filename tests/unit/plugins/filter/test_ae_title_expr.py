# Copyright: contributors to medimaging.starviewer
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests for the ae_title_expr filter and for the filters' ansible-doc sidecars."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.medimaging.starviewer.plugins.filter.ae_title_expr import FilterModule, ae_title_expr


@pytest.mark.parametrize(("expr", "kwargs", "expected"), [
    # Vendor manual section 4.2.1 and Annex A (with Starviewer's real right-truncation)
    ("%IP.3%[2:x]%IP.4%[3:x]", {"ip": "10.80.9.2"}, "x9xx2"),
    ("%IP.3%[1:]%IP.4%[3:]", {"ip": "10.80.9.2"}, "92"),
    ("WORKSTATION%IP.4%[3:0]", {"ip": "10.80.9.2"}, "WORKSTATION002"),
    ("%HOSTNAME%SV", {"hostname": "radws-0042"}, "radws-0042SV"),
    ("%HOSTNAME%[4:]", {"hostname": "radws-0042"}, "0042"),
    ("%IP%", {}, "N/A"),
    ("%IP.2%", {"ip": None}, "[N/A]"),
    ("%HOMEPATH%/.starviewer/pacs/dicom/", {"homepath": "C:/Users/jdoe"}, "C:/Users/jdoe/.starviewer/pacs/dicom/"),
    ("%USERNAME%", {}, "%USERNAME%"),
    ("PCHOSPITAL198", {}, "PCHOSPITAL198"),
    ("A%IPX1%B", {"ip": "10.0.0.1"}, "AB"),
])
def test_ae_title_expr(expr, kwargs, expected):
    assert ae_title_expr(expr, **kwargs) == expected


@pytest.mark.parametrize(("expr", "kwargs", "message"), [
    (None, {}, "ae_title_expr: got None of type NoneType; allowed: a string"),
    ("%HOSTNAME%", {}, "ae_title_expr: hostname: got None; allowed: a string (the expression uses %HOSTNAME%)"),
    ("%HOMEPATH%", {"hostname": "h"}, "ae_title_expr: homepath: got None"),
    ("%IP%", {"ip": "10.0.0.256"}, "ae_title_expr: ip: got '10.0.0.256'; allowed: a dotted IPv4 address"),
    ("%HOSTNAME%", {"hostname": 5}, "ae_title_expr: hostname: got 5; allowed: a string"),
])
def test_errors(expr, kwargs, message):
    with pytest.raises(AnsibleFilterError) as info:
        ae_title_expr(expr, **kwargs)
    assert message in str(info.value)


def test_options_are_keyword_only():
    with pytest.raises(TypeError):
        ae_title_expr("%HOSTNAME%", "h")  # pylint: disable=too-many-function-args


def test_filter_module():
    assert FilterModule().filters() == {"ae_title_expr": ae_title_expr}


ROOT = Path(__file__).resolve().parents[4]


def _ansible_cli(name: str) -> str:
    path = shutil.which(name) or str(Path(sys.executable).with_name(name))
    if not Path(path).exists():
        pytest.skip(f"{name} not installed")
    return path


def _run(args: list[str]) -> subprocess.CompletedProcess:
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".cache" / "collections"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0")
    return subprocess.run(args, capture_output=True, text=True, env=env, check=False, timeout=180)


def test_filters_through_ansible():
    """The three filters as a play uses them (FQCN lookup, Jinja keyword arguments), on the controller only."""
    expr = ("{{ ['WORKSTATION%IP.4%[3:0]' | medimaging.starviewer.ae_title_expr(hostname='ws', ip='10.80.9.2'), "
            "'http://10.0.0.2/wado/' | medimaging.starviewer.qvariant_url, "
            "'http://h/' | medimaging.starviewer.qvariant_url(format='reg'), "
            "[{'ae_title': 'PACS', 'hostname': '1.2.3.4', 'port': 1234, 'query_by_default': true}]"
            " | medimaging.starviewer.default_pacs_list] | to_json }}")
    proc = _run([_ansible_cli("ansible"), "localhost", "-i", "localhost,", "-c", "local", "-o",
                 "-m", "ansible.builtin.debug", "-a", "msg=" + expr])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    payload = proc.stdout[proc.stdout.index("{"):]
    assert json.loads(json.loads(payload)["msg"]) == [
        "WORKSTATION002",
        "@Variant(\\0\\0\\0\\x11\\0\\0\\0\\x15http://10.0.0.2/wado/)",
        "hex:" + ",".join(f"{ord(ch):02x},00" for ch in "@Variant(\0\0\0\x11\0\0\0\x09http://h/)"),
        "PACS1.2.3.4:1234\\\\",
    ]


def test_filter_error_through_ansible():
    msg = "msg={{ '%IP%' | medimaging.starviewer.ae_title_expr(ip='1.2.3') }}"
    proc = _run([_ansible_cli("ansible"), "localhost", "-i", "localhost,", "-c", "local", "-o",
                 "-m", "ansible.builtin.debug", "-a", msg])
    assert proc.returncode != 0
    assert "ae_title_expr: ip: got '1.2.3'; allowed: a dotted IPv4 address" in proc.stdout + proc.stderr


@pytest.mark.parametrize("name", ["ae_title_expr", "default_pacs_list", "qvariant_url"])
def test_ansible_doc_reads_sidecar(name):
    proc = _run([_ansible_cli("ansible-doc"), "-t", "filter", "--json", f"medimaging.starviewer.{name}"])
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)[f"medimaging.starviewer.{name}"]
    assert doc["doc"]["name"] == name
    assert doc["doc"]["version_added"] == "0.1.0"
    assert "_input" in doc["doc"]["options"]
    assert doc["examples"]
    assert "_value" in doc["return"]
