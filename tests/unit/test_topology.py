"""Roles from the inventory's groups (louieops/topology.py): what a good inventory derives, and the one line a
bad one stops with, naming the group and the fix."""

from __future__ import annotations

import pytest
from pyinfra.api import Inventory

from louieops import topology
from louieops.topology import TopologyError, from_groups

LB, APP1, APP2, DB, STANDBY = "10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5"
FIVE = [(LB, None), (APP1, None), (APP2, None), (DB, None), (STANDBY, None)]
ROLES = {"lb": [LB], "app": [APP1, APP2], "db": [DB], "db_standby": [STANDBY]}


def five():
    return from_groups(FIVE, ROLES)


def test_the_single_server_inventory_is_one_host_in_every_group_but_the_standby():
    topo = from_groups([("203.0.113.10", None)], {})
    (only,) = topo.members
    assert only.roles == {"db", "app", "lb"} and topo.single_server
    assert topo.upstreams() == ["127.0.0.1"]
    assert topo.database_address(only) == "127.0.0.1" and not topo.database_over_tls(only)
    assert topo.postgresql_listen(only) == ["localhost"]
    assert topo.inbound(only, 3000) == [(80, []), (443, [])]  # plus SSH: exactly what one server opened before


def test_roles_come_from_the_groups_in_inventory_order():
    topo = five()
    assert topo.db.name == DB and topo.standby.name == STANDBY and topo.lb.name == LB
    assert [m.name for m in topo.apps] == [APP1, APP2]
    assert topo.member(APP1).roles == {"app"}


def test_the_app_reaches_the_db_hosts_private_address_over_tls_and_nginx_the_app_hosts():
    topo = five()
    app1 = topo.member(APP1)
    assert topo.database_address(app1) == DB and topo.database_over_tls(app1)
    assert topo.upstreams() == [APP1, APP2]
    assert topo.app_address(app1) == APP1


def test_postgresql_listens_on_its_private_address_only_when_another_host_connects():
    topo = five()
    assert topo.postgresql_listen(topo.db) == ["localhost", DB]
    assert topo.postgresql_listen(topo.standby) == ["localhost", STANDBY]
    # the app on the database host, the lb elsewhere: nobody connects from outside
    together = from_groups([(LB, None), (DB, None)], {"lb": [LB], "app": [DB], "db": [DB]})
    assert together.postgresql_listen(together.db) == ["localhost"]
    assert together.database_address(together.db) == "127.0.0.1"


def test_each_firewall_opens_exactly_what_the_other_roles_use():
    topo = five()
    assert topo.inbound(topo.lb, 3000) == [(80, []), (443, [])]
    assert topo.inbound(topo.member(APP1), 3000) == [(3000, [LB])]
    assert topo.inbound(topo.db, 3000) == [(5432, [APP1, APP2, STANDBY])]
    assert topo.inbound(topo.standby, 3000) == [(5432, [APP1, APP2])]  # readable by the app, ready for a promotion


def test_the_primary_keeps_one_named_replication_slot_per_standby():
    topo = five()
    assert topo.replication_clients(topo.db) == [topo.standby]
    assert topo.replication_clients(topo.standby) == []
    assert topo.replication_slot(topo.standby) == "louieops_10_0_0_5"


def test_a_host_may_hold_several_roles():
    topo = from_groups([(LB, None), (DB, None)], {"lb": [LB], "app": [LB, DB], "db": [DB]})
    assert topo.member(LB).roles == {"lb", "app"}
    # the app on the db host, for the lb; PostgreSQL for the lb's own app
    assert topo.inbound(topo.member(DB), 3000) == [(3000, [LB]), (5432, [LB])]
    assert topo.inbound(topo.member(LB), 3000) == [(80, []), (443, [])]  # its own app: loopback is open


def test_the_private_address_comes_from_host_data_when_the_inventory_name_is_a_public_one():
    hosts = [("web.example.com", "10.1.0.1"), ("db.example.com", "10.1.0.2")]
    topo = from_groups(hosts, {"lb": ["web.example.com"], "app": ["web.example.com"], "db": ["db.example.com"]})
    assert topo.database_address(topo.member("web.example.com")) == "10.1.0.2"


@pytest.mark.parametrize(
    "hosts, groups, message",
    [
        (FIVE, {}, "the inventory has 5 hosts (10.0.0.1, 10.0.0.2, 10.0.0.3, 10.0.0.4, 10.0.0.5) but no role group"),
        (FIVE, {**ROLES, "app": [APP1]}, "host 10.0.0.3 is in no role group: add it to db, db_standby, app or lb"),
        (
            FIVE,
            {**ROLES, "db": [], "app": [APP1, APP2, DB]},
            "group db has no host: put the PostgreSQL primary's host in db (the standby in db_standby follows it)",
        ),
        (FIVE, {**ROLES, "db": [DB, STANDBY], "db_standby": []}, "group db has 2 hosts (10.0.0.4, 10.0.0.5)"),
        (FIVE, {**ROLES, "db_standby": [DB], "app": [APP1, APP2, STANDBY]}, "host 10.0.0.4 is in both db and"),
        (FIVE, {**ROLES, "db_standby": [APP2, STANDBY]}, "group db_standby has 2 hosts"),
        (FIVE, {**ROLES, "app": [], "lb": [LB, APP1, APP2]}, "group app has no host"),
        (FIVE, {**ROLES, "lb": [], "app": [LB, APP1, APP2]}, "group lb has no host"),
        (FIVE, {**ROLES, "lb": [LB, APP1]}, "group lb has 2 hosts (10.0.0.1, 10.0.0.2): one load balancer"),
        (
            [("web.example.com", None), (DB, None)],
            {"lb": ["web.example.com"], "app": ["web.example.com"], "db": [DB]},
            "host web.example.com has no private_address, and is not an IP address: set private_address",
        ),
        (
            [(LB, "10.9.9.9"), (DB, "10.9.9.9")],
            {"lb": [LB], "app": [LB], "db": [DB]},
            "hosts 10.0.0.1 and 10.0.0.4 have the same private address 10.9.9.9",
        ),
    ],
)
def test_a_bad_inventory_stops_with_one_line_naming_the_group_and_the_fix(hosts, groups, message):
    with pytest.raises(TopologyError) as raised:
        from_groups(hosts, groups)
    text = str(raised.value)
    assert message in text and "\n" not in text


def test_the_topology_is_read_from_pyinfras_inventory_with_host_data():
    inventory = Inventory(
        (["web", "data"], {}),
        lb=(["web"], {}),
        app=(["web"], {}),
        db=([("data", {"private_address": "10.2.0.2"})], {}),
        web=([("web", {"private_address": "10.2.0.1"})], {}),
    )
    topo = topology.of(inventory.get_host("web"))
    assert topo.database_address(topo.member("web")) == "10.2.0.2"
    assert topology.me(inventory.get_host("data")).roles == {"db"}
    assert topology.of(inventory.get_host("data")) is topo  # validated once per inventory
