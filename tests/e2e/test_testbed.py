"""The test server itself: boot, SSH, systemd, network, peers, reboot, teardown.

Traffic goes only to the test server's and its peers' addresses (10.231.N.x) created here, and to the
Debian mirror from inside the server (apt-get update, through the instance's own masquerade rule).
"""

from __future__ import annotations

import os
import socket
import struct
import subprocess

import pytest

from louieops.testbed import Testbed, TestbedError, network
from louieops.testbed import cleanup as tb_cleanup
from louieops.testbed.peers import CHALLTESTSRV_DNS_PORT, DEFAULT_DOMAINS

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(os.geteuid() != 0, reason="the test server needs root (netns, nftables, nspawn)"),
]


def _name(kind: str) -> str:
    return f"t-{kind}-{os.getpid()}"


@pytest.fixture(scope="module")
def tb():
    with Testbed(name=_name("e2e"), release="bookworm") as server:
        print(f"boot to SSH: {server.boot_seconds:.1f} s")
        yield server


def _in_server(tb: Testbed, python: str) -> str:
    """Run a python3 snippet on the server; return its stdout."""
    return tb.ssh("python3 -", input=python).stdout


def _dns_a(server: str, port: int, name: str) -> list[str]:
    """A records for ``name`` from a DNS server (a minimal UDP query, no dependencies)."""
    query = struct.pack(">HHHHHH", 0x4C4F, 0x0100, 1, 0, 0, 0)
    query += b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0" + struct.pack(">HH", 1, 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(3)
        sock.sendto(query, (server, port))
        reply = sock.recv(4096)
    answers = struct.unpack(">H", reply[6:8])[0]
    pos = len(query)
    found = []
    for _ in range(answers):
        pos += 2 if reply[pos] & 0xC0 == 0xC0 else reply.index(b"\0", pos) + 1 - pos
        rtype, _cls, _ttl, length = struct.unpack(">HHIH", reply[pos : pos + 10])
        pos += 10
        if rtype == 1:
            found.append(socket.inet_ntoa(reply[pos : pos + length]))
        pos += length
    return found


def test_addresses_and_inventory(tb, figure):
    figure(f"test server boot to SSH: {tb.boot_seconds:.1f} s")
    assert tb.address.startswith("10.231.") and tb.address.endswith(".2")
    assert tb.peer_address == tb.address[:-1] + "1"
    assert tb.inventory_path.exists()
    assert (tb.inventory_path.parent / "group_data").resolve().name == "group_data"
    assert set(tb.env) >= {"LOUIE_DB_PASSWORD", "AWS_ACCESS_KEY_ID", "SLACK_WEBHOOK_CRITICAL"}
    assert oct(tb.env_path.stat().st_mode & 0o777) == "0o600"


def test_ssh_as_deploy_with_passwordless_sudo(tb):
    assert tb.ssh("id -un").stdout.strip() == "deploy"
    assert tb.ssh("sudo -n id -u").stdout.strip() == "0"
    assert tb.ssh("hostname").stdout.strip() == tb.name


def test_root_login_is_refused(tb):
    assert tb.ssh("true", user="root", check=False).returncode == 255


def test_systemd_reaches_running_or_degraded(tb):
    state = tb.ssh("systemctl is-system-running --wait", check=False).stdout.strip()
    assert state in ("running", "degraded"), tb.ssh("systemctl --failed --no-legend", check=False).stdout


def test_server_may_manage_its_own_network(tb):
    # CAP_NET_ADMIN inside its own namespace (firewall, fail2ban); no traffic is sent.
    tb.ssh("sudo ip route add blackhole 198.51.100.0/24 && sudo ip route del blackhole 198.51.100.0/24")


def test_apt_reaches_the_debian_mirror(tb):
    out = tb.ssh("sudo apt-get update 2>&1", timeout=180).stdout
    assert "deb.debian.org" in out and "Err:" not in out, out


def test_pebble_directory_over_verified_https_from_inside(tb):
    out = _in_server(
        tb,
        f"""
import json, urllib.request
d = json.load(urllib.request.urlopen("{tb.acme_directory_url}", timeout=10))
print(d["newOrder"])
""",
    )
    assert out.strip() == f"https://{tb.peer_address}:14100/order-plz"


def test_controller_cas_and_npm_node_trust(tb):
    assert tb.ssh("cat /etc/npmrc").stdout.strip() == "cafile=/etc/ssl/certs/ca-certificates.crt"
    assert "NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt" in tb.ssh("cat /etc/environment").stdout
    assert "louieops-testbed-listener-ca.crt" in tb.ssh("ls /usr/local/share/ca-certificates").stdout


def test_moto_s3_from_inside(tb):
    out = _in_server(
        tb,
        f"""
import urllib.request
r = urllib.request.urlopen(urllib.request.Request("{tb.s3_endpoint}/", headers={{"Host": "s3.amazonaws.com"}}))
print(r.status, b"ListAllMyBucketsResult" in r.read())
""",
    )
    assert out.split() == ["200", "True"]


