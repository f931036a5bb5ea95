# Copyright: contributors to medimaging.starviewer
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fleet-wide checks of the effective local AE titles, and the rows and table of the verify summary.

Pure functions (no I/O) used by the starviewer_preflight and starviewer_verify_summary action plugins on the
controller. Standard library only, like every module_utils file of the collection.
"""

from __future__ import annotations

import ipaddress
import json

from ansible_collections.medimaging.starviewer.plugins.module_utils.qt_ini import QtIniDocument
from ansible_collections.medimaging.starviewer.plugins.module_utils.starviewer import (
    StarviewerInputError,
    ae_title_expr,
    ae_title_problems,
    expression_variables,
    normalize_pacs,
)

__all__ = [
    "current_ae_title",
    "fleet_report",
    "host_title",
    "plain_data",
    "summary_table",
    "verify_rows",
]

AE_TITLE_KEY = "PACS/pacsparam/AETitle"


def plain_data(value: object) -> object:
    """Copy of templated data as plain dict, list, str, int, float, bool and None (hostvars hold lazy objects)."""
    if isinstance(value, dict):
        return {str(k): plain_data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain_data(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    for kind in (int, float, str):
        if isinstance(value, kind):
            return kind(value)
    return value


def current_ae_title(system_file: str | None) -> str | None:
    """The AE title expression a Qt INI system settings file holds (as Latin-1 text), or None."""
    if not system_file:
        return None
    value = QtIniDocument(system_file).get(AE_TITLE_KEY)
    return value if isinstance(value, str) else None


def _is_loopback(ip: str | None) -> bool:
    try:
        return ip is not None and ipaddress.ip_address(ip).is_loopback
    except ValueError:
        return False


def host_title(hostname: str, ip: str | None, configured: str | None = None, current: str | None = None,
               connect_address: str | None = None) -> dict:
    """Effective local AE title of one workstation and what is wrong with it on its own.

    ``configured`` is starviewer_local_ae_title (None: unmanaged), ``current`` the expression already in the
    system settings file. Starviewer's own default is the host name, taken literally (it is not parsed).
    A loopback ``ip`` equal to ``connect_address`` (the address Ansible reaches the host at) is taken as the host's
    own address: test labs give each host its own 127.x address. Returns {"expression", "source", "title",
    "problems"}.
    """
    if configured is not None:
        expression, source = configured, "starviewer_local_ae_title"
    elif current is not None:
        expression, source = current, "the system settings file"
    else:
        expression, source = None, "Starviewer's default, the host name"
    problems: list[str] = []
    if expression is None:
        title = hostname
        names: list[str] = []
    else:
        names = expression_variables(expression)
        try:
            # HOMEPATH differs per user (reported below); a placeholder keeps the other checks meaningful.
            title = ae_title_expr(expression, hostname, ip, "~")
        except StarviewerInputError as exc:
            return {"expression": expression, "source": source, "title": expression,
                    "problems": ["AE title %r (%s) cannot be expanded: %s" % (expression, source, exc.allowed)]}
    shown = "%r (from %r, %s)" % (title, expression, source) if expression is not None and title != expression \
        else "%r (%s)" % (title, source)
    if expression is not None and "%USERNAME%" in expression:
        problems.append("AE title %s uses %%USERNAME%%, which Starviewer 2.0 never expands: the PACS would see the "
                        "literal text" % shown)
    ip_names = sorted({name for name in names if name.startswith("IP")})
    if ip_names and ip is None:
        problems.append("AE title %s depends on %s but %s resolves to no IPv4 address on the host (Starviewer uses "
                        "N/A)" % (shown, ", ".join("%" + n + "%" for n in ip_names), hostname))
    elif ip_names and _is_loopback(ip) and ip != connect_address:
        problems.append("AE title %s depends on %s but %s resolves to the loopback address %s on the host, so every "
                        "workstation with the stock /etc/hosts gets the same value; make the name resolve to the LAN "
                        "address or build the title from %%HOSTNAME%%"
                        % (shown, ", ".join("%" + n + "%" for n in ip_names), hostname, ip))
    if "HOMEPATH" in names:
        problems.append("AE title %s depends on %%HOMEPATH%%, so each user of the workstation would call the PACS "
                        "with a different title" % shown)
    for problem in ae_title_problems(title):
        problems.append("effective AE title %s %s" % (shown, problem))
    return {"expression": expression, "source": source, "title": title, "problems": problems}


def _title_key(title: str) -> str:
    # Trailing and leading spaces are padding in DICOM, and many PACS (Orthanc by default) ignore letter case.
    return title.strip(" ").upper()


def _pacs_titles(pacs: object) -> tuple[list[tuple[str, str]], str | None]:
    """(where, AE title) of the DIMSE and hybrid PACS of one host, or an error when the list is invalid."""
    if pacs is None:
        return [], None
    try:
        normalized = normalize_pacs(pacs, "starviewer_pacs")
    except StarviewerInputError as exc:
        return [], str(exc)
    return [("starviewer_pacs[%d]" % index, item["ae_title"]) for index, item in enumerate(normalized)
            if item["ae_title"] is not None], None


def _some(names: list[str]) -> str:
    return ", ".join(names) if len(names) <= 3 else "%d hosts" % len(names)


def fleet_report(hosts: dict) -> dict:
    """Check every host's effective AE title against its own rules and against the whole fleet.

    ``hosts`` maps an inventory name to {"hostname", "ip", "configured", "current", "pacs", "connect_address"} as
    read from the host. Returns {"hosts": {name: {...host_title, "hostname", "ip"}}, "problems": [line],
    "titles": {name: title}}.
    """
    result: dict = {}
    for name in sorted(hosts):
        data = hosts[name]
        result[name] = host_title(data["hostname"], data.get("ip"), data.get("configured"), data.get("current"),
                                  data.get("connect_address"))
        result[name].update(hostname=data["hostname"], ip=data.get("ip"))

    by_key: dict[str, list[str]] = {}
    for name, info in result.items():
        by_key.setdefault(_title_key(info["title"]), []).append(name)
    for name, info in result.items():
        others = [other for other in by_key[_title_key(info["title"])] if other != name]
        if others:
            exact = [o for o in others if result[o]["title"] == info["title"]]
            cased = [o for o in others if o not in exact]
            text = "effective AE title %r is also the title of %s" % (info["title"], ", ".join(exact)) if exact else ""
            if cased:
                text += ("; " if text else "effective AE title %r " % info["title"]) + "differs only in letter case " \
                    "or spaces from %s, which Orthanc and many PACS treat as the same" % (
                        ", ".join("%s (%r)" % (o, result[o]["title"]) for o in cased))
            info["problems"].append(text + ": the PACS cannot tell these workstations apart")

    # A PACS titled like a workstation: the workstation's title is reported, naming the PACS entries it matches.
    pacs_keys: dict[str, dict[str, list[str]]] = {}
    # Once per distinct list: the hosts of a ward share theirs, and normalising a long one is most of the time here.
    by_list: dict[str, tuple] = {}
    for name in result:
        pacs = hosts[name].get("pacs")
        key = json.dumps(pacs, sort_keys=True, default=str)
        if key not in by_list:
            by_list[key] = _pacs_titles(pacs)
        titles, error = by_list[key]
        if error:
            result[name]["problems"].append("cannot read the PACS list: " + error)
        for where, title in titles:
            pacs_keys.setdefault(_title_key(title), {}).setdefault("%s %r" % (where, title), []).append(name)
    for info in result.values():
        entries = pacs_keys.get(_title_key(info["title"]))
        if entries:
            listed = ", ".join("%s (in the PACS list of %s)" % (entry, _some(owners))
                               for entry, owners in sorted(entries.items()))
            info["problems"].append("effective AE title %r is also the AE title of PACS %s: one title for a PACS and "
                                    "a workstation breaks AE title checks and C-MOVE destinations"
                                    % (info["title"], listed))

    lines = ["%s: %s" % (name, problem) for name, info in result.items() for problem in info["problems"]]
    return {
        "hosts": result,
        "problems": lines,
        "titles": {name: info["title"] for name, info in result.items()},
    }


def _latency(row: dict) -> str:
    if row.get("latency_ms") is not None:
        value = float(row["latency_ms"])
        return "%.1f s" % (value / 1000) if value >= 1000 else "%.1f ms" % value
    value = row.get("latency_s")
    if isinstance(value, int) and not isinstance(value, bool):
        # ansible.builtin.uri reports whole seconds only.
        return "<1 s" if value < 1 else "%d s" % value
    if isinstance(value, float):
        return "%.1f ms" % (value * 1000) if value < 1 else "%.1f s" % value
    return "-"


def summary_table(rows: list[dict]) -> list[str]:
    """Fixed-width table (host, PACS, check, result, latency, detail) of verify results, one line per row."""
    headers = ("HOST", "PACS", "CHECK", "RESULT", "LATENCY", "DETAIL")
    cells = []
    for row in rows:
        cells.append((str(row.get("host", "")), str(row.get("pacs") or "-"), str(row.get("check", "")),
                      "ok" if row.get("ok") else "FAILED", _latency(row), str(row.get("detail", ""))))
    widths = [max([len(h)] + [len(c[i]) for c in cells]) for i, h in enumerate(headers[:-1])]
    lines = []
    for line in [headers] + cells:
        lines.append("  ".join(text.ljust(widths[i]) for i, text in enumerate(line[:-1])) + "  " + line[-1])
    return [line.rstrip() for line in lines]


# ---------------------------------------------------------------------------------------------------------------
# Verify results -> summary rows
# ---------------------------------------------------------------------------------------------------------------

HANDLER_DESKTOP = "StarviewerUrlHandler.desktop"


def _loop_results(registered: object) -> list[dict]:
    """Items of a registered loop that actually ran (skipped items and skipped tasks give nothing)."""
    if not isinstance(registered, dict):
        return []
    return [r for r in registered.get("results", []) if isinstance(r, dict) and not r.get("skipped")]


def _dimse_label(pacs: dict) -> str:
    return "%s@%s:%s" % (pacs.get("ae_title"), pacs.get("hostname"), pacs.get("port"))


def _oneline(text: object) -> str:
    return " ".join(str(text).split())


def _echo_rows(host: str, registered: object) -> list[dict]:
    rows = []
    for result in _loop_results(registered):
        pacs = result.get("item") or {}
        ok = result.get("status") == "success"
        detail = result.get("msg") or ("unreachable" if result.get("unreachable") else "no result")
        rows.append({"host": host, "pacs": _dimse_label(pacs), "check": "dicom-echo", "ok": ok,
                     "latency_ms": result.get("latency_ms"), "detail": _oneline(detail)})
    return rows


def _tcp_rows(host: str, registered: object) -> list[dict]:
    rows = []
    for result in _loop_results(registered):
        pacs = result.get("item") or {}
        ok = not result.get("failed") and not result.get("unreachable")
        elapsed = result.get("elapsed")
        detail = "TCP connection accepted (no C-ECHO from Windows hosts)" if ok else _oneline(result.get("msg", ""))
        rows.append({"host": host, "pacs": _dimse_label(pacs), "check": "tcp-connect", "ok": ok,
                     "latency_s": elapsed if isinstance(elapsed, (int, float)) else None, "detail": detail})
    return rows


def _http_status(result: dict) -> int:
    status = result.get("status", result.get("status_code", -1))
    try:
        return int(status)
    except (TypeError, ValueError):
        return -1


def _qido_rows(host: str, registered: object) -> list[dict]:
    rows = []
    for result in _loop_results(registered):
        pacs = result.get("item") or {}
        status = _http_status(result)
        body = result.get("json")
        if body is None and isinstance(result.get("content"), str):
            # win_uri parses only application/json; QIDO-RS answers application/dicom+json.
            try:
                body = json.loads(result["content"])
            except ValueError:
                body = None
        if status == 204:
            ok, detail = True, "HTTP 204, no studies"
        elif status == 200 and isinstance(body, list):
            ok, detail = True, "HTTP 200, %d stud%s (limit 1)" % (len(body), "y" if len(body) == 1 else "ies")
        elif status == 200:
            ok, detail = False, "HTTP 200 but the answer is not a DICOM JSON list: is base_uri the DICOMweb root?"
        elif status == -1:
            ok, detail = False, "no HTTP answer: %s" % _oneline(result.get("msg", ""))
        else:
            hint = " (wrong DICOMweb path in base_uri?)" if status == 404 else \
                " (the PACS wants credentials)" if status in (401, 403) else ""
            ok, detail = False, "HTTP %d%s from %s" % (status, hint, result.get("url", ""))
        rows.append({"host": host, "pacs": pacs.get("base_uri"), "check": "qido-rs", "ok": ok,
                     "latency_s": result.get("elapsed"), "detail": detail})
    return rows


def _http_rows(host: str, registered: object) -> list[dict]:
    rows = []
    for result in _loop_results(registered):
        pacs = result.get("item") or {}
        status = _http_status(result)
        ok = 0 < status < 500
        detail = ("HTTP %d: web server reachable (the WADO-URI path itself is only proven by a retrieve)" % status
                  if ok else "HTTP %d: %s" % (status, _oneline(result.get("msg", ""))))
        rows.append({"host": host, "pacs": pacs.get("base_uri"), "check": "wado-uri-http", "ok": ok,
                     "latency_s": result.get("elapsed"), "detail": detail})
    return rows


def _port_row(host: str, check: str, entry: object) -> list[dict]:
    if not isinstance(entry, dict) or entry.get("enabled") is False:
        return []
    port = entry.get("port")
    result = entry.get("result")
    if isinstance(result, dict) and result.get("skipped"):
        return []
    if isinstance(result, dict) and "owned" in result:
        ok, detail = bool(result["owned"]), result.get("msg", "")
        if not ok:
            detail += "; Starviewer could not listen on it"
    elif isinstance(entry.get("listeners"), list):
        # Windows: win_listen_ports_facts entries on this port.
        listeners = entry["listeners"]
        names = sorted({str(item.get("name", "")) for item in listeners})
        ok = all(name.lower().startswith("starviewer") for name in names)
        detail = "port %s is free" % port if not listeners else "port %s is held by %s" % (port, ", ".join(names))
    else:
        ok, detail = False, _oneline((result or {}).get("msg", "not checked"))
    return [{"host": host, "pacs": None, "check": check, "ok": ok, "detail": _oneline(detail)}]


def _desktop_exec(content: str | None) -> str | None:
    if not content:
        return None
    for line in content.splitlines():
        if line.startswith("Exec="):
            return line[len("Exec="):]
    return None


def _handler_row(host: str, data: dict) -> list[dict]:
    handler = data.get("handler")
    if not isinstance(handler, dict) or handler.get("skipped"):
        return []
    if data.get("platform") == "windows":
        value = handler.get("value") if handler.get("exists") else None
        ok = isinstance(value, str) and "starviewer" in value.lower() and "--url" in value
        shown = value if value is not None else "missing"
        detail = "HKLM\\SOFTWARE\\Classes\\starviewer\\shell\\open\\command = %s" % shown
        return [{"host": host, "pacs": None, "check": "url-handler", "ok": ok, "detail": _oneline(detail)}]
    answer = str(handler.get("stdout", "")).strip()
    if handler.get("rc", 1) != 0 and not answer:
        why = handler.get("stderr") or handler.get("msg", "")
        return [{"host": host, "pacs": None, "check": "url-handler", "ok": False,
                 "detail": _oneline("xdg-mime failed (rc %s): %s" % (handler.get("rc"), why))}]
    command = _desktop_exec(data.get("handler_desktop"))
    if answer != HANDLER_DESKTOP:
        ok, detail = False, "starviewer:// opens %s, not %s" % (answer or "nothing", HANDLER_DESKTOP)
    elif command is None or "starviewer" not in command.split(" ")[0]:
        ok, detail = False, "%s does not start Starviewer (Exec=%s)" % (HANDLER_DESKTOP, command)
    else:
        ok, detail = True, "starviewer:// opens %s (Exec=%s)" % (HANDLER_DESKTOP, command)
    return [{"host": host, "pacs": None, "check": "url-handler", "ok": ok, "detail": detail}]


def verify_rows(host: str, data: object, preflight: dict | None = None, left_out: str | None = None) -> list[dict]:
    """Summary rows of one host from the results its verify tasks registered (see roles/verify).

    ``preflight`` is this host's entry of the starviewer_preflight result (title and problems); ``left_out``
    the reason the host could not be checked at all.
    """
    if left_out is not None or not isinstance(data, dict):
        return [{"host": host, "pacs": None, "check": "reachable", "ok": False,
                 "detail": _oneline(left_out or "the host stopped before its checks ran")}]
    rows = []
    if preflight:
        problems = preflight.get("problems") or []
        detail = "; ".join(problems) if problems else "%s (%s)" % (preflight.get("title"), preflight.get("source"))
        rows.append({"host": host, "pacs": None, "check": "ae-title", "ok": not problems, "detail": _oneline(detail)})
    rows += _echo_rows(host, data.get("echo"))
    rows += _tcp_rows(host, data.get("tcp"))
    rows += _qido_rows(host, data.get("qido"))
    rows += _http_rows(host, data.get("http"))
    rows += _port_row(host, "local-port", data.get("local_port"))
    rows += _port_row(host, "ris-port", data.get("ris_port"))
    rows += _handler_row(host, data)
    return rows
