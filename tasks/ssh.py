"""sshd to ssh-audit's hardened policy for the Debian release (louieops/ssh_policy.py): its algorithms
only, host keys ed25519 and RSA of 4096 bits, group-exchange moduli of 3072 bits and more (Debian 12),
at most a few unauthenticated connections per address, no root logins, no passwords, a login banner.
Checked with `sshd -t` before every reload.

Settings read: base_login_banner.

Host keys: a missing ed25519 key is made, an RSA key under 4096 bits is regenerated once. A reload leaves
open connections alone (the deploy's included: each keeps the keys it was opened with), and the deploy
then writes the new keys into its own known_hosts file (ssh_known_hosts_file, or ~/.ssh/known_hosts)
for the lines naming this host, so the next run verifies the new keys (louieops/known_hosts.py).
"""

from __future__ import annotations

from io import StringIO

from pyinfra import host, logger
from pyinfra.api import deploy
from pyinfra.facts.server import LinuxDistribution
from pyinfra.operations import files, python, server
from pyinfra.operations.util import any_changed

from louieops import known_hosts
from louieops.facts.ssh import MODULI, SshHostKeyBits, SshHostPublicKeys, WeakModuli
from louieops.resources import put_template
from louieops.settings import for_host
from louieops.ssh_policy import HOST_KEYS, policy_for

SSH_HARDENING = "/etc/ssh/sshd_config.d/10-louieops-hardening.conf"
BANNER = "/etc/issue.net"
#: Unauthenticated connections sshd accepts from one address at a time (MaxStartups counts all of them).
PER_SOURCE_MAX_STARTUPS = 3
#: Who may log in over SSH: the administrators (sudo) and the members of SSH_GROUP, which the deploy's own SSH
#: user always joins (so the deploy can never lock itself out); service users (app, backups, monitor) never.
SSH_GROUP = "ssh-users"


def _regenerate(kind: str, path: str, bits: int) -> list[str]:
    """Commands that make a new host key at ``path`` beside the old one, then move it into place."""
    size = [] if kind == "ed25519" else ["-b", str(bits)]
    return [
        f"rm -f {path}.louieops-new {path}.louieops-new.pub",
        " ".join(["ssh-keygen", "-q", "-t", kind, *size, "-N", "''", "-C", "''", "-f", f"{path}.louieops-new"]),
        f"mv {path}.louieops-new.pub {path}.pub",
        f"mv {path}.louieops-new {path}",
    ]


def _update_known_hosts() -> None:
    """Runs on the controller once the keys changed: the deploy's known_hosts learns them."""
    keys = host.get_fact(SshHostPublicKeys, paths=[path for _kind, path, _bits in HOST_KEYS])
    pattern = known_hosts.host_pattern(host.data.get("ssh_hostname") or host.name, host.data.get("ssh_port") or 22)
    path = host.data.get("ssh_known_hosts_file") or known_hosts.DEFAULT_FILE
    if known_hosts.update_file(path, pattern, keys):
        logger.warning(f"{host.name}: the SSH host keys changed; {path} now holds the new ones for {pattern}")
    else:
        logger.warning(f"{host.name}: the SSH host keys changed; update the known_hosts entries of {pattern}")


@deploy("SSH server")
def harden_ssh():
    s = for_host(host)
    policy = policy_for(host.get_fact(LinuxDistribution).get("major"))

    # configure: who may log in
    server.group(name=f"Create the group {SSH_GROUP}", group=SSH_GROUP, system=True)
    deploy_user = host.data.get("ssh_user")
    if deploy_user:
        server.user(name=f"Add {deploy_user} to {SSH_GROUP}", user=deploy_user, groups=[SSH_GROUP], append=True)

    # configure: host keys (made once; the ecdsa key stays on disk but is no longer offered). Weak keys and
    # moduli are known when planning, so the plan shows exactly what changes.
    rotated = [
        server.shell(
            name=f"Make the {kind} host key ({bits} bits)",
            commands=_regenerate(kind, path, bits),
        )
        for kind, path, bits in HOST_KEYS
        if host.get_fact(SshHostKeyBits, path=path) < bits
    ]
    changes = list(rotated)
    if policy.moduli_min_bits and host.get_fact(WeakModuli, min_bits=policy.moduli_min_bits) > 0:
        minimum = policy.moduli_min_bits
        changes.append(
            server.shell(
                name=f"Keep only group-exchange moduli of {minimum} bits and more in {MODULI}",
                commands=[
                    f"awk '$1 ~ /^#/ || $5 >= {minimum - 1}' {MODULI} > {MODULI}.louieops-new",
                    f"mv {MODULI}.louieops-new {MODULI}",
                ],
            )
        )
    changes.append(
        files.put(
            name=f"Upload {BANNER}",
            src=StringIO(s.base_login_banner.rstrip("\n") + "\n"),
            dest=BANNER,
            user="root",
            group="root",
            mode="0644",
        )
    )
    changes.append(
        put_template(
            f"base/{SSH_HARDENING.rsplit('/', 1)[1]}.j2",
            SSH_HARDENING,
            name=f"Upload {SSH_HARDENING}",
            policy=policy,
            host_keys=HOST_KEYS,
            per_source_max_startups=PER_SOURCE_MAX_STARTUPS,
            allow_groups=["sudo", SSH_GROUP],
            banner=BANNER,
        )
    )

    # activate: check, reload (open connections stay), then tell the deploy's known_hosts
    server.shell(
        name="Check the sshd configuration and reload ssh",
        commands=["sshd -t", "systemctl reload ssh"],
        _if=any_changed(*changes),
    )
    if rotated:
        python.call(
            name="Write the new host keys into the deploy's known_hosts",
            function=_update_known_hosts,
            _if=any_changed(*rotated),
        )
