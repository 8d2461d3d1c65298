"""Base system: packages, the pending security updates, time zone and locale, the app user and directories,
unattended security upgrades and the nftables firewall (sshd: tasks/ssh.py; the rest of the host hardening:
tasks/hardening.py).

Settings read: apt_cache_time, apt_lock_wait_seconds, base_extra_packages, base_timezone, base_locale,
base_unattended_upgrades, base_apply_security_updates, base_firewall_enabled, app_user, app_root, app_log_dir,
app_uploads_dir, app_port, scripts_dir, backup_dir, alert_group.

Every host gets this step; the app user and the app's directories only an ``app`` host. The firewall opens
what the host's roles serve (louieops/topology.py): SSH everywhere, HTTP and HTTPS on the lb, the app's port to
the lb, PostgreSQL to the app hosts and the standby.
"""

from __future__ import annotations

from io import StringIO

from pyinfra import host, logger
from pyinfra.api import deploy
from pyinfra.api.exceptions import PyinfraError
from pyinfra.facts.server import LinuxDistribution
from pyinfra.operations import apt, files, server, systemd

from louieops import layout, placement, topology
from louieops.facts.apt import PendingSecurityUpdates
from louieops.facts.system import AptLocks, NftTableExists, ResolvedPath, apt_locks_command, apt_wait_command
from louieops.layout import CONFIG_DIR, STATE_ROOT, home_of
from louieops.operations import locale
from louieops.resources import put_file, put_template
from louieops.settings import Settings, for_host

PACKAGES = [
    "ca-certificates",
    "cron",
    "curl",
    "gnupg",
    "htop",  # the runbook's interactive view
    "jq",  # the runbook reads pm2's JSON with it
    "locales",
    "logrotate",
    "nftables",
    "openssl",
    "procps",
    "sudo",
    "tzdata",
    "unattended-upgrades",
]
APT_LOCK_WAIT = "/etc/apt/apt.conf.d/80louieops-lock-wait"
FIREWALL_TABLE = ("inet", "louieops_filter")  # the table templates/base/nftables.conf.j2 defines
SSH_PORT = 22
#: New SSH connections one address may open (nft limit): ssh-audit's DHEat test opens up to 38 in 1.5 s and
#: flags more than 20 per second; 15 at once, then 5 a second, leaves it about 15 while scripts that call
#: ssh in a loop still get through.
SSH_NEW_CONNECTIONS = ("5/second", 15)


def resolved(path: str) -> str | None:
    """Where ``path`` leads on the server (aliases such as UTC -> Etc/UTC are the same zone; a container
    manager may relink /etc/localtime at boot)."""
    return host.get_fact(ResolvedPath, path=path)


def system_locale_file() -> str:
    """Debian 13's locales package moves the system locale to /etc/locale.conf and makes
    /etc/default/locale a link to it; Debian 12 keeps /etc/default/locale."""
    distro = host.get_fact(LinuxDistribution)
    return "/etc/locale.conf" if (distro.get("major") or 0) >= 13 else "/etc/default/locale"


