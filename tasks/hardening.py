"""Host hardening guided by Lynis (README "Security"): pending security updates applied now, kernel and
network sysctls, unneeded kernel modules off, no core dumps, idle shells logged out, a login banner, the
Debian tools that keep a patched system honest (needrestart, apt-listchanges, debsums) and a password
quality check (libpam-passwdqc, should a password ever be set). Not libpam-tmpdir: root's $TMPDIR would
become /tmp/user/0, where the deploy user cannot upload the files that sudo then moves into place.

Settings read: base_login_banner, base_apply_security_updates.

Each file is applied when it changes: sysctls with `sysctl -p` (in a container the host owns the kernel.*
keys: only the server's own net.* keys can be set there, so a refusal is accepted only in a container).
"""

from __future__ import annotations

from io import StringIO

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.operations import apt, files, server

from louieops.facts.apt import PendingSecurityUpdates
from louieops.resources import put_template
from louieops.settings import for_host

PACKAGES = [
    "needrestart",  # which services still run old libraries after an upgrade
    "apt-listchanges",  # the changelog and NEWS of each upgrade, in the apt log and root's mail
    "debsums",  # verify installed files against the packages' checksums after an incident
    "libpam-passwdqc",  # password strength check, should a password ever be set
]
SYSCTL = "/etc/sysctl.d/90-louieops-hardening.conf"
MODPROBE = "/etc/modprobe.d/louieops-blacklist.conf"
UNUSED_MODULES = ["dccp", "sctp", "rds", "tipc", "usb-storage", "firewire-core"]
COREDUMP = "/etc/systemd/coredump.conf.d/louieops.conf"
LIMITS = "/etc/security/limits.d/louieops.conf"
SHELL_PROFILE = "/etc/profile.d/louieops-shell.sh"
IDLE_SHELL_SECONDS = 900
NEEDRESTART = "/etc/needrestart/conf.d/louieops.conf"
#: login.defs: passwords, should one be set, hashed with more rounds and changed at least yearly.
LOGIN_DEFS = {
    "PASS_MAX_DAYS": "365",
    "PASS_MIN_DAYS": "1",
    "SHA_CRYPT_MIN_ROUNDS": "65536",
    "SHA_CRYPT_MAX_ROUNDS": "65536",
}


@deploy("Host hardening")
def harden_host():
    s = for_host(host)

    # install: first the security updates that are waiting (the deploy must not leave known holes open
    # until the next daily unattended-upgrade run), then the tools
    if s.base_apply_security_updates:
        server.shell(
            name="Apply the pending security updates (unattended-upgrade)",
            commands=["unattended-upgrade"],
            _if=lambda: bool(host.get_fact(PendingSecurityUpdates)),
        )
    apt.packages(name="Install the hardening packages", packages=PACKAGES)
    put_template("hardening/needrestart.conf.j2", NEEDRESTART, name=f"Upload {NEEDRESTART}", mode="0644")

    # configure: kernel, modules, core dumps
    sysctl = put_template("hardening/90-louieops-hardening.conf.j2", SYSCTL, name=f"Upload {SYSCTL}")
    server.shell(
        name=f"Apply {SYSCTL}",
        commands=[f"sysctl -q -p {SYSCTL} || systemd-detect-virt -q --container"],
        _if=sysctl.did_change,
    )
    put_template("hardening/louieops-blacklist.conf.j2", MODPROBE, name=f"Upload {MODPROBE}", modules=UNUSED_MODULES)
    files.directory(name="Create /etc/systemd/coredump.conf.d", path="/etc/systemd/coredump.conf.d", mode="0755")
    put_template("hardening/coredump.conf.j2", COREDUMP, name=f"Upload {COREDUMP}")
    put_template("hardening/limits.conf.j2", LIMITS, name=f"Upload {LIMITS}")

    # configure: logins
    put_template(
        "hardening/louieops-shell.sh.j2", SHELL_PROFILE, name=f"Upload {SHELL_PROFILE}", seconds=IDLE_SHELL_SECONDS
    )
    files.put(
        name="Upload /etc/issue",
        src=StringIO(s.base_login_banner.rstrip("\n") + "\n"),
        dest="/etc/issue",
        user="root",
        group="root",
        mode="0644",
    )
    for key, value in LOGIN_DEFS.items():
        files.line(
            name=f"Set {key} {value} in /etc/login.defs",
            path="/etc/login.defs",
            line=rf"^#?\s*{key}\s",
            replace=f"{key}\t{value}",
        )
