"""SSH to a test server: the instance's key pair, the ssh command line, running a command, a login probe."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from . import procs
from .errors import TestbedError
from .rootfs import DEPLOY_USER

SSH_PORT = 22
#: In the instance's work directory: the deploy user's key pair and the server's pinned host keys.
KEY_FILE = "id_ed25519"
KNOWN_HOSTS_FILE = "known_hosts"


def generate_key(key: Path, comment: str) -> None:
    """A fresh passphrase-less ed25519 key pair at ``key`` and ``key.pub``."""
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(key)],
        check=True,
        stdout=subprocess.DEVNULL,
    )


@dataclass(frozen=True)
class SshTarget:
    """One test server as seen by ssh(1): its address, the instance's key and its pinned host keys."""

    address: str
    key: Path
    known_hosts: Path

    def argv(self, command: str | None = None, *, user: str = DEPLOY_USER) -> list[str]:
        argv = [
            "ssh",
            "-F",
            "/dev/null",
            "-i",
            str(self.key),
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            f"UserKnownHostsFile={self.known_hosts}",
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
            "BatchMode=yes",
            "-o",
            "ConnectTimeout=3",
            "-o",
            "LogLevel=ERROR",
            f"{user}@{self.address}",
        ]
        if command is not None:
            argv += ["--", command]
        return argv

    def run(
        self, command: str, *, check: bool, timeout: float, user: str, input: str | None
    ) -> subprocess.CompletedProcess[str]:
        """Run ``command`` (a shell command line) as ``user``; TestbedError if it fails and ``check``."""
        proc = subprocess.run(
            self.argv(command, user=user),
            text=True,
            capture_output=True,
            timeout=timeout,
            input=input,
            stdin=None if input is not None else subprocess.DEVNULL,
        )
        if check and proc.returncode != 0:
            raise TestbedError(
                f"ssh {self.address} {command!r} failed with {proc.returncode}:\n{proc.stdout}{proc.stderr}"
            )
        return proc

    def logs_in(self) -> bool:
        """Whether ``ssh true`` works right now (sshd listens and accepts the key)."""
        if not procs.tcp_open(self.address, SSH_PORT, timeout=0.5):
            return False
        return (
            subprocess.run(self.argv("true"), capture_output=True, stdin=subprocess.DEVNULL, timeout=30).returncode == 0
        )
