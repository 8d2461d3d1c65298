"""Rolling releases (louieops/rollout.py): one app host at a time, and none once another app host failed."""

from __future__ import annotations

import pytest
from pyinfra.api import Config, State
from pyinfra.api.operation import OperationMeta

from louieops import rollout
from louieops.settings import defaults
from tests.unit.planning import FIVE, Cluster, cluster

LB, APP1, APP2, DB, STANDBY = FIVE


def hosts_of(planned: Cluster):
    inventory = planned.inventory(defaults.load())
    State(inventory, Config())  # gives each host its state
    return {name: inventory.get_host(name) for name in planned.hosts}


def release_op(outcome: bool | None) -> OperationMeta:
    """A release operation that succeeded (True), failed (False) or has not run (None)."""
    meta = OperationMeta("hash", is_change=True)
    if outcome is not None:
        meta.set_complete(outcome, ["louie-release deploy"], [], 0, 0)
    return meta


def test_several_app_hosts_release_one_at_a_time():
    hosts = hosts_of(cluster("app1"))
    arguments = rollout.arguments(hosts[APP1])
    assert arguments["_serial"] is True and arguments["_if"]()


def test_a_host_whose_release_failed_stops_the_roll_out_for_the_others():
    hosts = hosts_of(cluster("app1"))
    rollout.track(hosts[APP1], release_op(False))
    rollout.track(hosts[APP2], release_op(None))
    assert rollout.failed_elsewhere(hosts[APP2]) == [APP1]
    assert rollout.arguments(hosts[APP2])["_if"]() is False
    assert rollout.arguments(hosts[APP1])["_if"]() is True  # app1 itself: its own failure is louie-release's


def test_a_host_that_released_fine_lets_the_next_one_go_and_the_callers_condition_still_counts():
    hosts = hosts_of(cluster("app2"))
    rollout.track(hosts[APP1], release_op(True))
    assert rollout.arguments(hosts[APP2])["_if"]()
    assert rollout.arguments(hosts[APP2], also=lambda: False)["_if"]() is False


def test_a_host_that_failed_earlier_in_the_deploy_stops_the_roll_out_too():
    hosts = hosts_of(cluster("app2"))
    hosts[APP1].state.failed_hosts.add(hosts[APP1])
    assert rollout.failed_elsewhere(hosts[APP2]) == [APP1]


def test_one_app_host_releases_as_before():
    one = Cluster((LB, APP1, DB), {"lb": (LB,), "app": (APP1,), "db": (DB,)}, APP1)
    host = hosts_of(one)[APP1]
    assert rollout.arguments(host) == {}
    condition = lambda: True  # noqa: E731
    assert rollout.arguments(host, also=condition) == {"_if": condition}


def test_the_controllers_rollback_runs_on_the_app_hosts_one_at_a_time_with_several_servers():
    from louieops.cli import rollback
    from louieops.resources import REPO_ROOT

    several = str(REPO_ROOT / "inventory" / "multihost.py")
    single = str(REPO_ROOT / "inventory" / "production.py")
    assert rollback.has_app_group(several) and not rollback.has_app_group(single)
    argv = rollback.command(several, None, app_group=True)
    assert argv[1:5] == ["-y", "--limit", "app", "--serial"] and argv[-3:] == [
        "sudo",
        rollback.LOUIE_RELEASE,
        "rollback",
    ]
    assert "--limit" not in rollback.command(single, None)


def test_the_controllers_views_run_the_servers_own_commands_on_the_right_hosts(monkeypatch):
    from louieops import layout
    from louieops.cli import remote, rollback
    from louieops.resources import REPO_ROOT

    several = str(REPO_ROOT / "inventory" / "multihost.py")
    single = str(REPO_ROOT / "inventory" / "production.py")
    ran = []
    monkeypatch.setattr(remote, "run", lambda line: ran.append(line) or 0)
    rollback.releases(several, None)
    rollback.details(several, "203.0.113.12")
    rollback.releases(single, None)
    assert ran[0][2:4] == ["--limit", "app"] and ran[0][-3:] == ["sudo", layout.RELEASE_COMMAND, "list"]
    assert ran[1][2:4] == ["--limit", "203.0.113.12"] and ran[1][-2:] == ["sudo", layout.STATUS_COMMAND]
    assert "--limit" not in ran[2]
    with pytest.raises(remote.AdminError, match=r"has no host '10.0.0.5' \(its hosts: 203.0.113.10, "):
        rollback.details(several, "10.0.0.5")  # a host the inventory does not have: one line, nothing run
    assert len(ran) == 3
