"""base_firewall_enabled: turning the firewall off removes it (live and at boot); turning it on restores it."""

from __future__ import annotations

from pathlib import Path

DEPLOY_BASE = (
    "from pyinfra import host\n"
    "from louieops.settings import for_host\n"
    "from tasks import base\n"
    "for_host(host)\n"
    "base.provision_base()\n"
)


def firewall_state(deployed) -> tuple[bool, str]:
    tables = deployed.ssh("sudo nft list tables").stdout
    enabled = deployed.ssh("systemctl is-enabled nftables", check=False).stdout.strip()
    return "inet louieops_filter" in tables, enabled


def test_firewall_can_be_switched_off_and_on_again(deployed, tmp_path: Path):
    deploy_file = tmp_path / "deploy_base.py"
    deploy_file.write_text(DEPLOY_BASE)
    assert firewall_state(deployed) == (True, "enabled")
    try:
        off = deployed.deploy("-y", "--data", "base_firewall_enabled=false", deploy_file=str(deploy_file))
        assert off.returncode == 0 and not off.failed_operations, off.explain()
        assert firewall_state(deployed) == (False, "disabled")
        again = deployed.deploy("-y", "--data", "base_firewall_enabled=false", deploy_file=str(deploy_file))
        assert again.changed_operations == [], again.changed_operations
    finally:
        on = deployed.deploy("-y", deploy_file=str(deploy_file))
    assert on.returncode == 0 and not on.failed_operations, on.explain()
    assert firewall_state(deployed) == (True, "enabled")
