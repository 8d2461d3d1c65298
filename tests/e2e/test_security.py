"""Security hardening and monitoring on the deployed Debian 12 server (docs/security.md, seed §9).

The audits (ssh-audit, Lynis, systemd-analyze) print their figures. The attacks come from a second client
host in its own network namespace (louieops/testbed/client.py): the server sees its own address, and a ban
of it must leave the controller (the peer address the deploy and the tests use) alone. Each test unbans the
client before and after, so the tests do not depend on each other's order.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from louieops.layout import MAINTENANCE_STATE_DIR
from louieops.ssh_policy import DEBIAN_12
from tasks.hardening import SYSCTL
from tests.e2e.helpers import root, wait_for

SSH_AUDIT = str(Path(sys.executable).with_name("ssh-audit"))
BAN_SECONDS = 60
STATE = f"{MAINTENANCE_STATE_DIR}/admin-logins.json"  # the admin-login watch's (louieops/server_scripts.py)
FAILURES = 5


@pytest.fixture(scope="module")
def client(deployed):
    with deployed.testbed.client_host() as host:
        yield host


@pytest.fixture
def unbanned(deployed, client):
    """The client starts and leaves each test unbanned in every jail."""
    root(deployed, f"fail2ban-client unban {client.address}", check=False)
    yield client
    root(deployed, f"fail2ban-client unban {client.address}", check=False)


def banned(deployed, jail: str) -> list[str]:
    out = root(deployed, f"fail2ban-client get {jail} banip").stdout
    return out.split()


def curl(client, domain: str, path: str, *args: str) -> str:
    """Status code of an HTTPS request from the client host to the server (test CA: -k)."""
    argv = ["curl", "-sk", "-m", "10", "-o", "/dev/null", "-w", "%{http_code}"]
    argv += ["--resolve", f"{domain}:443:{client.server_address}", *args, f"https://{domain}{path}"]
    return client.run(argv, capture_output=True, text=True).stdout


def slack(deployed, since: float, channel: str, *needles: str) -> list[dict]:
    return [
        r
        for r in deployed.recorder.requests()
        if r["path"] == f"/slack/{channel}" and r["time"] >= since and all(n in r["body"] for n in needles)
    ]


# --- audits --------------------------------------------------------------------------------------------


def test_ssh_audit_passes_the_hardened_policy_and_the_dheat_test(deployed, unbanned, figure):
    # An audit looks like an attack to the sshd jail (connections that never log in): not this one.
    root(deployed, f"fail2ban-client set sshd addignoreip {unbanned.address}")
    try:
        _audit_ssh(deployed, unbanned, figure)
    finally:
        root(deployed, f"fail2ban-client set sshd delignoreip {unbanned.address}", check=False)


def ssh_banner(client) -> str:
    """The first bytes the server's sshd sends to a new connection from the client ("SSH-" when accepted)."""
    probe = f"exec 3<>/dev/tcp/{client.server_address}/22 && head -c 4 <&3"
    return client.run(["timeout", "3", "bash", "-c", probe], capture_output=True, text=True).stdout


def _audit_ssh(deployed, unbanned, figure):
    assert Path(SSH_AUDIT).exists(), f"{SSH_AUDIT} is missing: `make bootstrap` installs the test extras"
    policy = unbanned.run(
        [SSH_AUDIT, "--skip-rate-test", "-P", DEBIAN_12.name, unbanned.server_address],
        capture_output=True,
        text=True,
        timeout=120,
    )
    print(f"\nssh-audit policy {DEBIAN_12.name!r}: exit {policy.returncode}\n{policy.stdout[-1500:]}", file=sys.stderr)
    figure(f"ssh-audit policy {DEBIAN_12.name!r}: exit {policy.returncode}")
    assert policy.returncode == 0 and "Passed" in policy.stdout, policy.stdout + policy.stderr
    wait_for(lambda: ssh_banner(unbanned) == "SSH-", 30, "the firewall's per-address SSH budget to refill")
    audit = unbanned.run([SSH_AUDIT, "-j", unbanned.server_address], capture_output=True, text=True, timeout=120)
    report = json.loads(audit.stdout)
    notes = json.dumps(report.get("additional_notes", ""))
    figure(f"ssh-audit standard audit: the DHEat rate test {'flags' if 'DHEat' in notes else 'does not flag'} sshd")
    assert "DHEat" not in notes, notes


