# Copyright: contributors to medimaging.starviewer
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/preflight.py: effective AE titles, fleet-wide problems, verify rows and table."""

from __future__ import annotations

import pytest

from ansible_collections.medimaging.starviewer.plugins.module_utils import preflight as pf

PACS = [{"type": "DIMSE", "ae_title": "PACS1", "hostname": "10.0.0.5", "port": 104},
        {"type": "WADO", "base_uri": "https://pacs2.example.org/dicom-web/"}]


def host(hostname: str, ip: str | None = "10.0.0.21", configured: str | None = None, current: str | None = None,
         pacs: list | None = None) -> dict:
    return {"hostname": hostname, "ip": ip, "configured": configured, "current": current, "pacs": pacs}


# ---------------------------------------------------------------------------------------------------------------
# Effective title of one host
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("kwargs", "title", "source"), [
    ({}, "radws-0042", "Starviewer's default, the host name"),
    ({"configured": "SV%HOSTNAME%[4:]"}, "SV0042", "starviewer_local_ae_title"),
    ({"current": "WS%IP.4%[3:0]"}, "WS021", "the system settings file"),
    # The variable wins over what the file already holds.
    ({"configured": "SVX", "current": "WS%IP.4%"}, "SVX", "starviewer_local_ae_title"),
])
def test_effective_title_source(kwargs, title, source):
    info = pf.host_title("radws-0042", "10.0.0.21", **kwargs)
    assert (info["title"], info["source"], info["problems"]) == (title, source, [])


def test_current_title_read_as_qt_reads_it(qt):
    # Written by real QSettings, with characters Qt escapes in INI files.
    data = qt.write([("set", "PACS/pacsparam/AETitle", "SV %IP.4%[3:0]"), ("set", "PACS/pacsparam/localPort", "4006")])
    assert pf.current_ae_title(data.decode("latin-1")) == "SV %IP.4%[3:0]"
    assert pf.current_ae_title("") is None
    assert pf.current_ae_title(None) is None
    assert pf.current_ae_title("[PACS]\npacsparam\\localPort=4006\n") is None


@pytest.mark.parametrize(("args", "fragment"), [
    (("SV%IP.4%", "127.0.1.1"), "resolves to the loopback address 127.0.1.1"),
    (("SV%IP%", "127.0.0.1"), "depends on %IP%"),
    (("%IP.3%%IP.4%", "127.5.5.5"), "depends on %IP.3%, %IP.4%"),
    (("SV%IP.4%", None), "resolves to no IPv4 address"),
    (("%USERNAME%-WS", "10.0.0.21"), "%USERNAME%, which Starviewer 2.0 never expands"),
    (("SV%HOMEPATH%", "10.0.0.21"), "%HOMEPATH%, so each user"),
    (("%HOSTNAME%", "10.0.0.21"), "is 17 characters long; DICOM allows at most 16"),
    (("SV\\%IP.4%", "10.0.0.21"), "contains a backslash"),
    (("%IP.4%[0:]", "10.0.0.21"), "is empty"),
])
def test_single_host_problems(args, fragment):
    expression, ip = args
    info = pf.host_title("pf-radiology-0017", ip, configured=expression)
    assert any(fragment in problem for problem in info["problems"]), info["problems"]


def test_loopback_that_is_the_connection_address_counts_as_the_hosts_own():
    # A lab host reached at 127.0.50.1 that resolves its name to 127.0.50.1 (its own address there).
    assert pf.host_title("ws", "127.0.50.1", configured="WS%IP.4%", connect_address="127.0.50.1")["problems"] == []
    problems = pf.host_title("ws", "127.0.1.1", configured="WS%IP.4%", connect_address="127.0.50.1")["problems"]
    assert len(problems) == 1 and "loopback address 127.0.1.1" in problems[0]


def test_ip_title_on_a_lan_address_is_fine():
    assert pf.host_title("ws", "10.0.0.21", configured="WS%IP.4%[3:0]")["problems"] == []


def test_a_17_character_host_name_as_default_title():
    info = pf.host_title("pf-radiology-0017", "10.0.0.21")
    assert info["title"] == "pf-radiology-0017"
    assert info["problems"] == ["effective AE title 'pf-radiology-0017' (Starviewer's default, the host name) is 17 "
                                "characters long; DICOM allows at most 16"]


def test_unexpandable_expression_is_a_problem_not_a_crash():
    info = pf.host_title("ws", "10.0.0.21", configured="%HOSTNAME%[2147483647:x]")
    assert info["problems"] and "cannot be expanded" in info["problems"][0]


# ---------------------------------------------------------------------------------------------------------------
# Fleet
# ---------------------------------------------------------------------------------------------------------------


def test_every_problem_of_every_host_in_one_report():
    report = pf.fleet_report({
        "ws-1": host("ws-1", configured="SVDUP", pacs=PACS),
        "ws-2": host("ws-2", configured="SVDUP", pacs=PACS),
        "ws-3": host("ws-3", ip="127.0.1.1", configured="SV%IP.4%", pacs=PACS),
        "pf-radiology-0017": host("pf-radiology-0017", pacs=PACS),
        "ws-5": host("ws-5", configured="%USERNAME%", pacs=PACS),
        "ws-6": host("ws-6", configured="pacs1", pacs=PACS),
        "ws-ok": host("ws-ok", configured="SV%HOSTNAME%", pacs=PACS),
    })
    offending = sorted({line.split(":", 1)[0] for line in report["problems"]})
    assert offending == ["pf-radiology-0017", "ws-1", "ws-2", "ws-3", "ws-5", "ws-6"]
    assert report["hosts"]["ws-ok"]["problems"] == []
    assert report["titles"]["ws-3"] == "SV1"
    assert "is also the title of ws-2" in report["hosts"]["ws-1"]["problems"][0]
    assert "is also the title of ws-1" in report["hosts"]["ws-2"]["problems"][0]
    # PACS titles are compared like workstation titles, ignoring case.
    assert "also the AE title of PACS starviewer_pacs[0] 'PACS1'" in report["hosts"]["ws-6"]["problems"][0]


def test_titles_differing_only_in_case_or_padding_collide():
    report = pf.fleet_report({"a": host("a", configured="Ws1"), "b": host("b", configured="WS1"),
                              "c": host("c", configured="ws1")})
    assert all(len(report["hosts"][n]["problems"]) == 1 for n in "abc")
    assert "differs only in letter case or spaces from b ('WS1'), c ('ws1')" in report["hosts"]["a"]["problems"][0]


def test_loopback_hosts_collide_with_each_other_too():
    report = pf.fleet_report({"a": host("a", "127.0.1.1", "SV%IP%"), "b": host("b", "127.0.1.1", "SV%IP%")})
    for name in "ab":
        problems = report["hosts"][name]["problems"]
        assert len(problems) == 2
        assert "loopback" in problems[0] and "is also the title of" in problems[1]


def test_unique_lan_titles_pass():
    report = pf.fleet_report({"a": host("a", "10.0.0.21", "WS%IP.4%[3:0]", pacs=PACS),
                              "b": host("b", "10.0.0.22", "WS%IP.4%[3:0]", pacs=PACS)})
    assert report["problems"] == []
    assert report["titles"] == {"a": "WS021", "b": "WS022"}


def test_invalid_pacs_list_is_reported():
    report = pf.fleet_report({"a": host("a", pacs=[{"type": "dimse"}])})
    assert report["problems"][0].startswith("a: cannot read the PACS list: starviewer_pacs[0].type")


# ---------------------------------------------------------------------------------------------------------------
# Verify rows and table
# ---------------------------------------------------------------------------------------------------------------

DIMSE_ITEM = {"ae_title": "PACS1", "hostname": "10.0.0.5", "port": 104}
WADO_ITEM = {"base_uri": "https://pacs2.example.org/dicom-web/"}


def _rows(data: dict, **kwargs) -> dict:
    return {(r["check"], r["pacs"]): r for r in pf.verify_rows("ws-1", data, **kwargs)}


def test_echo_rows():
    rows = _rows({"echo": {"results": [
        {"item": DIMSE_ITEM, "status": "success", "latency_ms": 1.5, "msg": "PACS1@10.0.0.5:104 answered"},
        {"item": dict(DIMSE_ITEM, port=105), "status": "rejected", "msg": "rejected: calling AE title not recognized"},
        {"item": DIMSE_ITEM, "skipped": True},
    ]}})
    assert rows[("dicom-echo", "PACS1@10.0.0.5:104")]["ok"] is True
    assert rows[("dicom-echo", "PACS1@10.0.0.5:104")]["latency_ms"] == 1.5
    assert rows[("dicom-echo", "PACS1@10.0.0.5:105")]["ok"] is False
    assert len(rows) == 2


@pytest.mark.parametrize(("result", "ok", "detail"), [
    ({"status": 200, "json": [{"0020000D": {}}]}, True, "HTTP 200, 1 study (limit 1)"),
    ({"status": 200, "json": []}, True, "HTTP 200, 0 studies"),
    ({"status": 204}, True, "HTTP 204, no studies"),
    ({"status_code": 200, "content": "[]"}, True, "HTTP 200, 0 studies"),  # win_uri with application/dicom+json
    ({"status": 200, "content": "<html>"}, False, "not a DICOM JSON list"),
    ({"status": 404, "url": "https://pacs2.example.org/dicomweb/studies?limit=1"}, False,
     "HTTP 404 (wrong DICOMweb path in base_uri?)"),
    ({"status": 401}, False, "wants credentials"),
    ({"status": -1, "msg": "Status code was -1: Request failed: <urlopen error [Errno 111] Connection refused>"},
     False, "no HTTP answer: Status code was -1"),
])
def test_qido_rows(result, ok, detail):
    row = _rows({"qido": {"results": [dict(result, item=WADO_ITEM, elapsed=0)]}})[("qido-rs", WADO_ITEM["base_uri"])]
    assert row["ok"] is ok
    assert detail in row["detail"]


def test_hybrid_http_rows():
    item = {"base_uri": "http://10.0.0.3/wado"}
    refused = dict(item=dict(base_uri="http://x/"), status=-1, msg="refused")
    rows = _rows({"http": {"results": [dict(item=item, status=404), refused]}})
    assert rows[("wado-uri-http", "http://10.0.0.3/wado")]["ok"] is True
    assert rows[("wado-uri-http", "http://x/")]["ok"] is False


def test_port_rows():
    rows = _rows({
        "local_port": {"port": 4006, "result": {"owned": False, "msg": "port 4006 is held by python3 (pid 9)"}},
        "ris_port": {"port": 11110, "enabled": False, "result": {"owned": False}},
    })
    local = rows[("local-port", None)]
    assert local["ok"] is False
    assert "python3" in local["detail"] and "could not listen" in local["detail"]
    assert ("ris-port", None) not in rows  # listening off: no check
    rows = _rows({"platform": "windows",
                  "local_port": {"port": 4006, "listeners": [{"name": "Starviewer", "port": 4006}]},
                  "ris_port": {"port": 11110, "enabled": True, "listeners": [{"name": "svchost", "port": 11110}]}})
    assert rows[("local-port", None)]["ok"] is True
    assert rows[("ris-port", None)]["ok"] is False and "svchost" in rows[("ris-port", None)]["detail"]


DESKTOP = "[Desktop Entry]\nName=Starviewer URL handler\nExec=/usr/bin/starviewer --url %u\nType=Application\n"


@pytest.mark.parametrize(("handler", "desktop", "ok", "detail"), [
    ({"rc": 0, "stdout": "StarviewerUrlHandler.desktop\n"}, DESKTOP, True, "opens StarviewerUrlHandler.desktop"),
    ({"rc": 0, "stdout": "other.desktop\n"}, DESKTOP, False, "opens other.desktop, not"),
    ({"rc": 0, "stdout": ""}, None, False, "opens nothing"),
    ({"rc": 0, "stdout": "StarviewerUrlHandler.desktop"}, DESKTOP.replace("/usr/bin/starviewer", "/bin/true"), False,
     "does not start Starviewer"),
    ({"rc": 2, "stdout": "", "msg": "[Errno 2] No such file or directory: b'xdg-mime'"}, None, False,
     "xdg-mime failed"),
])
def test_linux_handler_rows(handler, desktop, ok, detail):
    row = _rows({"handler": handler, "handler_desktop": desktop})[("url-handler", None)]
    assert row["ok"] is ok and detail in row["detail"]


def test_windows_handler_rows():
    good = {"exists": True, "value": '"C:\\Program Files\\Starviewer\\starviewer.exe" --url "%1"'}
    assert _rows({"platform": "windows", "handler": good})[("url-handler", None)]["ok"] is True
    assert _rows({"platform": "windows", "handler": {"exists": False}})[("url-handler", None)]["ok"] is False


def test_title_row_and_unreachable_host():
    rows = _rows({}, preflight={"title": "SVWS1", "source": "starviewer_local_ae_title", "problems": []})
    assert rows[("ae-title", None)]["ok"] and rows[("ae-title", None)]["detail"] == "SVWS1 (starviewer_local_ae_title)"
    rows = pf.verify_rows("ws-9", None, left_out="unreachable: ssh: connect to host 10.0.0.9 port 22: No route")
    assert rows == [{"host": "ws-9", "pacs": None, "check": "reachable", "ok": False,
                     "detail": "unreachable: ssh: connect to host 10.0.0.9 port 22: No route"}]


def test_table_layout():
    lines = pf.summary_table([
        {"host": "ws-1", "pacs": "PACS1@10.0.0.5:104", "check": "dicom-echo", "ok": True, "latency_ms": 1.25,
         "detail": "fine"},
        {"host": "ws-10", "pacs": None, "check": "local-port", "ok": False, "detail": "held"},
        {"host": "ws-2", "pacs": "https://x/", "check": "qido-rs", "ok": True, "latency_s": 0, "detail": "ok"},
        {"host": "ws-2", "pacs": "https://x/", "check": "qido-rs", "ok": True, "latency_s": 0.25, "detail": "ok"},
    ])
    assert lines[0].split() == ["HOST", "PACS", "CHECK", "RESULT", "LATENCY", "DETAIL"]
    assert lines[1].split() == ["ws-1", "PACS1@10.0.0.5:104", "dicom-echo", "ok", "1.2", "ms", "fine"]
    assert lines[2].split() == ["ws-10", "-", "local-port", "FAILED", "-", "held"]
    assert "<1 s" in lines[3] and "250.0 ms" in lines[4]
    # Columns line up: every check name starts at the same offset.
    words = ["CHECK", "dicom-echo", "local-port", "qido-rs", "qido-rs"]
    assert len({lines[i].index(word) for i, word in enumerate(words)}) == 1
