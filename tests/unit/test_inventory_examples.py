"""The example inventories load with pyinfra's own loader and give the roles the README describes."""

from __future__ import annotations

import pickle
import subprocess
import sys

from pyinfra.api import Inventory

from louieops import placement, topology
from louieops.resources import REPO_ROOT
from louieops.settings import for_host

#: Builds the inventory with the pyinfra CLI's own loader in a child process (importing pyinfra_cli
#: monkey-patches this whole process with gevent, which breaks later tests' TLS), and sends back each host's
#: merged data and groups.
CLI_LOADER = """
import pickle, sys
from pyinfra.api import Config, State
from pyinfra.context import ctx_state
from pyinfra_cli.inventory import make_inventory
with ctx_state.use(State(config=Config())):
    inventory = make_inventory(sys.argv[1], cwd=sys.argv[2])
hosts = [(host.name, host.data.dict(), list(host.groups)) for host in inventory]
sys.stdout.buffer.write(pickle.dumps(hosts))
"""


def load(name: str) -> Inventory:
    """The inventory as the pyinfra CLI builds it (group data from inventory/group_data included)."""
    inventory_dir = REPO_ROOT / "inventory"
    run = subprocess.run(
        [sys.executable, "-c", CLI_LOADER, str(inventory_dir / name), str(inventory_dir)],
        capture_output=True,
        check=True,
    )
    hosts = pickle.loads(run.stdout)
    groups: dict[str, tuple[list[str], dict]] = {}
    for host_name, _, member_of in hosts:
        for group in member_of:
            groups.setdefault(group, ([], {}))[0].append(host_name)
    return Inventory(([(host_name, data) for host_name, data, _ in hosts], {}), **groups)


def test_the_multihost_example_is_an_lb_two_app_hosts_a_primary_and_a_standby():
    inventory = load("multihost.py")
    host = inventory.get_host("203.0.113.11")
    topo = topology.of(host)
    assert [(m.name, sorted(m.roles)) for m in topo.members] == [
        ("203.0.113.10", ["lb"]),
        ("203.0.113.11", ["app"]),
        ("203.0.113.12", ["app"]),
        ("203.0.113.13", ["db"]),
        ("203.0.113.14", ["db_standby"]),
    ]
    assert topo.upstreams() == ["10.0.0.11", "10.0.0.12"]
    assert topo.database_address(topo.member("203.0.113.11")) == "10.0.0.13"
    s = for_host(host)
    assert s.cluster_name == "simplylouie" and s.private_address == "10.0.0.11"
    placement.check(host)  # a bucket and a cluster name: nothing missing


def test_the_single_server_example_is_one_host_with_every_role_but_the_standby():
    inventory = load("production.py")
    (host,) = list(inventory)
    assert topology.me(host).roles == {"db", "app", "lb"}
    assert placement.of(host) is placement.SINGLE