@deploy("Base system")
def provision_base():
    s = for_host(host)
    if host.data.get("ssh_user") == "root":
        raise PyinfraError(
            "the deploy connects as root, but the base step disables root logins over SSH: "
            "connect as a user with sudo (ssh_user) instead"
        )

    # install, after any other apt run (a cancelled deploy's apt-get goes on; unattended-upgrades)
    wait_for_apt(s)
    lists = apt.update(name="Update the apt package lists", cache_time=s.apt_cache_time)
    apt.packages(name="Install the base Debian packages", packages=PACKAGES + list(s.base_extra_packages))

    # install: the security updates that are waiting, before anything is configured (an upgraded tzdata
    # rewrites /etc/timezone); the deploy must not leave known holes open until the next daily run.
    if s.base_apply_security_updates:
        apply_updates = "Apply the pending security updates (unattended-upgrade)"
        if lists.will_change:  # which updates wait is known once the lists are fresh: decided then
            server.shell(
                name=apply_updates,
                commands=["unattended-upgrade"],
                _if=lambda: bool(host.get_fact(PendingSecurityUpdates)),
            )
        elif host.get_fact(PendingSecurityUpdates):  # fresh lists: known when planning, the plan shows it
            server.shell(name=apply_updates, commands=["unattended-upgrade"])

    # configure: time zone and locale (decided when planning, so a plan shows exactly what changes)
    zone = f"/usr/share/zoneinfo/{s.base_timezone}"
    if resolved("/etc/localtime") != resolved(zone):
        files.link(name=f"Link /etc/localtime to the {s.base_timezone} zone", path="/etc/localtime", target=zone)
    files.put(
        name="Upload /etc/timezone",
        src=StringIO(f"{s.base_timezone}\n"),
        dest="/etc/timezone",
        user="root",
        group="root",
        mode="0644",
    )
    locale.generated(name=f"Generate the {s.base_locale} locale", locale=s.base_locale)
    locale_file = system_locale_file()
    put_template("base/locale.j2", locale_file, name=f"Upload {locale_file}", base_locale=s.base_locale)

    # configure: the alert group (every host's alert jobs; on app hosts the app's audit log too), the app
    # user and the directories
    server.group(name=f"Create group {s.alert_group}", group=s.alert_group, system=True)
    me = topology.me(host)
    if me.has(topology.APP):
        app_user_and_directories(s)
    for path in (s.scripts_dir, CONFIG_DIR, STATE_ROOT):  # louieops' own: scripts, their config and state
        files.directory(name=f"Create {path}", path=path, user="root", group="root", mode="0755")
    # the release upgrade's server half, on every host (louieops os-upgrade runs it)
    put_file("scripts/louie-os-upgrade", layout.OS_UPGRADE_COMMAND, mode="0755")
    if me.has(topology.DB, topology.APP):  # where backups are made
        # Owner and mode of the backup directory belong to the backups step; only make sure it exists.
        files.directory(name=f"Create {s.backup_dir}", path=s.backup_dir)

    # configure: unattended security upgrades
    put_template(
        "base/20auto-upgrades.j2",
        "/etc/apt/apt.conf.d/20auto-upgrades",
        name="Upload /etc/apt/apt.conf.d/20auto-upgrades",
        base_unattended_upgrades=s.base_unattended_upgrades,
    )

    if s.base_firewall_enabled:
        install_firewall(firewall_rules(s, topology.of(host), me))
    else:
        remove_firewall()


def app_user_and_directories(s: Settings):
    """The app user (pm2 runs under it) and the app's directories."""
    server.user(
        name=f"Create the app user {s.app_user}",
        user=s.app_user,
        system=True,
        home=home_of(s.app_user),
        create_home=True,
        shell="/usr/sbin/nologin",
    )
    files.directory(
        name=f"Create {home_of(s.app_user)}", path=home_of(s.app_user), user=s.app_user, group=s.app_user, mode="0750"
    )
    files.directory(name=f"Create {s.app_root}", path=s.app_root, user="root", group="root", mode="0755")
    files.directory(
        name=f"Create {s.app_uploads_dir}", path=s.app_uploads_dir, user=s.app_user, group=s.app_user, mode="0750"
    )
    files.directory(name=f"Create {s.app_log_dir}", path=s.app_log_dir, user=s.app_user, group="adm", mode="2750")


def firewall_rules(s: Settings, topo: topology.Topology, me: topology.Member) -> dict:
    """The template's variables: ports open to anyone, and ports open to some addresses (by IP version)."""
    rules = topo.inbound(me, s.app_port, backups_from_standby=placement.backups_from_standby(s, topo))
    anyone = [SSH_PORT] + [port for port, sources in rules if not sources]
    limited = []
    for port, sources in rules:
        if sources:
            v4 = [a for a in sources if ":" not in a]
            v6 = [a for a in sources if ":" in a]
            limited.append({"port": port, "ipv4": v4, "ipv6": v6})
    return {"tcp_ports": anyone, "tcp_from": limited}


