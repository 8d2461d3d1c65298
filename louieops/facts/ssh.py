"""sshd facts: the size of a host key, the weak group-exchange moduli, the host's public keys."""

from __future__ import annotations

from pyinfra.api import FactBase, QuoteString, StringCommand

MODULI = "/etc/ssh/moduli"


class SshHostKeyBits(FactBase[int]):
    """
    Bits of the host key whose private key is at ``path`` (0 when it is missing or unreadable).

    .. code:: python

        4096
    """

    def command(self, path: str) -> StringCommand:
        return StringCommand("ssh-keygen -l -f", QuoteString(f"{path}.pub"), "2>/dev/null || true")

    @staticmethod
    def default() -> int:
        return 0

    def process(self, output: list[str]) -> int:
        fields = output[0].split() if output else []
        return int(fields[0]) if fields and fields[0].isdigit() else 0


class WeakModuli(FactBase[int]):
    """
    How many Diffie-Hellman group-exchange moduli in /etc/ssh/moduli are smaller than ``min_bits``
    (the file's size field is the modulus size minus one).

    .. code:: python

        143
    """

    def command(self, min_bits: int) -> str:
        return f"awk '$1 !~ /^#/ && NF >= 7 && $5 < {min_bits - 1}' {MODULI} 2>/dev/null | wc -l"

    @staticmethod
    def default() -> int:
        return 0

    def process(self, output: list[str]) -> int:
        return int(output[0]) if output and output[0].strip().isdigit() else 0


class SshHostPublicKeys(FactBase[list]):
    """
    The public host keys at ``paths`` (each ``<private key>.pub``), as ``[type, base64]`` pairs.

    .. code:: python

        [["ssh-ed25519", "AAAAC3Nz..."], ["ssh-rsa", "AAAAB3Nz..."]]
    """

    def command(self, paths: list[str]) -> StringCommand:
        return StringCommand("cat", *(QuoteString(f"{path}.pub") for path in paths))

    @staticmethod
    def default() -> list:
        return []

    def process(self, output: list[str]) -> list:
        return [line.split()[:2] for line in output if len(line.split()) >= 2]
