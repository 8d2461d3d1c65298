"""A second client host for the tests: its own network namespace and its own address, routed to one test
server through the controller, so the server sees a client that is neither the controller nor itself.

Slot N gets the /30 ``10.232.N.0``: the controller side is ``10.232.N.1``, the client ``10.232.N.2``. The
client has a route to the test server's address and nothing else: it can reach no other address. Its
namespace and veth carry the testbed's prefixes, so ``cleanup`` removes what an interrupted run leaves.
"""

from __future__ import annotations

import contextlib
import ipaddress
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass

from . import network
from .paths import NETNS_PREFIX, VETH_PREFIX, check_name

CLIENT_BASE = ipaddress.IPv4Address("10.232.0.0")


def client_addresses(slot: int) -> tuple[str, str]:
    """(controller side, client) addresses of the client link of a slot."""
    base = ipaddress.IPv4Address(int(CLIENT_BASE) + slot * 256)
    return str(base + 1), str(base + 2)


def client_netns(name: str) -> str:
    return f"{NETNS_PREFIX}{check_name(name)}-client"


def client_veths(slot: int) -> tuple[str, str]:
    return f"{VETH_PREFIX}{slot}x", f"{VETH_PREFIX}{slot}y"


@dataclass(frozen=True)
class ClientHost:
    """The client namespace of one test server."""

    netns: str
    address: str
    server_address: str

    def run(self, argv: list[str], **kwargs) -> subprocess.CompletedProcess:
        """Run ``argv`` inside the client's namespace (as root, like the harness)."""
        return subprocess.run(["ip", "netns", "exec", self.netns, *argv], **kwargs)


def setup(name: str, slot: int, server_address: str) -> ClientHost:
    ns = client_netns(name)
    host_if, ns_if = client_veths(slot)
    gateway, client = client_addresses(slot)
    network.run(["ip", "netns", "add", ns])
    network.run(["ip", "link", "add", host_if, "type", "veth", "peer", "name", ns_if])
    network.run(["ip", "link", "set", ns_if, "netns", ns])
    network.run(["ip", "addr", "add", f"{gateway}/30", "dev", host_if])
    network.run(["ip", "link", "set", host_if, "up"])
    nsx = ["ip", "-n", ns]
    network.run([*nsx, "link", "set", ns_if, "name", "eth0"])
    network.run([*nsx, "addr", "add", f"{client}/30", "dev", "eth0"])
    network.run([*nsx, "link", "set", "lo", "up"])
    network.run([*nsx, "link", "set", "eth0", "up"])
    network.run([*nsx, "route", "add", f"{server_address}/32", "via", gateway])
    return ClientHost(ns, client, server_address)


def teardown(name: str, slot: int) -> None:
    host_if, _ = client_veths(slot)
    network.run(["ip", "link", "del", host_if], check=False, quiet=True)
    if client_netns(name) in network.list_netns():
        network.run(["ip", "netns", "del", client_netns(name)], check=False)


@contextlib.contextmanager
def client_host(name: str, slot: int, server_address: str) -> Iterator[ClientHost]:
    """A client host for the test server ``name`` (slot ``slot``), removed afterwards."""
    teardown(name, slot)  # the leftovers of an interrupted run
    try:
        yield setup(name, slot, server_address)
    finally:
        teardown(name, slot)