def test_lynis_hardening_index_is_85_or_more_without_warnings(deployed, figure):
    """Lynis as an auditor runs it. In the test server (a container) the host owns the kernel's settings:
    the kernel.*, fs.* and dev.* keys of the deploy's sysctl file cannot be set there (on a real server they
    are), so a second run declares just those not applicable (Lynis' skip-test) and both indexes are printed."""
    root(deployed, "DEBIAN_FRONTEND=noninteractive apt-get install -y -q lynis >/dev/null")

    def audit() -> tuple[int, list[str]]:
        root(deployed, "lynis audit system --quick --no-colors >/dev/null 2>&1")
        report = root(deployed, "cat /var/log/lynis-report.dat").stdout
        index = int(re.search(r"^hardening_index=(\d+)$", report, re.M).group(1))
        return index, re.findall(r"^warning\[\]=(.*)$", report, re.M)

    index, warnings = audit()
    figure(f"Lynis hardening index {index}, warnings {len(warnings)}: {warnings}")
    assert warnings == []
    if root(deployed, "systemd-detect-virt --container", check=False).returncode == 0:
        conf = root(deployed, f"cat {SYSCTL}").stdout
        host_owned = [k for k in re.findall(r"^([a-z][\w.-]+) =", conf, re.M) if not k.startswith("net.")]
        skips = "".join(f"skip-test=KRNL-6000:{key}\n" for key in host_owned)
        root(deployed, "cat > /etc/lynis/custom.prf", input=skips)
        index, warnings = audit()
        figure(f"Lynis hardening index {index} with the host-owned kernel keys skipped: {host_owned}")
    assert index >= 85 and warnings == []


def test_the_app_unit_is_sandboxed_and_the_app_still_reloads(deployed, figure):
    unit = f"pm2-{deployed.settings.app_user}.service"
    out = root(deployed, f"systemd-analyze security --no-pager {unit}").stdout
    exposure = float(re.search(r"Overall exposure level for \S+: ([0-9.]+)", out).group(1))
    figure(f"systemd-analyze security {unit}: exposure {exposure}")
    assert exposure <= 4.0
    port = deployed.settings.app_port
    root(deployed, f"systemctl reload {unit}")  # pm2 reload all: cluster mode, inside the sandbox
    wait_for(
        lambda: root(deployed, f"curl -fsS -m 5 http://127.0.0.1:{port}/health", check=False).returncode == 0,
        60,
        "the app to answer after a reload",
    )


def test_security_updates_are_applied_and_unattended_upgrades_works(deployed):
    pending = root(deployed, "apt-get -s dist-upgrade | grep '^Inst ' | grep -i -- -security || true").stdout
    assert pending.strip() == "", f"security updates left pending: {pending}"
    assert 'APT::Periodic::Unattended-Upgrade "1"' in root(deployed, "apt-config dump").stdout
    dry = root(deployed, "unattended-upgrade --dry-run --debug 2>&1", check=False)
    assert dry.returncode == 0 and re.search(r"Allowed origins are: .*-security", dry.stdout), dry.stdout[-2000:]


def test_the_deploy_rotated_the_host_keys_and_its_known_hosts_follows(deployed):
    known = deployed.testbed.known_hosts.read_text().split("\n")
    kinds = sorted(line.split()[1] for line in known if line.strip())
    assert kinds == ["ssh-ed25519", "ssh-rsa"]
    assert "the SSH host keys changed" in deployed.first.stderr + deployed.first.stdout
    bits = root(deployed, "ssh-keygen -l -f /etc/ssh/ssh_host_rsa_key.pub").stdout.split()[0]
    assert bits == "4096"
    # the second run verified the new keys (strict checking) and changed nothing
    assert deployed.second.returncode == 0 and deployed.second.changed_operations == []


# --- fail2ban from a second client host ----------------------------------------------------------------