def wait_for_apt_before_planning() -> None:
    """A cancelled deploy leaves its apt-get running (and unattended-upgrades runs daily): the packages and
    services the plan reads change until it ends (a fact read PostgreSQL half-installed). So the plan starts
    once the apt/dpkg locks are free, waiting up to apt_lock_wait_seconds, and says for whom it waits."""
    s = for_host(host)
    _, listed = host.run_shell_command(apt_locks_command(), _sudo=True)
    holders = sorted({line.split(" ", 2)[-1] for line in listed.stdout_lines if line.strip()})
    if not holders:
        return
    logger.warning(
        f"[{host.name}] apt is busy ({', '.join(holders)}): planning waits up to {s.apt_lock_wait_seconds} s"
    )
    free, _ = host.run_shell_command(
        apt_wait_command(s.apt_lock_wait_seconds), _sudo=True, _timeout=s.apt_lock_wait_seconds + 60
    )
    if not free:
        raise PyinfraError(
            f"apt is still busy after {s.apt_lock_wait_seconds} s ({', '.join(holders)}): try again later"
        )


def wait_for_apt(s: Settings) -> None:
    """apt-get itself waits for the dpkg lock (80louieops-lock-wait) but not for the lists lock of
    `apt-get update`: when another apt run holds a lock as the deploy plans, the deploy waits for it first,
    and says so."""
    put_template(
        "base/80louieops-lock-wait.j2",
        APT_LOCK_WAIT,
        name=f"Upload {APT_LOCK_WAIT}",
        apt_lock_wait_seconds=s.apt_lock_wait_seconds,
    )
    holders = host.get_fact(AptLocks)
    if holders:
        who = ", ".join(sorted({f"{h['command']} (pid {h['pid']})" for h in holders}))
        logger.warning(f"[{host.name}] apt is busy: {who}; the deploy waits up to {s.apt_lock_wait_seconds} s")
        server.shell(
            name=f"Wait up to {s.apt_lock_wait_seconds} s for {who} to release the apt/dpkg locks",
            commands=[apt_wait_command(s.apt_lock_wait_seconds)],
        )


def install_firewall(rules: dict):
    """nftables: drop inbound except SSH and what the host's roles serve. Checked with `nft -c` before it is
    loaded."""
    conf = put_template(
        "base/nftables.conf.j2",
        "/etc/nftables.conf",
        name="Upload /etc/nftables.conf",
        mode="0755",
        ssh_rate=SSH_NEW_CONNECTIONS[0],
        ssh_burst=SSH_NEW_CONNECTIONS[1],
        **rules,
    )
    family, table = FIREWALL_TABLE
    # Load when the file changes, and also when the table is missing (the firewall was switched off before,
    # or flushed by hand): that is known when planning, so the plan shows it.
    missing = not host.get_fact(NftTableExists, family=family, table=table)
    server.shell(
        name="Check and load /etc/nftables.conf",
        commands=["nft -c -f /etc/nftables.conf", "nft -f /etc/nftables.conf"],
        _if=None if missing else conf.did_change,
    )
    systemd.service(name="Enable and start nftables", service="nftables.service", running=True, enabled=True)


def remove_firewall():
    """base_firewall_enabled = False: drop our table now and stop loading it at boot. nftables.service is
    only disabled, not stopped: its stop flushes the whole ruleset, fail2ban's tables included."""
    family, table = FIREWALL_TABLE
    if host.get_fact(NftTableExists, family=family, table=table):
        server.shell(
            name=f"Delete the nftables table {family} {table}", commands=[f"nft delete table {family} {table}"]
        )
    systemd.service(name="Disable nftables at boot", service="nftables.service", enabled=False)
