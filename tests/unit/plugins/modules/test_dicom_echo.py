# Copyright: contributors to medimaging.starviewer
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""dicom_echo: PDU bytes checked field by field against PS3.8/PS3.7, and every failure path against a scripted peer.

The real association is proven against Orthanc in tests/integration/test_verify.py; the peers here produce the
answers a real PACS rarely gives on demand (silence, abort, odd statuses). They listen on 127.0.0.1 only.
"""

from __future__ import annotations

import socket
import struct
import threading

import pytest

from ansible_collections.medimaging.starviewer.plugins.modules import dicom_echo as de


def _items(data: bytes) -> list[tuple[int, bytes]]:
    """(type, payload) of consecutive PS3.8 items (type, reserved, 2-byte length)."""
    found, pos = [], 0
    while pos < len(data):
        item_type, _reserved, length = struct.unpack_from(">BBH", data, pos)
        found.append((item_type, data[pos + 4:pos + 4 + length]))
        pos += 4 + length
    assert pos == len(data), "item lengths do not add up"
    return found


def test_associate_rq_layout():
    pdu = de.associate_rq("PACS1", "RADWS042")
    pdu_type, reserved, length = struct.unpack_from(">BBI", pdu)
    assert (pdu_type, reserved, length) == (1, 0, len(pdu) - 6)
    body = pdu[6:]
    assert struct.unpack_from(">HH", body) == (1, 0)  # protocol version 1
    assert body[4:20] == b"PACS1           "
    assert body[20:36] == b"RADWS042        "
    assert body[36:68] == b"\0" * 32
    items = _items(body[68:])
    assert [t for t, _value in items] == [0x10, 0x20, 0x50]
    assert items[0][1] == b"1.2.840.10008.3.1.1.1"
    context = items[1][1]
    assert context[0] == 1 and context[0] % 2 == 1  # presentation context IDs are odd
    sub = _items(context[4:])
    assert sub == [(0x30, b"1.2.840.10008.1.1"), (0x40, b"1.2.840.10008.1.2")]
    user = dict(_items(items[2][1]))
    assert struct.unpack(">I", user[0x51]) == (16384,)
    assert user[0x52].startswith(b"2.25.") and len(user[0x52]) <= 64
    assert 0 < len(user[0x55]) <= 16


def test_echo_rq_command_is_implicit_vr_little_endian_with_group_length():
    command = de.echo_rq_command(7)
    found = de.parse_command(command)
    assert list(found) == [(0, 0x0000), (0, 0x0002), (0, 0x0100), (0, 0x0110), (0, 0x0800)]
    assert struct.unpack("<I", found[(0, 0)]) == (len(command) - 12,)
    assert found[(0, 0x0002)] == b"1.2.840.10008.1.1\0"  # UI padded to even length with NUL
    assert struct.unpack("<H", found[(0, 0x0100)]) == (0x0030,)  # C-ECHO-RQ
    assert struct.unpack("<H", found[(0, 0x0110)]) == (7,)
    assert struct.unpack("<H", found[(0, 0x0800)]) == (0x0101,)  # no data set


def test_p_data_wraps_one_last_command_fragment():
    pdu = de.p_data(1, b"abcd")
    assert pdu == b"\x04\x00" + struct.pack(">I", 10) + struct.pack(">I", 6) + b"\x01\x03abcd"


# ---------------------------------------------------------------------------------------------------------------
# Scripted peers
# ---------------------------------------------------------------------------------------------------------------


def _pdu(pdu_type: int, body: bytes) -> bytes:
    return struct.pack(">BBI", pdu_type, 0, len(body)) + body


def _read_pdu(conn: socket.socket) -> tuple[int, bytes]:
    header = b""
    while len(header) < 6:
        chunk = conn.recv(6 - len(header))
        if not chunk:
            raise ConnectionError("closed")
        header += chunk
    pdu_type, _r, length = struct.unpack(">BBI", header)
    body = b""
    while len(body) < length:
        body += conn.recv(length - len(body))
    return pdu_type, body


def _associate_ac(context_result: int = 0, syntax: bytes = b"1.2.840.10008.1.2") -> bytes:
    context = struct.pack(">BBBB", 1, 0, context_result, 0) + struct.pack(">BBH", 0x40, 0, len(syntax)) + syntax
    body = struct.pack(">HH", 1, 0) + b"PACS1".ljust(16) + b"CALLER".ljust(16) + b"\0" * 32
    body += struct.pack(">BBH", 0x10, 0, 21) + b"1.2.840.10008.3.1.1.1"
    body += struct.pack(">BBH", 0x21, 0, len(context)) + context
    return _pdu(2, body)


def _echo_rsp(status: int, split: bool = False) -> list[bytes]:
    elements = de._element(0, 0x0002, de._ui_value(de.VERIFICATION_SOP_CLASS)) \
        + de._element(0, 0x0100, struct.pack("<H", 0x8030)) \
        + de._element(0, 0x0120, struct.pack("<H", 1)) \
        + de._element(0, 0x0800, struct.pack("<H", 0x0101)) \
        + de._element(0, 0x0900, struct.pack("<H", status))
    command = de._element(0, 0, struct.pack("<I", len(elements))) + elements
    if not split:
        return [_pdu(4, struct.pack(">I", len(command) + 2) + b"\x01\x03" + command)]
    # Two P-DATA-TF: a first fragment, then the last one.
    half = len(command) // 2
    return [_pdu(4, struct.pack(">I", half + 2) + b"\x01\x01" + command[:half]),
            _pdu(4, struct.pack(">I", len(command) - half + 2) + b"\x01\x03" + command[half:])]


class Peer:
    """A one-connection TCP peer on 127.0.0.1 following a script of replies."""

    def __init__(self, script):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.port = self.sock.getsockname()[1]
        self.received: list[tuple[int, bytes]] = []
        self.script = script
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        conn, _address = self.sock.accept()
        try:
            self.script(self, conn)
        except (ConnectionError, OSError):
            pass
        finally:
            self.done.wait(5)
            conn.close()

    def read(self, conn):
        pdu = _read_pdu(conn)
        self.received.append(pdu)
        return pdu

    def close(self):
        self.done.set()
        self.thread.join(5)
        self.sock.close()


@pytest.fixture
def peer():
    peers = []

    def start(script):
        peers.append(Peer(script))
        return peers[-1]

    yield start
    for p in peers:
        p.close()


def _echo(port: int, timeout: float = 2.0) -> dict:
    return de.echo("127.0.0.1", port, "PACS1", "CALLER", timeout)


def test_success_with_fragmented_response_and_release(peer):
    def script(p, conn):
        p.read(conn)
        conn.sendall(_associate_ac())
        p.read(conn)
        for part in _echo_rsp(0, split=True):
            conn.sendall(part)
        p.read(conn)
        conn.sendall(_pdu(6, b"\0" * 4))

    p = peer(script)
    result = _echo(p.port)
    assert result["status"] == "success", result
    assert result["dimse_status"] == 0
    assert result["latency_ms"] is not None and result["elapsed_ms"] >= result["latency_ms"]
    assert "success" in result["msg"] and "CALLER" in result["msg"]
    assert [t for t, _data in p.received] == [1, 4, 5]  # A-ASSOCIATE-RQ, P-DATA-TF, A-RELEASE-RQ


@pytest.mark.parametrize(("source", "reason", "text"), [
    (1, 3, "calling AE title not recognized (CALLER)"),
    (1, 7, "called AE title not recognized (PACS1)"),
    (2, 2, "protocol version not supported"),
    (3, 1, "temporary congestion"),
])
def test_rejection_reason_is_named(peer, source, reason, text):
    def script(p, conn):
        p.read(conn)
        conn.sendall(_pdu(3, bytes([0, 1, source, reason])))

    result = _echo(peer(script).port)
    assert result["status"] == "rejected"
    assert result["reject"] == {"result": 1, "source": source, "reason": reason, "text": text.split(" (")[0]}
    assert text in result["msg"] and "permanent" in result["msg"]


def test_verification_not_supported(peer):
    def script(p, conn):
        p.read(conn)
        conn.sendall(_associate_ac(context_result=3))
        p.read(conn)

    result = _echo(peer(script).port)
    assert result["status"] == "rejected"
    assert "not the Verification service: abstract syntax (Verification) not supported" in result["msg"]


def test_transfer_syntax_that_was_not_proposed(peer):
    def script(p, conn):
        p.read(conn)
        conn.sendall(_associate_ac(syntax=b"1.2.840.10008.1.2.1\0"))

    result = _echo(peer(script).port)
    assert result["status"] == "failed"
    assert "transfer syntax 1.2.840.10008.1.2.1, which was not proposed" in result["msg"]


def test_no_answer_to_the_association_is_a_timeout(peer):
    def script(p, conn):
        p.read(conn)
        p.done.wait(5)

    result = _echo(peer(script).port, timeout=0.5)
    assert result["status"] == "timeout"
    assert "did not send an answer to the association request within 0.5 s" in result["msg"]


def test_no_echo_response(peer):
    def script(p, conn):
        p.read(conn)
        conn.sendall(_associate_ac())
        p.read(conn)
        p.done.wait(5)

    result = _echo(peer(script).port, timeout=0.5)
    assert result["status"] == "no-response"
    assert "did not send the C-ECHO response within 0.5 s" in result["msg"]
    assert result["dimse_status"] is None and result["latency_ms"] is None


def test_abort_while_waiting_for_the_echo(peer):
    # Orthanc 1.10 does this when it refuses only the echo (DicomAlwaysAllowEcho false, another AlwaysAllow true).
    def script(p, conn):
        p.read(conn)
        conn.sendall(_associate_ac())
        p.read(conn)
        conn.sendall(_pdu(7, bytes([0, 0, 0, 0])))

    result = _echo(peer(script).port)
    assert result["status"] == "aborted"
    assert "A-ABORT source 0" in result["msg"] and "calling AE title" in result["msg"]


def test_connection_closed_without_answer(peer):
    def script(p, conn):
        p.read(conn)
        conn.close()

    assert _echo(peer(script).port)["status"] == "aborted"


def test_failure_status_in_the_response(peer):
    def script(p, conn):
        p.read(conn)
        conn.sendall(_associate_ac())
        p.read(conn)
        for part in _echo_rsp(0x0122):
            conn.sendall(part)

    result = _echo(peer(script).port)
    assert result["status"] == "failed"
    assert result["dimse_status"] == 0x0122
    assert "0x0122" in result["msg"]


def test_http_port_is_recognised(peer):
    def script(p, conn):
        conn.recv(100)
        conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")

    result = _echo(peer(script).port)
    assert result["status"] == "failed"
    assert "not DICOM" in result["msg"] and "HTTP" in result["msg"]


def test_connection_refused():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # bound then closed: nothing listens there
    result = _echo(port)
    assert result["status"] == "refused"
    assert "connection refused" in result["msg"] and str(port) in result["msg"]
