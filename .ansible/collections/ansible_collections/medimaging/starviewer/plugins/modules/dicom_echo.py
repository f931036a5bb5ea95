#!/usr/bin/python
# Copyright: contributors to medimaging.starviewer
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: dicom_echo
short_description: DICOM C-ECHO (verification) from the managed host to a PACS
version_added: 0.2.0
description:
  - Opens one DICOM association from the managed host to a PACS, proposing only the Verification SOP class with
    the Implicit VR Little Endian transfer syntax, sends one C-ECHO request, waits for the response and releases
    the association.
  - This is the C(echo) a PACS administrator asks for before anything else. The PACS sees the calling AE title and
    the address of the managed host, so the check proves that the PACS knows this workstation.
  - Written with the Python standard library only; nothing needs to be installed on the managed host.
  - Changes nothing on the managed host or on the PACS, so it runs in check mode too.
options:
  host:
    description: Host name or IP address of the PACS.
    type: str
    required: true
  port:
    description: DICOM port of the PACS (the query/retrieve port of a Starviewer PACS entry).
    type: int
    required: true
  called_ae_title:
    description: AE title of the PACS (1 to 16 printable ASCII characters, no backslash).
    type: str
    required: true
  calling_ae_title:
    description:
      - AE title this host calls with. Use the workstation's effective Starviewer AE title, the one the PACS has
        registered for it.
    type: str
    required: true
  timeout:
    description:
      - Seconds to wait for the TCP connection and for each answer of the PACS.
      - Starviewer's own default (C(PACS/pacsparam/timeout)) is 10 seconds.
    type: float
    default: 10.0
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: posix
extends_documentation_fragment:
  - medimaging.starviewer.attributes
