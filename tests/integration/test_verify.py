"""verify.yml against a real PACS: Orthanc with its DICOMweb plugin (Debian's orthanc, orthanc-dicomweb).

Orthanc 1.10 cannot bind to one address, so it runs in a network namespace this module creates (svverify), and so
do the lab workstations (vf-ws-1, vf-ws-2 on 127.0.65.x) and ansible-playbook: everything talks over that
namespace's 127.0.0.0/8 and nothing is visible outside it.

Orthanc is configured to reject unknown callers: it knows only the two workstations' AE titles, checks the called
AE title, and every DicomAlwaysAllow* switch is off (with any of them on, Orthanc 1.10.1 accepts the association
from an unknown AE and only aborts it when the C-ECHO arrives). HTTPS comes from socat in front of the same Orthanc,
with a self-signed certificate: Debian's Orthanc 1.10.1 resets every TLS connection of its own SslEnabled server.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import time
from pathlib import Path

import pytest

from .conftest import SSH, Lab, Run

NETNS = "svverify"
HOSTS = ["vf-ws-1", "vf-ws-2"]
OCTET = 65
PLUGIN = Path("/usr/share/orthanc/plugins/libOrthancDicomWeb.so")
AET = "VFPACS"
# What base_vars.yml's SV%HOSTNAME%[8:] gives on the two workstations.
TITLES = {"vf-ws-1": "SVvf-ws-1", "vf-ws-2": "SVvf-ws-2"}

GOOD_PACS = [
    {"type": "DIMSE", "ae_title": AET, "hostname": "127.0.0.1", "port": 4242, "query_by_default": True},
    {"type": "WADO", "base_uri": "http://127.0.0.1:8042/dicom-web/", "description": "Orthanc DICOMweb"},
    {"type": "WADO-URI+DIMSE", "ae_title": AET, "hostname": "127.0.0.2", "port": 4242,
     "base_uri": "http://127.0.0.1:8042/wado", "description": "Orthanc hybrid"},
]
WRONG_PORT = {"type": "DIMSE", "ae_title": AET, "hostname": "127.0.0.1", "port": 4243}
WRONG_CALLED = {"type": "DIMSE", "ae_title": "NOTVFPACS", "hostname": "127.0.0.1", "port": 4242}
WRONG_PATH = {"type": "WADO", "base_uri": "http://127.0.0.1:8042/dicomweb/"}
SELF_SIGNED = {"type": "WADO", "base_uri": "https://127.0.0.1:8443/dicom-web/"}

STUDY_UID = "2.25.270114213873129315104178240436457398419"


def netns_run(*command: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", "netns", "exec", NETNS, *command], capture_output=True, text=True, check=check)


def wait_for_ports(*ports: int, timeout: float = 20.0) -> None:
    probe = ("import socket, sys, time\n"
             "end = time.time() + %r\n"
             "for port in %r:\n"
             "    while True:\n"
             "        try:\n"
             "            socket.create_connection(('127.0.0.1', port), 1).close(); break\n"
             "        except OSError:\n"
             "            if time.time() > end: sys.exit('port %%d did not open' %% port)\n"
             "            time.sleep(0.1)\n") % (timeout, ports)
    netns_run("python3", "-c", probe)


# ---------------------------------------------------------------------------------------------------------------
# A tiny DICOM object, so that QIDO-RS has a study to return
# ---------------------------------------------------------------------------------------------------------------


def _explicit(group: int, element: int, vr: str, value: bytes) -> bytes:
    if len(value) % 2:
        value += b"\0" if vr in ("UI", "OB") else b" "
    if vr in ("OB", "OW", "SQ", "UN", "UT"):
        return struct.pack("<HH2sHI", group, element, vr.encode(), 0, len(value)) + value
    return struct.pack("<HH2sH", group, element, vr.encode(), len(value)) + value


def tiny_dicom() -> bytes:
    """A Secondary Capture object (no pixel data) for an invented patient, explicit VR little endian."""
    sop_class, sop_uid = b"1.2.840.10008.5.1.4.1.1.7", b"2.25.93410283755204216631232398765601412271"
    meta = _explicit(2, 1, "OB", b"\0\1") + _explicit(2, 2, "UI", sop_class) + _explicit(2, 3, "UI", sop_uid) \
        + _explicit(2, 0x10, "UI", b"1.2.840.10008.1.2.1")
    meta = _explicit(2, 0, "UL", struct.pack("<I", len(meta))) + meta
    data = _explicit(8, 0x16, "UI", sop_class) + _explicit(8, 0x18, "UI", sop_uid) \
        + _explicit(8, 0x20, "DA", b"20240101") + _explicit(8, 0x60, "CS", b"OT") \
        + _explicit(0x10, 0x10, "PN", b"Exemple^Prova") + _explicit(0x10, 0x20, "LO", b"VF-0001") \
        + _explicit(0x20, 0x0D, "UI", STUDY_UID.encode()) \
        + _explicit(0x20, 0x0E, "UI", b"2.25.160497155330815441498317632542431338755")
    return b"\0" * 128 + b"DICM" + meta + data


class Server:
    """One server process in the namespace (Orthanc, socat), stopped by its PID."""

    def __init__(self, directory: Path, command: list[str], ports: tuple[int, ...]):
        self.directory = directory
        self.command = command
        self.ports = ports
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.directory / "server.log", "ab") as log:
            # ip netns exec execs the command, so this PID is the server's own.
            self.proc = subprocess.Popen(["ip", "netns", "exec", NETNS, *self.command], stdout=log,
                                         stderr=subprocess.STDOUT)
        try:
            wait_for_ports(*self.ports)
        except subprocess.CalledProcessError as exc:
            self.stop()
            raise AssertionError("%s did not start: %s\n%s" % (self.command[0], exc.stderr, self.log()[-3000:])) \
                from None

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    def log(self) -> str:
        path = self.directory / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""


def orthanc(directory: Path, config: dict, ports: tuple[int, ...]) -> Server:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "orthanc.json"
    path.write_text(json.dumps(dict(config, StorageDirectory=str(directory / "db"),
                                    IndexDirectory=str(directory / "db")), indent=1))
    return Server(directory, ["Orthanc", str(path)], ports)


def self_signed_pem(directory: Path) -> Path:
    """Certificate and key for 127.0.0.1 in one PEM file."""
    key, cert, pem = directory / "key.pem", directory / "cert.pem", directory / "orthanc-tls.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                    "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out",
                    str(cert)], check=True, capture_output=True)
    pem.write_text(cert.read_text() + key.read_text())
    return pem


@pytest.fixture(scope="module")
def vf(tmp_path_factory):
    if os.geteuid() != 0:
        pytest.skip("the lab needs root (namespaces, overlay mounts)")
    missing = [what for what, ok in (("Orthanc (apt-get install orthanc)", shutil.which("Orthanc")),
                                     ("orthanc-dicomweb", PLUGIN.exists()), ("openssl", shutil.which("openssl")),
                                     ("socat", shutil.which("socat")))
               if not ok]
    if missing:
        pytest.fail("missing on this machine: %s (.ci/run installs them)" % ", ".join(missing))
    tmp = tmp_path_factory.mktemp("verify")
    subprocess.run(["ip", "netns", "del", NETNS], capture_output=True, check=False)  # left over by an interrupted run
    subprocess.run(["ip", "netns", "add", NETNS], check=True, capture_output=True)
    servers = []
    lab = Lab(tmp, name="vf", octet=OCTET, hosts=HOSTS, netns=NETNS)
    try:
        netns_run("ip", "link", "set", "lo", "up")
        lab.reset()
        pacs = orthanc(tmp / "orthanc", {
            "Name": "VF-ORTHANC", "HttpServerEnabled": True, "HttpPort": 8042, "RemoteAccessAllowed": True,
            "AuthenticationEnabled": False, "Plugins": [str(PLUGIN)],
            "DicomWeb": {"Enable": True, "Root": "/dicom-web/"},
            "DicomServerEnabled": True, "DicomAet": AET, "DicomPort": 4242, "DicomCheckCalledAet": True,
            "DicomAlwaysAllowEcho": False, "DicomAlwaysAllowStore": False, "DicomAlwaysAllowFind": False,
            "DicomAlwaysAllowGet": False, "DicomAlwaysAllowMove": False,
            "DicomModalities": {host: [title, "127.0.0.1", 4007] for host, title in TITLES.items()}}, (4242, 8042))
        servers.append(pacs)
        pacs.start()
        tls = Server(tmp / "socat", ["socat", "OPENSSL-LISTEN:8443,bind=127.0.0.1,reuseaddr,fork,verify=0,cert=%s"
                                     % self_signed_pem(tmp), "TCP:127.0.0.1:8042"], (8443,))
        servers.append(tls)
        tls.start()
        study = tmp / "study.dcm"
        study.write_bytes(tiny_dicom())
        stored = netns_run("python3", "-c", "import sys, urllib.request; print(urllib.request.urlopen("
                           "urllib.request.Request('http://127.0.0.1:8042/instances', data=open(sys.argv[1], 'rb')"
                           ".read(), method='POST')).read().decode())", str(study))
        assert json.loads(stored.stdout)["Status"] == "Success", stored.stdout
        lab.orthanc = pacs
        yield lab
    finally:
        for server in servers:
            server.stop()
        lab.down()
        subprocess.run(["ip", "netns", "del", NETNS], capture_output=True, check=False)


def summary(run: Run) -> dict:
    """(host, check, pacs) -> row, from the one starviewer_verify_summary result of the run."""
    found = []
    for play in run.output.get("plays", []):
        for task in play["tasks"]:
            if task["task"]["name"].endswith("Build one summary of every workstation's checks"):
                found += [result for result in task["hosts"].values() if "rows" in result]
    assert len(found) == 1, run.text[-3000:]
    return {(row["host"], row["check"], row["pacs"]): row for row in found[0]["rows"]}


def printed_tables(run: Run) -> list:
    tables = []
    for play in run.output.get("plays", []):
        for task in play["tasks"]:
            if task["task"]["name"].endswith("Show the summary"):
                tables += [result["msg"] for result in task["hosts"].values() if not result.get("skipped")]
    return tables


def verify(lab: Lab, pacs: list, **kwargs) -> Run:
    extra = {"starviewer_pacs": pacs, **kwargs.pop("extra", {})}
    return lab.playbook(extra, playbook="playbooks/verify.yml", **kwargs)


def failed_rows(rows: dict) -> dict:
    return {key: row["detail"] for key, row in rows.items() if not row["ok"]}


def test_fresh_workstations_fail_only_the_url_handler(vf):
    run = verify(vf, GOOD_PACS)
    assert run.rc != 0
    rows = summary(run)
    assert failed_rows(rows) == {(host, "url-handler", None): "starviewer:// opens nothing, not "
                                 "StarviewerUrlHandler.desktop" for host in HOSTS}
    # One table for the whole run, printed once.
    tables = printed_tables(run)
    assert len(tables) == 1 and tables[0][0].split() == ["HOST", "PACS", "CHECK", "RESULT", "LATENCY", "DETAIL"]
    assert len(tables[0]) == len(rows) + 1
    assert "2 failed" in run.messages()


def test_installed_fleet_passes_against_orthanc(vf):
    site = vf.playbook(vf.installer_vars(), {"starviewer_pacs": GOOD_PACS})
    assert site.rc == 0, site.messages()[-3000:]
    run = verify(vf, GOOD_PACS)
    assert run.rc == 0, run.messages()[-4000:]
    rows = summary(run)
    assert failed_rows(rows) == {}
    for host in HOSTS:
        title = TITLES[host]
        assert rows[(host, "ae-title", None)]["detail"] == "%s (starviewer_local_ae_title)" % title
        for pacs in ("VFPACS@127.0.0.1:4242", "VFPACS@127.0.0.2:4242"):  # DIMSE and hybrid entries
            row = rows[(host, "dicom-echo", pacs)]
            assert row["detail"] == "%s answered the C-ECHO from %s: success" % (pacs, title)
            assert row["latency_ms"] is not None
        assert rows[(host, "qido-rs", "http://127.0.0.1:8042/dicom-web/")]["detail"] == "HTTP 200, 1 study (limit 1)"
        assert rows[(host, "wado-uri-http", "http://127.0.0.1:8042/wado")]["ok"]
        assert rows[(host, "local-port", None)]["detail"] == "port 4007 is free"
        assert rows[(host, "ris-port", None)]["detail"] == "port 11110 is free"
        assert rows[(host, "url-handler", None)]["detail"] == \
            "starviewer:// opens StarviewerUrlHandler.desktop (Exec=/usr/bin/starviewer --url %u)"

    # Check mode: the same checks run (C-ECHO, QIDO-RS included) and nothing changes.
    checked = verify(vf, GOOD_PACS, check=True)
    assert checked.rc == 0, checked.messages()[-3000:]
    assert {key: row["ok"] for key, row in summary(checked).items()} == {key: True for key in rows}
    assert not any(checked.changed_tasks(host) for host in HOSTS)


def _listen(lab: Lab, host: str, program: str, port: int) -> None:
    """Start a process named ``program`` listening on ``port`` inside the workstation (dies with the lab host)."""
    code = "import socket, time; s = socket.socket(); s.bind(('0.0.0.0', %d)); s.listen(); time.sleep(900)" % port
    lab.sh(host, "mkdir -p /tmp/vf && ln -sf /usr/bin/python3 /tmp/vf/%s && "
                 "(setsid /tmp/vf/%s -c %s </dev/null >/dev/null 2>&1 &)" % (program, program, json.dumps(code)))
    for _attempt in range(50):
        if lab.sh(host, "grep -q ':%04X 00000000:0000 0A' /proc/net/tcp" % port, check=False).returncode == 0:
            return
        time.sleep(0.1)
    raise AssertionError("%s did not start listening on %d" % (program, port))


def test_each_failure_gets_its_own_clear_message(vf):
    # vf-ws-1: its local port is held by Starviewer (fine), its RIS port by another program. vf-ws-2 calls with a
    # title Orthanc does not know. Both list a PACS on a wrong port, a wrong called AE title, a wrong DICOMweb path
    # and an https PACS with a self-signed certificate.
    _listen(vf, "vf-ws-1", "starviewer", 4007)
    _listen(vf, "vf-ws-1", "python3", 11111)
    host_vars = {"vf-ws-1": {"starviewer_ris_listen_port": 11111},
                 "vf-ws-2": {"starviewer_local_ae_title": "VFUNKNOWN", "starviewer_local_port": 4017}}
    pacs = GOOD_PACS + [WRONG_PORT, WRONG_CALLED, WRONG_PATH, SELF_SIGNED]
    run = verify(vf, pacs, host_vars=host_vars)
    assert run.rc != 0
    failed = failed_rows(summary(run))
    for host in HOSTS:
        assert failed[(host, "dicom-echo", "VFPACS@127.0.0.1:4243")] == (
            "connection refused by VFPACS@127.0.0.1:4243: nothing listens on port 4243 (wrong port, or the PACS "
            "is stopped)")
        assert "called AE title not recognized (NOTVFPACS)" in failed[(host, "dicom-echo", "NOTVFPACS@127.0.0.1:4242")]
        assert failed[(host, "qido-rs", "http://127.0.0.1:8042/dicomweb/")] == (
            "HTTP 404 (wrong DICOMweb path in base_uri?) from http://127.0.0.1:8042/dicomweb/studies?limit=1")
        assert "CERTIFICATE_VERIFY_FAILED" in failed[(host, "qido-rs", "https://127.0.0.1:8443/dicom-web/")]
    # The unknown calling AE title: every DICOM PACS rejects vf-ws-2, and says why.
    for pacs_label in ("VFPACS@127.0.0.1:4242", "VFPACS@127.0.0.2:4242"):
        assert failed[("vf-ws-2", "dicom-echo", pacs_label)] == (
            "%s rejected the association: calling AE title not recognized (VFUNKNOWN); permanent, decided by the "
            "PACS application" % pacs_label)
    # Port checks: held by Starviewer passes, held by another program fails and names it.
    assert ("vf-ws-1", "local-port", None) not in failed
    assert "python3" in failed[("vf-ws-1", "ris-port", None)] and "11111" in failed[("vf-ws-1", "ris-port", None)]
    hosts_failing = {key for key in failed if key[0] == "vf-ws-1"}
    assert hosts_failing == {("vf-ws-1", "dicom-echo", "VFPACS@127.0.0.1:4243"),
                             ("vf-ws-1", "dicom-echo", "NOTVFPACS@127.0.0.1:4242"),
                             ("vf-ws-1", "qido-rs", "http://127.0.0.1:8042/dicomweb/"),
                             ("vf-ws-1", "qido-rs", "https://127.0.0.1:8443/dicom-web/"),
                             ("vf-ws-1", "ris-port", None)}

    # TLS is verified by default; a test PACS with a self-signed certificate passes only when told so.
    relaxed = verify(vf, [SELF_SIGNED], extra={"starviewer_verify_validate_certs": False,
                                               "starviewer_verify_checks": ["qido_rs"]})
    assert relaxed.rc == 0, relaxed.messages()[-3000:]
    row = summary(relaxed)[("vf-ws-1", "qido-rs", SELF_SIGNED["base_uri"])]
    assert row["detail"] == "HTTP 200, 1 study (limit 1)"


def test_stopped_pacs(vf):
    vf.orthanc.stop()
    run = verify(vf, GOOD_PACS)
    assert run.rc != 0
    failed = failed_rows(summary(run))
    for host in HOSTS:
        assert failed[(host, "dicom-echo", "VFPACS@127.0.0.1:4242")].startswith("connection refused by VFPACS@")
        assert failed[(host, "qido-rs", "http://127.0.0.1:8042/dicom-web/")].startswith("no HTTP answer: ")
        assert "Connection refused" in failed[(host, "qido-rs", "http://127.0.0.1:8042/dicom-web/")]
        assert not failed[(host, "wado-uri-http", "http://127.0.0.1:8042/wado")].startswith("HTTP 404")


# ---------------------------------------------------------------------------------------------------------------
# Optional firewall (last: it switches ufw on inside the namespace; everything here talks over lo, which ufw allows)
# ---------------------------------------------------------------------------------------------------------------

UFW_DEBS = ["ufw", "iptables", "libip4tc2", "libip6tc2", "libnftnl11", "libnetfilter-conntrack3", "libnfnetlink0",
            "netbase"]


def ufw_debs() -> list[Path]:
    """Debian's ufw and what it needs beyond the lab base, downloaded once with apt-get into $SVLAB/debs/ufw."""
    cache = Path(os.environ.get("SVLAB", "/var/tmp/svlab")) / "debs" / "ufw"
    cache.mkdir(parents=True, exist_ok=True)
    found = {path.name.split("_")[0]: path for path in cache.glob("*.deb")}
    missing = [name for name in UFW_DEBS if name not in found]
    if missing:
        subprocess.run(["apt-get", "download", *missing], cwd=cache, check=True, capture_output=True)
    return sorted(cache.glob("*.deb"))


