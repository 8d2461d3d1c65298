"""Pure pieces of the testbed's networking: addresses, slot choice, names, the NAT ruleset."""

from __future__ import annotations

import pytest

from louieops.testbed import network, paths


def test_slot_addresses_are_a_slash_30_per_slot():
    assert network.slot_addresses(0) == ("10.231.0.1", "10.231.0.2", "10.231.0.0/30")
    assert network.slot_addresses(7) == ("10.231.7.1", "10.231.7.2", "10.231.7.0/30")
    assert network.slot_addresses(255) == ("10.231.255.1", "10.231.255.2", "10.231.255.0/30")


@pytest.mark.parametrize("slot", [-1, 256])
def test_slot_out_of_range_names_the_slot(slot):
    with pytest.raises(ValueError, match=f"slot {slot} out of range"):
        network.slot_addresses(slot)


def test_pick_free_slot_skips_taken_and_addresses_in_use():
    assert network.pick_free_slot(set(), set()) == 0
    assert network.pick_free_slot({0, 1}, set()) == 2
    # 10.231.2.1 is configured on some interface (another checkout's leftover): skip it too.
    assert network.pick_free_slot({0, 1}, {"10.231.2.1"}) == 3


def test_pick_free_slot_when_full():
    with pytest.raises(RuntimeError, match="all 256 test server slots are in use"):
        network.pick_free_slot(set(range(256)), set())


def test_veth_names_fit_the_kernel_limit():
    host, container = paths.veth_names(255)
    assert (host, container) == ("lotb255h", "lotb255c")
    assert len(host) <= 15 and len(container) <= 15


@pytest.mark.parametrize("name", ["demo", "e2e-1234", "a", "x" * 32])
def test_valid_names(name):
    assert paths.check_name(name) == name


@pytest.mark.parametrize("name", ["", "Demo", "1abc", "a_b", "a-", "x" * 33, "../etc"])
def test_invalid_names_are_rejected_with_the_name(name):
    with pytest.raises(ValueError, match="invalid test server name"):
        paths.check_name(name)


def test_derived_names():
    assert paths.netns_name("e2e-1") == "lotb-e2e-1"
    assert paths.nft_table_name("e2e-1") == "louieops_tb_e2e_1"


def test_nft_ruleset_masquerades_only_the_instance_subnet():
    rules = network.nft_ruleset("louieops_tb_demo", "10.231.4.0/30", "lotb4h")
    assert rules.startswith("table ip louieops_tb_demo {")
    assert "ip saddr 10.231.4.0/30 ip daddr != 10.231.4.0/30 masquerade" in rules
    assert 'iifname "lotb4h" ip saddr 10.231.4.0/30 accept' in rules
    # Nothing but this /30 is matched.
    assert rules.count("10.231.") == rules.count("10.231.4.0/30")
