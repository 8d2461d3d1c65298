"""Turn a fresh copy of the cached image into one test server's root file system (before boot)."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Mapping
from pathlib import Path

DEPLOY_USER = "deploy"
CONTROLLER_CA_DIR = Path("/usr/local/share/ca-certificates")
SYSTEM_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
#: Debian's npm reads its global config from /etc/npmrc (its builtin /usr/share/nodejs/npm/npmrc sets
#: ``globalconfig=/etc/npmrc``), not from the upstream default ``$PREFIX/etc/npmrc``.
NPM_GLOBAL_CONFIG = "etc/npmrc"

SSHD_DROPIN = """\
# louieops testbed: key-only logins as the deploy user.
PermitRootLogin no
PasswordAuthentication no
KbdInteractiveAuthentication no
"""

APT_KEEP_ARCHIVES = """\
// louieops testbed: /var/cache/apt/archives is a shared download cache; keep what is downloaded.
APT::Keep-Downloaded-Packages "true";
Binary::apt::APT::Keep-Downloaded-Packages "true";
APT::Periodic::AutocleanInterval "0";
APT::Periodic::CleanInterval "0";
"""


def chroot(root: Path, *argv: str) -> None:
    subprocess.run(
        ["chroot", str(root), *argv],
        check=True,
        env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C", "DEBIAN_FRONTEND": "noninteractive"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def resolv_conf_lines(host_resolv: str) -> str:
    """The nameserver/search/options lines of the controller's resolv.conf (loopback resolvers dropped)."""
    keep = []
    for line in host_resolv.splitlines():
        words = line.split()
        if not words or words[0] not in ("nameserver", "search", "domain", "options"):
            continue
        if words[0] == "nameserver" and (words[1].startswith("127.") or words[1] == "::1"):
            continue
        keep.append(line.strip())
    return "\n".join(keep) + "\n"


def apt_sources(release: str) -> str:
    return (
        f"deb http://deb.debian.org/debian {release} main\n"
        f"deb http://deb.debian.org/debian {release}-updates main\n"
        f"deb http://deb.debian.org/debian-security {release}-security main\n"
    )


def copy_as_crt(pem: Path, dest: Path) -> Path:
    """A copy of a CA file named for ``extra_ca_files``: update-ca-certificates only picks up ``*.crt`` files."""
    shutil.copyfile(pem, dest)
    return dest


def prepare(
    root: Path,
    *,
    hostname: str,
    hosts: Mapping[str, str],
    release: str,
    authorized_key: str,
    extra_ca_files: list[Path],
    trust_controller_cas: bool = True,
) -> None:
    """Identity, deploy user, sshd, DNS (``hosts``: name -> address lines of /etc/hosts), apt and CA trust
    for a root file system that is not running."""
    etc = root / "etc"
    (etc / "hostname").write_text(hostname + "\n")
    (etc / "hosts").write_text(
        f"127.0.0.1\tlocalhost\n127.0.1.1\t{hostname}\n::1\tlocalhost ip6-localhost ip6-loopback\n"
        + "".join(f"{address}\t{name}\n" for name, address in hosts.items())
    )
    (etc / "machine-id").write_text(uuid.uuid4().hex + "\n")
    resolv = etc / "resolv.conf"
    if resolv.is_symlink():
        resolv.unlink()
    resolv.write_text(resolv_conf_lines(Path("/etc/resolv.conf").read_text()))
    (etc / "apt/sources.list").write_text(apt_sources(release))
    (etc / "apt/apt.conf.d/99louieops-testbed-keep-archives").write_text(APT_KEEP_ARCHIVES)

    # SSH: fresh host keys for this instance, key-only logins, no root.
    for old in (etc / "ssh").glob("ssh_host_*"):
        old.unlink()
    subprocess.run(["ssh-keygen", "-q", "-A", "-f", str(root)], check=True, stdout=subprocess.DEVNULL)
    (etc / "ssh/sshd_config.d").mkdir(exist_ok=True)
    (etc / "ssh/sshd_config.d/50-louieops-testbed.conf").write_text(SSHD_DROPIN)

    # The deploy user: passwordless sudo, one authorized key.
    chroot(root, "useradd", "--create-home", "--shell", "/bin/bash", "--groups", "sudo", DEPLOY_USER)
    sudoers = etc / "sudoers.d" / DEPLOY_USER
    sudoers.write_text(f"{DEPLOY_USER} ALL=(ALL:ALL) NOPASSWD: ALL\n")
    sudoers.chmod(0o440)
    home = root / "home" / DEPLOY_USER
    ssh_dir = home / ".ssh"
    ssh_dir.mkdir(mode=0o700, exist_ok=True)
    (ssh_dir / "authorized_keys").write_text(authorized_key.strip() + "\n")
    (ssh_dir / "authorized_keys").chmod(0o600)
    st = home.stat()
    for path in (ssh_dir, ssh_dir / "authorized_keys"):
        os.chown(path, st.st_uid, st.st_gid)

    # CA trust: the peers' listener CA always; the controller's extra CAs (egress proxy etc.) as an option.
    ca_dir = root / CONTROLLER_CA_DIR.relative_to("/")
    ca_dir.mkdir(parents=True, exist_ok=True)
    cas = list(extra_ca_files)
    if trust_controller_cas and CONTROLLER_CA_DIR.is_dir():
        cas += sorted(p for p in CONTROLLER_CA_DIR.rglob("*.crt") if p.is_file())
    for ca in cas:
        shutil.copyfile(ca, ca_dir / ca.name)
    if cas:
        chroot(root, "update-ca-certificates")
    if trust_controller_cas:
        (root / NPM_GLOBAL_CONFIG).write_text(f"cafile={SYSTEM_CA_BUNDLE}\n")
        env_file = etc / "environment"
        existing = env_file.read_text() if env_file.exists() else ""
        env_file.write_text(existing + f"NODE_EXTRA_CA_CERTS={SYSTEM_CA_BUNDLE}\n")


def host_key_lines(root: Path, address: str) -> str:
    """known_hosts lines for the instance's freshly generated host keys."""
    lines = []
    for pub in sorted((root / "etc/ssh").glob("ssh_host_*_key.pub")):
        keytype, key = pub.read_text().split()[:2]
        lines.append(f"{address} {keytype} {key}")
    return "\n".join(lines) + "\n"