def test_failed_app_logins_ban_the_client_within_a_minute_and_not_the_controller(deployed, unbanned):
    since = time.time()
    for _ in range(FAILURES):
        code = curl(unbanned, deployed.settings.domain_api, "/api/login", "-d", '{"username":"x","password":"y"}')
        assert code == "401"
    wait_for(lambda: unbanned.address in banned(deployed, "louieops-app-auth"), BAN_SECONDS, "the ban")
    assert deployed.peer_address not in banned(deployed, "louieops-app-auth")
    assert curl(unbanned, deployed.settings.domain_api, "/health") == "000"  # dropped by the firewall
    wait_for(lambda: slack(deployed, since, "general", unbanned.address, "failed app logins"), 30, "the P3")


def test_bad_ssh_keys_ban_the_client_and_not_the_controller(deployed, unbanned, tmp_path):
    key = tmp_path / "id_ed25519"
    # a fresh key the server does not know
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    ssh = ["ssh", "-F", "/dev/null", "-i", str(key), "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes"]
    ssh += ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=5"]
    for _ in range(FAILURES):
        try:
            result = unbanned.run([*ssh, f"deploy@{unbanned.server_address}", "true"], capture_output=True, timeout=15)
            assert result.returncode != 0
        except subprocess.TimeoutExpired:
            break  # banned while this attempt was under way
    wait_for(lambda: unbanned.address in banned(deployed, "sshd"), BAN_SECONDS, "the SSH ban")
    assert deployed.peer_address not in banned(deployed, "sshd")
    assert deployed.ssh("true").returncode == 0


def test_an_injection_probe_raises_a_p2_and_bans_the_prober(deployed, unbanned):
    since = time.time()
    assert curl(unbanned, deployed.settings.domain_homepage, "/?id=1%27%20OR%20%271%27=%271") != "000"
    wait_for(lambda: slack(deployed, since, "high", unbanned.address, "injection probe"), BAN_SECONDS, "the P2")
    assert unbanned.address in banned(deployed, "louieops-probes")
    assert deployed.peer_address not in banned(deployed, "louieops-probes")


def test_repeated_rate_limit_rejections_are_sent_for_review(deployed, unbanned):
    since = time.time()
    domain, server = deployed.settings.domain_api, unbanned.server_address
    one = f"curl -sk -m 10 -o /dev/null -w '%{{http_code}}\\n' --resolve {domain}:443:{server} https://{domain}/api/claude/status"
    burst = f"for i in $(seq 60); do {one} & done; wait"  # 60 at once: past the burst of the API's limit
    codes = unbanned.run(["sh", "-c", burst], capture_output=True, text=True, timeout=60).stdout.split()
    assert "429" in codes, codes
    wait_for(lambda: slack(deployed, since, "general", unbanned.address, "rate limit"), BAN_SECONDS, "the P3")


def test_an_admin_login_from_a_new_address_is_one_p1(deployed, unbanned):
    since = time.time()
    token = deployed.env["LOUIE_ADMIN_TOKEN"]
    body = json.dumps({"username": "admin", "password": token})
    admin = deployed.settings.domain_admin
    log = "/var/log/nginx/admin-logins.log"
    assert curl(unbanned, admin, "/login", "-H", "Content-Type: application/json", "-d", body) == "200"
    wait_for(lambda: slack(deployed, since, "critical", unbanned.address), BAN_SECONDS, "the P1")
    assert curl(unbanned, admin, "/login", "-H", "Content-Type: application/json", "-d", body) == "200"
    wait_for(
        lambda: root(deployed, f"grep -c ' {unbanned.address} ' {log}").stdout.strip() == "2", 30, "the second line"
    )

    def read_to_the_end() -> bool:
        """The watch saves where it stopped reading only after it has sent its alerts."""
        state = json.loads(root(deployed, f"cat {STATE}", check=False).stdout or "{}")
        size = int(root(deployed, f"stat -c %s {log}").stdout)
        return state.get("offsets", {}).get(log, {}).get("offset") == size

    wait_for(read_to_the_end, 30, "the watch to read the second login")
    assert len(slack(deployed, since, "critical", unbanned.address)) == 1