def firewall(lab: Lab, tmp: Path, **variables) -> Run:
    playbook = tmp / "firewall.yml"
    playbook.write_text(json.dumps([{"name": "Firewall", "hosts": "all", "gather_facts": False, "become": True,
                                     "roles": [{"role": "medimaging.starviewer.firewall"}]}]))
    return lab.playbook(variables, playbook=str(playbook))


def test_firewall_opens_the_ports_where_ufw_is_active(vf, tmp_path):
    # Off by default: nothing happens at all.
    off = firewall(vf, tmp_path)
    assert off.rc == 0 and not any(off.changed_tasks(host) for host in HOSTS)

    # ufw installed and switched on in vf-ws-1 only; vf-ws-2 has no ufw.
    debs = ufw_debs()
    tarball = subprocess.run(["tar", "cf", "-", "-C", str(debs[0].parent), *[d.name for d in debs]],
                             capture_output=True, check=True).stdout
    subprocess.run([*vf.prefix, *SSH, "ansible@" + vf.ip("vf-ws-1"),
                    "sudo sh -c 'mkdir -p /var/tmp/debs && tar xf - -C /var/tmp/debs && dpkg -i /var/tmp/debs/*.deb'"],
                   input=tarball, capture_output=True, check=True)
    vf.sh("vf-ws-1", "ufw --force enable")

    sources = ["10.0.0.5", "10.0.1.0/24"]
    run = firewall(vf, tmp_path, starviewer_firewall_manage=True, starviewer_firewall_sources=sources)
    assert run.rc == 0, run.messages()[-3000:]
    assert run.changed_tasks("vf-ws-1") == ["Allow Starviewer's inbound ports in ufw"]
    assert run.changed_tasks("vf-ws-2") == []
    assert "ufw is not installed on vf-ws-2" in run.tasks("vf-ws-2")["Report that ufw is not active"]["msg"]
    status = vf.sh("vf-ws-1", "ufw status").stdout
    rules = sorted(" ".join(line.split()) for line in status.splitlines() if "ALLOW" in line)
    # base_vars.yml sets the local port 4007; RIS listening is Starviewer's default (on, 11110).
    assert rules == ["11110/tcp ALLOW 10.0.0.5 # Starviewer RIS", "11110/tcp ALLOW 10.0.1.0/24 # Starviewer RIS",
                     "4007/tcp ALLOW 10.0.0.5 # Starviewer DICOM", "4007/tcp ALLOW 10.0.1.0/24 # Starviewer DICOM"]

    again = firewall(vf, tmp_path, starviewer_firewall_manage=True, starviewer_firewall_sources=sources)
    assert again.rc == 0 and not any(again.changed_tasks(host) for host in HOSTS)

    bad = firewall(vf, tmp_path, starviewer_firewall_manage=True, starviewer_firewall_sources=["pacs.example.org"])
    assert bad.rc != 0
    assert "starviewer_firewall_sources: got pacs.example.org" in bad.messages()
    assert vf.sh("vf-ws-1", "ufw status").stdout == status
