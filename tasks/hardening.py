"""Host hardening guided by Lynis (README "Security"): kernel and network sysctls, unneeded kernel modules
off, no core dumps, idle shells logged out, a login banner, compilers for root and the app user only, the
Debian tools that keep a patched system honest (needrestart, apt-listchanges, debsums) and a password
quality check (libpam-passwdqc, should a password ever be set). Not libpam-tmpdir: root's $TMPDIR would
become /tmp/user/0, where the deploy user cannot upload the files that sudo then moves into place.

Settings read: base_login_banner, app_user.

Each file is applied when it changes: sysctls with `sysctl -p` (in a container the host owns the kernel.*
keys: only the server's own net.* keys can be set there, so a refusal is accepted only in a container).
"""

from __future__ import annotations

from io import StringIO

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.facts.deb import DebPackages
from pyinfra.operations import apt, files, server

from louieops.facts.system import CompilersOpenToAll
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
COMPILERS = ["as", "cc", "gcc", "g++", "c++"]  # the names Lynis looks for in /usr/bin
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

    # install (the pending security updates are applied by the base step, before it configures anything)
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


@deploy("Compilers for the app user only")
def restrict_compilers():
    """Run after the runtime step (npm brings gcc for native modules): the compilers become root:<app_user>
    0750 through dpkg-statoverride (kept across upgrades), so the app's builds still compile and no other
    account (www-data, postgres, the monitor) can build an exploit on the server."""
    s = for_host(host)
    names = " ".join(COMPILERS)
    # Decided when planning, so the plan shows it: compilers open now, or a server whose runtime (and with it
    # npm's compilers) this very run installs.
    runtime_coming = "nodejs" not in host.get_fact(DebPackages)
    if not (runtime_coming or host.get_fact(CompilersOpenToAll, names=COMPILERS)):
        return
    server.shell(
        name=f"Restrict the compilers to root and {s.app_user}",
        commands=[
            f'for name in {names}; do readlink -e "/usr/bin/$name"; done | sort -u | while read -r path; do '
            f'dpkg-statoverride --list "$path" >/dev/null || '
            f'dpkg-statoverride --update --add root {s.app_user} 0750 "$path"; done'
        ],
    )