def test_recorder_from_inside(tb):
    tb.recorder.clear()
    url = tb.env["SLACK_WEBHOOK_CRITICAL"]
    _in_server(
        tb,
        f"""
import urllib.request
urllib.request.urlopen(urllib.request.Request("{url}", data=b'{{"text": "hello"}}', method="POST"))
""",
    )
    entry = tb.recorder.wait_for(lambda r: r["path"] == "/slack/critical")
    assert entry["body"] == '{"text": "hello"}'
    tb.recorder.clear()
    assert tb.recorder.requests() == []


def test_challtestsrv_resolves_the_test_domains(tb):
    for domain in DEFAULT_DOMAINS:
        assert _dns_a(tb.peer_address, CHALLTESTSRV_DNS_PORT, domain) == [tb.address]


def test_pebble_root_is_a_certificate(tb):
    pem = tb.pebble_root_pem()
    assert pem.startswith("-----BEGIN CERTIFICATE-----")


def test_pyinfra_connects_with_the_inventory(tb):
    proc = subprocess.run(
        [
            os.path.join(os.path.dirname(os.sys.executable), "pyinfra"),
            "-y",
            str(tb.inventory_path),
            "exec",
            "--",
            "sudo -n true",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tb.inventory_path.parents[2],
        env={**os.environ, **tb.env},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_dry_plan_of_the_bare_server_lists_the_whole_deploy_and_changes_nothing(tb):
    """The CI plan step works before the first deploy: facts of packages not yet installed don't break it."""
    from tests.e2e.conftest import run_deploy

    plan = run_deploy(tb, "--dry")
    assert plan.returncode == 0, plan.explain()
    assert plan.report.get("results") is None
    assert "Base system | Install the base Debian packages" in plan.planned_changes
    assert len(plan.planned_changes) > 50
    assert tb.ssh("dpkg -s nginx", check=False).returncode != 0  # nothing was installed


def test_reboot(tb):
    boots = tb.boots
    seconds = tb.reboot()
    print(f"reboot to SSH: {seconds:.1f} s")
    assert tb.boots == boots + 1
    assert tb.ssh("systemctl is-system-running --wait", check=False).stdout.strip() in ("running", "degraded")


def test_reboot_started_by_someone_else(tb):
    boots = tb.boots
    subprocess.run(tb.ssh_argv("sudo systemctl reboot"), capture_output=True, timeout=30)
    tb.wait_rebooted(boots)
    assert tb.ssh("true").returncode == 0


def test_second_up_of_a_running_name_is_refused(tb):
    with pytest.raises(TestbedError, match="already running"):
        Testbed(name=tb.name).up()
    assert tb.ssh("true").returncode == 0


def _owned(found: dict[str, list[str]], tb: Testbed, slot: int) -> dict[str, list[str]]:
    """The parts of ``leftovers()`` that belong to this one instance (others may run concurrently)."""
    host_if, _ = network.veth_names(slot)
    mine = {
        "netns": [n for n in found["netns"] if n == f"lotb-{tb.name}"],
        "veth": [v for v in found["veth"] if v == host_if],
        "nft": [t for t in found["nft"] if t == f"louieops_tb_{tb.name.replace('-', '_')}"],
        "mounts": [m for m in found["mounts"] if f"/{tb.name}/" in m + "/"],
        "instances": [i for i in found["instances"] if i == tb.name],
    }
    return {k: v for k, v in mine.items() if v}


def test_teardown_leaves_nothing():
    tb = Testbed(name=_name("down"))
    with tb:
        slot = tb.slot
        pids = [tb.state["supervisor"]["pid"], *(p["pid"] for p in tb.state["peers"].values())]
        pid1 = tb.container_pid1()
        assert pid1 is not None
        pids.append(pid1)
        assert _owned(tb_cleanup.leftovers(), tb, slot)
    assert _owned(tb_cleanup.leftovers(), tb, slot) == {}
    for pid in pids:
        assert not os.path.exists(f"/proc/{pid}") or open(f"/proc/{pid}/stat").read().split()[2] == "Z"
    assert not tb.instance_dir.exists()
    assert not tb.inventory_path.exists()
    # Down of a missing instance is a no-op.
    Testbed(name=tb.name).down()


def test_teardown_runs_on_exceptions():
    tb = Testbed(name=_name("exc"))
    with pytest.raises(RuntimeError, match="boom"):
        with tb:
            slot = tb.slot
            raise RuntimeError("boom")
    assert _owned(tb_cleanup.leftovers(), tb, slot) == {}


@pytest.mark.trixie
def test_trixie_boots_with_ssh_and_systemd():
    with Testbed(name=_name("trixie"), release="trixie") as tb:
        print(f"trixie boot to SSH: {tb.boot_seconds:.1f} s")
        assert tb.ssh(". /etc/os-release && echo $VERSION_CODENAME").stdout.strip() == "trixie"
        assert tb.ssh("sudo -n id -u").stdout.strip() == "0"
        state = tb.ssh("systemctl is-system-running --wait", check=False).stdout.strip()
        assert state in ("running", "degraded"), tb.ssh("systemctl --failed --no-legend", check=False).stdout
