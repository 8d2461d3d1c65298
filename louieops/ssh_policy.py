"""The SSH server's algorithms: exactly those of ssh-audit's built-in hardened policy for the Debian release.

ssh-audit compares the lists the server offers with the policy's, in order (kex-strict-s-v00@openssh.com and,
on OpenSSH 9.6+, ext-info-s are added by sshd itself). The e2e test audits the server with the policy named
here, so the name and the lists cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Host keys the server keeps: (type, file, bits); ssh-audit's policies want RSA of 4096 bits.
HOST_KEYS = (
    ("ed25519", "/etc/ssh/ssh_host_ed25519_key", 256),
    ("rsa", "/etc/ssh/ssh_host_rsa_key", 4096),
)
HOST_KEY_ALGORITHMS = ("ssh-ed25519", "rsa-sha2-512", "rsa-sha2-256")
CIPHERS = (
    "chacha20-poly1305@openssh.com",
    "aes256-gcm@openssh.com",
    "aes256-ctr",
    "aes192-ctr",
    "aes128-gcm@openssh.com",
    "aes128-ctr",
)


@dataclass(frozen=True)
class SshPolicy:
    """One ssh-audit policy: its name and the algorithm lists of sshd_config, in the policy's order."""

    name: str
    kex: tuple[str, ...]
    macs: tuple[str, ...]
    #: Smallest Diffie-Hellman group-exchange modulus kept in /etc/ssh/moduli (None: no group exchange).
    moduli_min_bits: int | None
    ciphers: tuple[str, ...] = CIPHERS
    host_key_algorithms: tuple[str, ...] = HOST_KEY_ALGORITHMS


DEBIAN_12 = SshPolicy(
    name="Hardened Debian 12 (version 3)",
    kex=(
        "sntrup761x25519-sha512",
        "sntrup761x25519-sha512@openssh.com",
        "curve25519-sha256",
        "curve25519-sha256@libssh.org",
        "diffie-hellman-group16-sha512",
        "diffie-hellman-group18-sha512",
        "diffie-hellman-group-exchange-sha256",
    ),
    macs=("hmac-sha2-256-etm@openssh.com", "hmac-sha2-512-etm@openssh.com", "umac-128-etm@openssh.com"),
    moduli_min_bits=3072,
)
#: The one key exchange added to Debian 13's list: the deploy's SSH client (paramiko 4, the newest pyinfra 3
#: allows) has none of the policy's post-quantum ones, and without it the deploy could not connect again.
#: It goes last, so every OpenSSH client still negotiates a post-quantum exchange; ssh-audit's policy check
#: reports exactly this one difference until pyinfra takes paramiko 5 (which has mlkem768x25519-sha256).
DEPLOY_CLIENT_KEX = "curve25519-sha256@libssh.org"
DEBIAN_13 = SshPolicy(
    name="Hardened Debian 13 (version 1)",
    kex=("mlkem768x25519-sha256", "sntrup761x25519-sha512", "sntrup761x25519-sha512@openssh.com", DEPLOY_CLIENT_KEX),
    macs=("hmac-sha2-512-etm@openssh.com", "hmac-sha2-256-etm@openssh.com", "umac-128-etm@openssh.com"),
    moduli_min_bits=None,
)


def policy_for(debian_major: int | None) -> SshPolicy:
    """The policy of a Debian release (13 and later: Debian 13's; older or unknown: Debian 12's)."""
    return DEBIAN_13 if (debian_major or 0) >= 13 else DEBIAN_12
