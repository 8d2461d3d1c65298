"""The pure parts of the security hardening: the SSH policy and its sshd file, the deploy's known_hosts
update, the admin-login watch, and the anchoring of the fail2ban filters (docs/security.md)."""

from __future__ import annotations

import configparser
import json
import re

import pytest
from paramiko.hostkeys import HostKeys

from louieops import known_hosts
from louieops.resources import file
from louieops.ssh_policy import DEBIAN_12, DEBIAN_13, HOST_KEYS, policy_for
from tests.unit.helpers import load_script, send_alert_recorder
from tests.unit.test_stack_templates import render


def test_the_release_picks_the_policy():
    assert policy_for(12) is DEBIAN_12 and policy_for(None) is DEBIAN_12
    assert policy_for(13) is DEBIAN_13 and policy_for(14) is DEBIAN_13
    assert DEBIAN_12.name == "Hardened Debian 12 (version 3)" and DEBIAN_13.name == "Hardened Debian 13 (version 1)"


def test_sshd_offers_only_the_policys_algorithms_and_host_keys():
    conf = render(
        "base/10-louieops-hardening.conf.j2",
        policy=DEBIAN_12,
        host_keys=HOST_KEYS,
        per_source_max_startups=3,
        banner="/etc/issue.net",
        allow_groups=["sudo", "ssh-users"],
    )
    assert f"KexAlgorithms {','.join(DEBIAN_12.kex)}\n" in conf
    assert f"MACs {','.join(DEBIAN_12.macs)}\n" in conf
    assert "HostKeyAlgorithms ssh-ed25519,rsa-sha2-512,rsa-sha2-256\n" in conf
    assert re.findall(r"^HostKey (\S+)$", conf, re.M) == [path for _kind, path, _bits in HOST_KEYS]
    assert "PerSourceMaxStartups 3\n" in conf and "AllowGroups sudo ssh-users\n" in conf
    assert "PasswordAuthentication no\n" in conf and "PermitRootLogin no\n" in conf
    # a deploy holds its lock, its commands and its SFTP uploads on one connection at once
    assert int(re.search(r"^MaxSessions (\d+)$", conf, re.M).group(1)) >= 3


def _entries(text: str) -> list[tuple[str, str]]:
    return [tuple(line.split()[1:3]) for line in text.splitlines() if line and not line.startswith("#")]


def test_known_hosts_lines_of_the_host_are_replaced_plain_or_hashed():
    hashed = HostKeys.hash_host("10.0.0.2")
    text = (
        "# my notes\n"
        "10.0.0.2 ecdsa-sha2-nistp256 OLDECDSA\n"
        "other.example ssh-ed25519 OTHER\n"
        f"{hashed} ssh-rsa OLDRSA\n"
        "@cert-authority *.example ssh-ed25519 CA\n"
    )
    new = known_hosts.replace_host_keys(text, "10.0.0.2", [["ssh-ed25519", "NEWED"], ["ssh-rsa", "NEWRSA"]])
    assert "# my notes" in new and "other.example ssh-ed25519 OTHER" in new and "@cert-authority" in new
    assert "OLDECDSA" not in new and "OLDRSA" not in new
    assert new.endswith("10.0.0.2 ssh-ed25519 NEWED\n10.0.0.2 ssh-rsa NEWRSA\n")


def test_known_hosts_that_never_named_the_host_is_left_alone(tmp_path):
    path = tmp_path / "known_hosts"
    path.write_text("other.example ssh-ed25519 OTHER\n")
    assert known_hosts.update_file(str(path), "10.0.0.2", [["ssh-ed25519", "NEW"]]) is False
    assert path.read_text() == "other.example ssh-ed25519 OTHER\n"
    assert known_hosts.host_pattern("h", 22) == "h" and known_hosts.host_pattern("h", 2222) == "[h]:2222"


@pytest.fixture(scope="module")
def admin_logins():
    return load_script(file("scripts/admin-logins"), "admin_logins")


