# Copyright: contributors to medimaging.starviewer
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""port_owner against real sockets of this test process (/proc/net/tcp{,6} and /proc/*/fd of the running kernel)."""

from __future__ import annotations

import os
import socket
import sys

import pytest

from ansible_collections.medimaging.starviewer.plugins.modules import port_owner as po

pytestmark = pytest.mark.skipif(not os.path.exists("/proc/net/tcp"), reason="needs Linux /proc")


@pytest.fixture
def listener():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)
    yield sock.getsockname()[1]
    sock.close()


def test_address_decoding():
    assert po._address("0100007F") == "127.0.0.1"
    assert po._address("00000000") == "0.0.0.0"
    assert po._address("00000000000000000000000001000000") == "::1"
    assert po._address("00000000000000000000000000000000") == "::"


def test_finds_this_process_as_the_holder(listener):
    inodes = po.listening_inodes(listener)
    assert list(inodes.values()) == ["127.0.0.1"]
    holders = po.holders(set(inodes))
    assert [h["pid"] for h in holders] == [os.getpid()]
    assert holders[0]["exe"] == os.path.realpath(sys.executable)
    result = po.describe(listener, ["starviewer"], list(inodes.values()), holders)
    assert result["listening"] and not result["hidden"]
    assert result["owned"] is False
    assert "is held by %s (pid %d" % (holders[0]["name"], os.getpid()) in result["msg"]
    name = holders[0]["name"][:6].upper()  # compared case-insensitively, by prefix
    assert po.describe(listener, [name], list(inodes.values()), holders)["owned"] is True


def test_connected_sockets_do_not_count(listener):
    client = socket.create_connection(("127.0.0.1", listener))
    try:
        # The client's ephemeral port is ESTABLISHED, not LISTEN.
        assert po.listening_inodes(client.getsockname()[1]) == {}
    finally:
        client.close()


def test_free_port():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    assert po.listening_inodes(port) == {}
    result = po.describe(port, ["starviewer"], [], [])
    assert result == {"listening": False, "addresses": [], "processes": [], "hidden": False, "owned": True,
                      "msg": "port %d is free" % port}


def test_ipv6_listener():
    if not socket.has_ipv6:
        pytest.skip("no IPv6 in this kernel")
    sock = socket.socket(socket.AF_INET6)
    try:
        sock.bind(("::1", 0))
    except OSError:
        sock.close()
        pytest.skip("::1 not configured")
    sock.listen(1)
    try:
        assert list(po.listening_inodes(sock.getsockname()[1]).values()) == ["::1"]
    finally:
        sock.close()


def test_hidden_holder_is_not_owned():
    result = po.describe(4006, ["starviewer"], ["0.0.0.0"], [])
    assert result["hidden"] and not result["owned"]
    assert "cannot see" in result["msg"]