notes:
  - The module fails when the echo does not succeed; RV(status) then says why in one word and RV(msg) in a sentence.
    Use C(failed_when) to collect results instead (the collection's verify playbook does).
  - Only the association that Starviewer itself opens for queries is tested. Retrieves also need the PACS to
    connect back to the workstation's local port, which a C-ECHO cannot prove.
seealso:
  - name: DICOM PS3.8, upper layer protocol (A-ASSOCIATE, P-DATA, A-RELEASE)
    description: The PDU formats this module writes and reads.
    link: https://dicom.nema.org/medical/dicom/current/output/html/part08.html
  - name: DICOM PS3.7, verification service (C-ECHO)
    description: The C-ECHO request and response messages.
    link: https://dicom.nema.org/medical/dicom/current/output/html/part07.html
author:
  - medimaging.starviewer maintainers (@medimaging)
"""

EXAMPLES = r"""
- name: Echo the main PACS with this workstation's AE title
  medimaging.starviewer.dicom_echo:
    host: pacs1.example.org
    port: 11112
    called_ae_title: PACS1
    calling_ae_title: RADWS042

- name: Collect the result without failing the play
  medimaging.starviewer.dicom_echo:
    host: 10.0.0.3
    port: 104
    called_ae_title: PACS3
    calling_ae_title: RADWS042
    timeout: 5
  register: echo
  failed_when: false

- name: Show why it did not work
  ansible.builtin.debug:
    msg: "{{ echo.status }}: {{ echo.msg }}"
  when: echo.status != 'success'
"""

RETURN = r"""
status:
  description:
    - C(success) the PACS answered the C-ECHO with status 0x0000;
    - C(rejected) the PACS refused the association (see RV(reject)) or the Verification SOP class;
    - C(refused) nothing accepts TCP connections on that port;
    - C(timeout) no TCP connection within O(timeout) (host down, port filtered);
    - C(unreachable) the name does not resolve or there is no route to the host;
    - C(aborted) the PACS aborted the association (A-ABORT) or closed the connection;
    - C(no-response) the association was accepted but no C-ECHO response came within O(timeout);
    - C(failed) the C-ECHO response carried a status other than success, or the PACS broke the protocol.
  returned: always
  type: str
  sample: rejected
msg:
  description: One sentence saying what happened, naming the PACS, the AE titles and the reason.
  returned: always
  type: str
  sample: "PACS1@10.0.0.5:11112 rejected the association: calling AE title not recognized (RADWS042); permanent"
dimse_status:
  description: Status of the C-ECHO response (0 is success), null when there was no response.
  returned: always
  type: int
  sample: 0
reject:
  description: The A-ASSOCIATE-RJ fields, null unless the association was rejected.
  returned: always
  type: dict
  contains:
    result:
      description: 1 permanent, 2 transient.
      type: int
    source:
      description: 1 service user (the PACS application), 2 service provider (ACSE), 3 service provider (presentation).
      type: int
    reason:
      description: Reason code; its meaning depends on RV(reject.source).
      type: int
    text:
      description: The reason in words, for example C(calling AE title not recognized).
      type: str
latency_ms:
  description: Milliseconds between sending the C-ECHO request and receiving its response; null without a response.
  returned: always
  type: float
  sample: 1.8
elapsed_ms:
  description: Milliseconds for the whole check (connection, association, echo and release).
  returned: always
  type: float
  sample: 12.4
called_ae_title:
  description: AE title called.
  returned: always
  type: str
calling_ae_title:
  description: AE title used as the calling AE title.
  returned: always
  type: str
"""

import socket
import struct
import time

from ansible.module_utils.basic import AnsibleModule

APPLICATION_CONTEXT = "1.2.840.10008.3.1.1.1"
VERIFICATION_SOP_CLASS = "1.2.840.10008.1.1"
IMPLICIT_VR_LITTLE_ENDIAN = "1.2.840.10008.1.2"
# A UUID-derived UID (root 2.25, PS3.5 annex B.2) needs no registered organisation root. It is fixed so that PACS
# logs show one implementation for every workstation.
IMPLEMENTATION_CLASS_UID = "2.25.336187692530553645017883236086944983839"
IMPLEMENTATION_VERSION = "MEDIMAGING_ECHO1"
MAX_PDU = 16384
_QUICKACK = getattr(socket, "TCP_QUICKACK", None)
CONTEXT_ID = 1

# PDU types (PS3.8 section 9.3)
A_ASSOCIATE_RQ = 1
A_ASSOCIATE_AC = 2
A_ASSOCIATE_RJ = 3
P_DATA_TF = 4
A_RELEASE_RQ = 5
A_RELEASE_RP = 6
A_ABORT = 7

# PS3.8 section 9.3.4, table 9-21: reason texts per source.
REJECT_REASONS = {
    1: {1: "no reason given", 2: "application context name not supported", 3: "calling AE title not recognized",
        7: "called AE title not recognized"},
    2: {1: "no reason given", 2: "protocol version not supported"},
    3: {0: "reserved", 1: "temporary congestion", 2: "local limit exceeded"},
}
REJECT_SOURCES = {1: "the PACS application", 2: "the PACS's DICOM layer (ACSE)",
                  3: "the PACS's DICOM layer (presentation)"}
CONTEXT_RESULTS = {1: "user rejection", 2: "no reason", 3: "abstract syntax (Verification) not supported",
                   4: "transfer syntax (Implicit VR Little Endian) not supported"}
ABORT_REASONS = {0: "reason not specified", 1: "unrecognized PDU", 2: "unexpected PDU", 4: "unrecognized PDU parameter",
                 5: "unexpected PDU parameter", 6: "invalid PDU parameter value"}


class EchoError(Exception):
    """Ends the check with a status word and a sentence."""

    def __init__(self, status: str, msg: str, **extra) -> None:
        super().__init__(msg)
        self.status = status
        self.msg = msg
        self.extra = extra


def _ae(title: str) -> bytes:
    # AE titles travel as 16 bytes padded with spaces (PS3.8 9.3.2).
    return title.encode("ascii").ljust(16, b" ")


def _uid(uid: str) -> bytes:
    return uid.encode("ascii")


def _item(item_type: int, payload: bytes) -> bytes:
    return struct.pack(">BBH", item_type, 0, len(payload)) + payload


def associate_rq(called: str, calling: str) -> bytes:
    """A-ASSOCIATE-RQ proposing Verification with Implicit VR Little Endian only."""
    context = struct.pack(">BBBB", CONTEXT_ID, 0, 0, 0) + _item(0x30, _uid(VERIFICATION_SOP_CLASS)) \
        + _item(0x40, _uid(IMPLICIT_VR_LITTLE_ENDIAN))
    user_info = _item(0x51, struct.pack(">I", MAX_PDU)) + _item(0x52, _uid(IMPLEMENTATION_CLASS_UID)) \
        + _item(0x55, IMPLEMENTATION_VERSION.encode("ascii"))
    body = struct.pack(">HH", 1, 0) + _ae(called) + _ae(calling) + b"\0" * 32 \
        + _item(0x10, _uid(APPLICATION_CONTEXT)) + _item(0x20, context) + _item(0x50, user_info)
    return struct.pack(">BBI", A_ASSOCIATE_RQ, 0, len(body)) + body


def _element(group: int, element: int, value: bytes) -> bytes:
    return struct.pack("<HHI", group, element, len(value)) + value


def _ui_value(uid: str) -> bytes:
    data = uid.encode("ascii")
    # UI values are padded to even length with NUL (PS3.5 9.1).
    return data + b"\0" if len(data) % 2 else data


def echo_rq_command(message_id: int) -> bytes:
    """C-ECHO-RQ command set, implicit VR little endian (command sets always are)."""
    elements = _element(0x0000, 0x0002, _ui_value(VERIFICATION_SOP_CLASS)) \
        + _element(0x0000, 0x0100, struct.pack("<H", 0x0030)) \
        + _element(0x0000, 0x0110, struct.pack("<H", message_id)) \
        + _element(0x0000, 0x0800, struct.pack("<H", 0x0101))
    return _element(0x0000, 0x0000, struct.pack("<I", len(elements))) + elements


def p_data(context_id: int, command: bytes) -> bytes:
    """One P-DATA-TF with one PDV: a complete (last) command fragment."""
    pdv = struct.pack(">B", context_id) + b"\x03" + command
    body = struct.pack(">I", len(pdv)) + pdv
    return struct.pack(">BBI", P_DATA_TF, 0, len(body)) + body


def release_rq() -> bytes:
    return struct.pack(">BBII", A_RELEASE_RQ, 0, 4, 0)


def parse_command(data: bytes) -> dict:
    """Command set elements (implicit VR little endian) as {(group, element): raw bytes}."""
    found = {}
    pos = 0
    while pos + 8 <= len(data):
        group, element, length = struct.unpack_from("<HHI", data, pos)
        pos += 8
        if length == 0xFFFFFFFF or pos + length > len(data):
            raise EchoError("failed", "the PACS sent a malformed command set")
        found[(group, element)] = data[pos:pos + length]
        pos += length
    return found


def _us(found: dict, element: int) -> int | None:
    raw = found.get((0x0000, element))
    return struct.unpack("<H", raw[:2])[0] if raw is not None and len(raw) >= 2 else None


def parse_associate_ac(body: bytes) -> tuple[int | None, str | None]:
    """Result of our presentation context and its transfer syntax, from an A-ASSOCIATE-AC body."""
    pos = 68  # protocol version, reserved, called/calling AE echoes, 32 reserved bytes
    result, syntax = None, None
    while pos + 4 <= len(body):
        item_type, _reserved, length = struct.unpack_from(">BBH", body, pos)
        payload = body[pos + 4:pos + 4 + length]
        if item_type == 0x21 and len(payload) >= 4 and payload[0] == CONTEXT_ID:
            result = payload[2]
            sub = payload[4:]
            if len(sub) >= 4 and sub[0] == 0x40:
                sub_len = struct.unpack_from(">H", sub, 2)[0]
                syntax = sub[4:4 + sub_len].rstrip(b"\0 ").decode("ascii", "replace")
        pos += 4 + length
    return result, syntax


class Association:
    """The few PDUs of one verification association over a blocking socket."""

    def __init__(self, sock: socket.socket, label: str, timeout: float, calling: str) -> None:
        self.sock = sock
        self.label = label
        self.timeout = timeout
        self.calling = calling

    def _recv_exact(self, count: int, waiting_for: str) -> bytes:
        chunks = []
        while count:
            if _QUICKACK is not None:
                # The PACS may send a response in two writes; with delayed ACKs here and Nagle there, the second
                # waits ~40 ms for our ACK, which would be measured as PACS latency. Linux resets this after each ACK.
                self.sock.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)
            try:
                chunk = self.sock.recv(min(count, 65536))
            except socket.timeout:  # noqa: UP041 - not an alias of TimeoutError before Python 3.10
                raise EchoError("no-response" if waiting_for == "the C-ECHO response" else "timeout",
                                "%s did not send %s within %g s" % (self.label, waiting_for, self.timeout)) from None
            except OSError as exc:
                raise EchoError("aborted", "%s closed the connection while this host waited for %s (%s)"
                                % (self.label, waiting_for, exc.strerror or exc)) from None
            if not chunk:
                raise EchoError("aborted", "%s closed the connection while this host waited for %s"
                                % (self.label, waiting_for))
            chunks.append(chunk)
            count -= len(chunk)
        return b"".join(chunks)

    def read_pdu(self, waiting_for: str) -> tuple[int, bytes]:
        header = self._recv_exact(6, waiting_for)
        pdu_type, _reserved, length = struct.unpack(">BBI", header)
        if pdu_type not in range(1, 8) or length > 16 * 1024 * 1024:
            raise EchoError("failed", "%s answered something that is not DICOM (first bytes %r); is this an HTTP or "
                            "TLS port?" % (self.label, header))
        body = self._recv_exact(length, waiting_for)
        if pdu_type == A_ABORT:
            source = body[2] if len(body) > 2 else 0
            reason = body[3] if len(body) > 3 else 0
            why = "by the PACS's DICOM layer, " + ABORT_REASONS.get(reason, "reason %d" % reason) if source == 2 \
                else "by the PACS application"
            hint = ""
            if source == 0 and waiting_for == "the C-ECHO response":
                hint = "; some PACS (Orthanc among them) do this when they do not know the calling AE title %s" \
                    % self.calling
            raise EchoError("aborted", "%s aborted the association while this host waited for %s (%s; A-ABORT "
                            "source %d, reason %d)%s" % (self.label, waiting_for, why, source, reason, hint))
        return pdu_type, body

    def send(self, data: bytes) -> None:
        try:
            self.sock.sendall(data)
        except OSError as exc:
            raise EchoError("aborted", "%s closed the connection (%s)" % (self.label, exc.strerror or exc)) from None


def _connect(host: str, port: int, timeout: float, label: str) -> socket.socket:
    try:
        return socket.create_connection((host, port), timeout=timeout)
    except socket.timeout:  # noqa: UP041 - not an alias of TimeoutError before Python 3.10
        raise EchoError("timeout", "no TCP connection to %s within %g s (host down, port filtered or wrong address)"
                        % (label, timeout)) from None
    except ConnectionRefusedError:
        raise EchoError("refused", "connection refused by %s: nothing listens on port %d (wrong port, or the PACS "
                        "is stopped)" % (label, port)) from None
    except socket.gaierror as exc:
        raise EchoError("unreachable", "cannot resolve %s from this host: %s" % (host, exc.strerror or exc)) from None
    except OSError as exc:
        raise EchoError("unreachable", "cannot reach %s: %s" % (label, exc.strerror or exc)) from None


def echo(host: str, port: int, called: str, calling: str, timeout: float = 10.0) -> dict:
    """Run one verification association; returns status, msg, dimse_status, reject, latency_ms and elapsed_ms."""
    label = "%s@%s:%d" % (called, host, port)
    started = time.monotonic()
    result = {"status": "success", "dimse_status": None, "reject": None, "latency_ms": None}
    sock = None
    try:
        sock = _connect(host, port, timeout, label)
        assoc = Association(sock, label, timeout, calling)
        assoc.send(associate_rq(called, calling))
        pdu_type, body = assoc.read_pdu("an answer to the association request")
        if pdu_type == A_ASSOCIATE_RJ:
            res, source, reason = (body[1], body[2], body[3]) if len(body) >= 4 else (0, 0, 0)
            text = REJECT_REASONS.get(source, {}).get(reason, "reason %d" % reason)
            result["reject"] = {"result": res, "source": source, "reason": reason, "text": text}
            subject = {3: " (%s)" % calling, 7: " (%s)" % called}.get(reason, "") if source == 1 else ""
            raise EchoError("rejected", "%s rejected the association: %s%s; %s, decided by %s" % (
                label, text, subject, {1: "permanent", 2: "transient"}.get(res, "result %d" % res),
                REJECT_SOURCES.get(source, "source %d" % source)))
        if pdu_type != A_ASSOCIATE_AC:
            raise EchoError("failed", "%s answered the association request with PDU type %d" % (label, pdu_type))
        context_result, syntax = parse_associate_ac(body)
        if context_result != 0:
            assoc.send(release_rq())
            raise EchoError("rejected", "%s accepted the association but not the Verification service: %s" % (
                label, CONTEXT_RESULTS.get(context_result, "no answer for the proposed context")))
        if syntax not in (None, IMPLICIT_VR_LITTLE_ENDIAN):
            raise EchoError("failed", "%s accepted the Verification service with transfer syntax %s, which was not "
                            "proposed" % (label, syntax))
        sent = time.monotonic()
        assoc.send(p_data(CONTEXT_ID, echo_rq_command(1)))
        command = b""
        while True:
            pdu_type, body = assoc.read_pdu("the C-ECHO response")
            if pdu_type != P_DATA_TF:
                raise EchoError("failed", "%s sent PDU type %d instead of the C-ECHO response" % (label, pdu_type))
            pos, last = 0, False
            while pos + 6 <= len(body):
                length = struct.unpack_from(">I", body, pos)[0]
                control = body[pos + 5]
                # Bit 0 marks command fragments (a C-ECHO has no data set), bit 1 the last fragment.
                if control & 0x01:
                    command += body[pos + 6:pos + 4 + length]
                    last = last or bool(control & 0x02)
                pos += 4 + length
            if last:
                break
        result["latency_ms"] = round((time.monotonic() - sent) * 1000, 1)
        found = parse_command(command)
        field, status = _us(found, 0x0100), _us(found, 0x0900)
        if field != 0x8030 or status is None:
            raise EchoError("failed", "%s answered the C-ECHO with an unexpected message (command field %s)"
                            % (label, "none" if field is None else "0x%04X" % field))
        result["dimse_status"] = status
        if status != 0:
            raise EchoError("failed", "%s answered the C-ECHO with status 0x%04X instead of success (0x0000)"
                            % (label, status), dimse_status=status)
        assoc.send(release_rq())
        try:
            # A PACS that drops the connection instead of answering the release still passed the echo.
            assoc.read_pdu("the release response")
        except EchoError:
            pass
        result["msg"] = "%s answered the C-ECHO from %s: success" % (label, calling)
    except EchoError as exc:
        result.update(status=exc.status, msg=exc.msg, **exc.extra)
    finally:
        if sock is not None:
            sock.close()
    result["elapsed_ms"] = round((time.monotonic() - started) * 1000, 1)
    return result


def _ae_problem(title: str) -> str | None:
    if not 1 <= len(title) <= 16 or title.strip(" ") == "":
        return "1 to 16 characters, not only spaces"
    if any(not (" " <= ch <= "~") or ch == "\\" for ch in title):
        return "printable ASCII characters without backslash"
    return None


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "host": {"type": "str", "required": True},
            "port": {"type": "int", "required": True},
            "called_ae_title": {"type": "str", "required": True},
            "calling_ae_title": {"type": "str", "required": True},
            "timeout": {"type": "float", "default": 10.0},
        },
        supports_check_mode=True,
    )
    params = module.params
    for name in ("called_ae_title", "calling_ae_title"):
        problem = _ae_problem(params[name])
        if problem:
            module.fail_json(msg="%s: got %r; allowed: %s" % (name, params[name], problem))
    if not 0 < params["port"] < 65536:
        module.fail_json(msg="port: got %r; allowed: 1 to 65535" % params["port"])
    if params["timeout"] <= 0:
        module.fail_json(msg="timeout: got %r; allowed: a positive number of seconds" % params["timeout"])
    result = echo(params["host"], params["port"], params["called_ae_title"], params["calling_ae_title"],
                  params["timeout"])
    result.update(called_ae_title=params["called_ae_title"], calling_ae_title=params["calling_ae_title"],
                  changed=False)
    if result["status"] != "success":
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