def test_an_admin_login_from_a_new_address_is_one_p1_and_a_known_one_none(admin_logins, tmp_path):
    send_alert, calls = send_alert_recorder(tmp_path)
    log = tmp_path / "admin-logins.log"
    config = {"log": str(log), "days": 30, "state": str(tmp_path / "state.json"), "send_alert": send_alert}
    now = 1_800_000_000
    line = '2027-01-15T08:00:00+00:00 198.51.100.4 200 "POST louiesystem.test/login"\n'
    log.write_text(line)
    assert admin_logins.main(config, now=now) == 0
    (message,) = calls()
    assert message.startswith("--report P1 Admin dashboard login from 198.51.100.4,")
    with open(log, "a") as fh:
        fh.write(line.replace("08:00", "09:00"))
    assert admin_logins.main(config, now=now) == 0
    assert len(calls()) == 1  # seen: no second P1
    state = json.loads((tmp_path / "state.json").read_text())
    assert list(state["seen"]) == ["198.51.100.4"]


def test_an_address_back_after_the_memory_is_new_again(admin_logins):
    seen = {"192.0.2.1": 0.0}
    lines = ["1970-02-15T00:00:00+00:00 192.0.2.1 200 x", "garbage", "1970-02-15T00:01:00+00:00 192.0.2.1 200 x"]
    assert [a for _t, a in admin_logins.new_addresses(lines, seen, 30 * 86400)] == ["192.0.2.1"]


def _failregex(name: str) -> re.Pattern:
    """The filter's failregex with fail2ban's address tags replaced by a plain IPv4/IPv6 group (fail2ban's own
    tags are stricter; what is tested here is where the address may stand)."""
    parser = configparser.RawConfigParser()
    parser.read(file(f"fail2ban/{name}.conf"))
    definition = dict(parser["Definition"])
    regex = definition["failregex"].replace("%%", "%")
    for _ in range(3):
        regex = re.sub(r"<(_\w+)>", lambda m: definition[m.group(1)].replace("%%", "%"), regex)
    regex = regex.replace("<ADDR>", r"(?P<host>[0-9.]+|[0-9a-fA-F:]+)").replace("<HOST>", r"(?P<host>\S+)")
    return re.compile(regex)


@pytest.mark.parametrize(
    ("line", "host"),
    [
        ("2026-11-30T19:07:34: Login failed for bob from 203.0.113.9", "203.0.113.9"),
        ("Login failed for x_from_198.51.100.1 from 203.0.113.9", "203.0.113.9"),
        ("Login failed for x from 198.51.100.1 from 203.0.113.9", "203.0.113.9"),
        ("Login failed for 198.51.100.1 from=203.0.113.9", "203.0.113.9"),
        ('{"msg":"Login failed","ip":"203.0.113.9","user":"198.51.100.1"}', None),
        ("Login failed for 198.51.100.1", None),
        ("Login failed: user=bob ip=2001:db8::7", "2001:db8::7"),
        ("Login failed for bob from 203.0.113.9 (user 198.51.100.1)", None),
        ("Login succeeded for bob from 203.0.113.9", None),
    ],
)
def test_the_app_login_filter_takes_only_the_address_at_the_end(line, host):
    match = _failregex("louieops-app-auth").search(line)
    assert (match and match.group("host")) == host


@pytest.mark.parametrize(
    ("request_line", "probe"),
    [
        ("GET /?id=1%27%20OR%20%271%27=%271 HTTP/1.1", True),
        ("GET /search?q=1+UNION+SELECT+password+FROM+users HTTP/1.1", True),
        ("GET /?q=%3Cscript%3Ealert(1)%3C/script%3E HTTP/1.1", True),
        ("GET /static/../../etc/passwd HTTP/1.1", True),
        ("GET /%2e%2e%2f%2e%2e%2fetc/hosts HTTP/1.1", True),
        ("GET /api/claude/status HTTP/1.1", False),
        ("GET /blog/select-your-plan-from-three HTTP/1.1", False),
        ("POST /api/login HTTP/1.1", False),
    ],
)
def test_the_probe_filter_knows_injection_from_ordinary_requests(request_line, probe):
    line = f'203.0.113.9 - - [30/Nov/2026:19:07:34 +0000] "{request_line}" 404 10 "-" "curl/8"'
    match = _failregex("louieops-probes").search(line)
    assert bool(match) is probe and (not match or match.group("host") == "203.0.113.9")
