"""The example inventories load with pyinfra's own loader and give the roles the README describes."""

from __future__ import annotations

from pyinfra.api import Config, State
from pyinfra.context import ctx_state
from pyinfra_cli.inventory import make_inventory

from louieops import placement, topology
from louieops.resources import REPO_ROOT
from louieops.settings import for_host


def load(name: str):
    """The inventory as the pyinfra CLI builds it (group data from inventory/group_data included)."""
    with ctx_state.use(State(config=Config())):
        return make_inventory(str(REPO_ROOT / "inventory" / name), cwd=str(REPO_ROOT / "inventory"))


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
