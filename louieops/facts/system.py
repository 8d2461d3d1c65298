"""System facts: installed memory and the TLS certificate lineages certbot manages."""

from __future__ import annotations

from pyinfra.api import FactBase, QuoteString, StringCommand
from pyinfra.api.exceptions import FactProcessError


class MemTotalMb(FactBase[int]):
    """
    The RAM of the host in MiB, read from /proc/meminfo (needs no extra package, unlike vmstat).

    .. code:: python

        2048
    """

    def command(self) -> str:
        return "grep '^MemTotal:' /proc/meminfo"

    @staticmethod
    def default() -> int:
        return 0

    def process(self, output: list[str]) -> int:
        return parse_meminfo_total_mb(output)


def parse_meminfo_total_mb(lines: list[str]) -> int:
    """``MemTotal:  2048000 kB`` -> 2000 (MiB)."""
    for line in lines:
        fields = line.split()
        if len(fields) >= 2 and fields[0] == "MemTotal:" and fields[1].isdigit():
            return int(fields[1]) // 1024
    raise FactProcessError(f"no MemTotal line in {lines!r}")


# Markers separating the two parts of the CertbotCertificate output.
_SERVER_MARK = "#server:"
_DNS_MARK = "#dns:"


class CertbotCertificate(FactBase[dict]):
    """
    A certbot certificate lineage: its names (from the live certificate) and ACME server (from the
    renewal configuration). Empty dict when the lineage does not exist.

    .. code:: python

        {"domains": ["api.example.com", "example.com"], "server": "https://acme.example/dir"}
    """

    def command(self, cert_name: str) -> StringCommand:
        live = f"/etc/letsencrypt/live/{cert_name}/cert.pem"
        renewal = f"/etc/letsencrypt/renewal/{cert_name}.conf"
        return StringCommand(
            "if test -f",
            QuoteString(live),
            "&& test -f",
            QuoteString(renewal),
            "; then",
            "echo",
            QuoteString(_SERVER_MARK),
            "; grep -E '^server *=' ",
            QuoteString(renewal),
            "|| true;",
            "echo",
            QuoteString(_DNS_MARK),
            ";",
            "openssl x509 -noout -ext subjectAltName -in",
            QuoteString(live),
            "; fi",
        )

    @staticmethod
    def default() -> dict:
        return {}

    def process(self, output: list[str]) -> dict:
        return parse_certbot_certificate(output)


def parse_certbot_certificate(lines: list[str]) -> dict:
    """Parse the output of :class:`CertbotCertificate` into ``{"domains": [...], "server": ...}``."""
    if not lines:
        return {}
    server, domains, section = None, set(), None
    for line in lines:
        text = line.strip()
        if text in (_SERVER_MARK, _DNS_MARK):
            section = text
        elif section == _SERVER_MARK and "=" in text:
            server = text.split("=", 1)[1].strip()
        elif section == _DNS_MARK:
            for item in text.split(","):
                item = item.strip()
                if item.startswith("DNS:"):
                    domains.add(item[4:])
    return {"domains": sorted(domains), "server": server}


class ResolvedPath(FactBase[str | None]):
    """
    ``readlink -f`` of a path: where a chain of links ends (None when it cannot be resolved).
    Compares time zones by file, so ``UTC`` and ``Etc/UTC`` (a link to it) count as the same.

    .. code:: python

        "/usr/share/zoneinfo/Etc/UTC"
    """

    def command(self, path: str) -> StringCommand:
        return StringCommand("readlink", "-f", QuoteString(path), "|| true")

    @staticmethod
    def default() -> None:
        return None

    def process(self, output: list[str]) -> str | None:
        return output[0].strip() if output and output[0].strip() else None


class NftTableExists(FactBase[bool]):
    """
    Whether an nftables table is loaded, e.g. ``family="inet", table="louieops_filter"``.

    .. code:: python

        True
    """

    requires_command = "nft"

    @staticmethod
    def default() -> bool:
        return False

    def command(self, family: str, table: str) -> StringCommand:
        return StringCommand(
            "nft",
            "list",
            "table",
            QuoteString(family),
            QuoteString(table),
            ">/dev/null",
            "2>&1",
            "&&",
            "echo",
            "yes",
            "||",
            "echo",
            "no",
        )

    def process(self, output: list[str]) -> bool:
        return output == ["yes"]


#: The locks apt and dpkg take (POSIX record locks), in the order apt takes them.
APT_LOCK_FILES = (
    "/var/lib/dpkg/lock-frontend",
    "/var/lib/dpkg/lock",
    "/var/lib/apt/lists/lock",
    "/var/cache/apt/archives/lock",
)
# `list`: one line "<path> <pid> <command>" per lock another process holds. `wait SECONDS`: until none is held,
# saying for whom every 30 s; exit 1 after SECONDS. Python, because apt's locks are fcntl locks (flock(1) does
# not see them) and /proc/locks names the holder.
_APT_LOCKS_SCRIPT = """
import fcntl, os, sys, time
def holders(paths):
    held = {}
    for line in open("/proc/locks"):
        parts = [p for p in line.split() if p != "->"]
        if len(parts) > 5 and parts[1] in ("POSIX", "OFDLCK"):
            held[parts[5].split(":")[-1]] = parts[4]
    found = []
    for path in paths:
        try:
            with open(path, "a") as fh:
                fcntl.lockf(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = held.get(str(os.stat(path).st_ino), "?")
            try:
                command = open(f"/proc/{pid}/comm").read().strip()
            except OSError:
                command = "?"
            found.append(f"{path} {pid} {command}")
        except OSError:
            pass
    return found
mode, paths = sys.argv[1], sys.argv[3:] if sys.argv[1] == "wait" else sys.argv[2:]
if mode == "list":
    print("\\n".join(holders(paths)))
    sys.exit(0)
end, said = time.time() + int(sys.argv[2]), 0
while True:
    found = holders(paths)
    if not found:
        sys.exit(0)
    if time.time() > end:
        print("still held after", sys.argv[2], "s:", "; ".join(found))
        sys.exit(1)
    if time.time() >= said:
        print("waiting for the apt/dpkg locks:", "; ".join(found), flush=True)
        said = time.time() + 30
    time.sleep(2)
"""


class AptLocks(FactBase[list]):
    """
    The apt/dpkg locks another process holds now: ``[{"path", "pid", "command"}]`` (empty when apt is free).

    .. code:: python

        [{"path": "/var/lib/dpkg/lock-frontend", "pid": "4242", "command": "apt-get"}]
    """

    requires_command = "python3"

    def command(self) -> StringCommand:
        return apt_locks_command()

    @staticmethod
    def default() -> list:
        return []

    def process(self, output: list[str]) -> list:
        return [dict(zip(("path", "pid", "command"), line.split(" ", 2), strict=True)) for line in output if line]


def apt_locks_command() -> StringCommand:
    """One line "<path> <pid> <command>" per apt/dpkg lock another process holds now."""
    return StringCommand("python3", "-c", QuoteString(_APT_LOCKS_SCRIPT), "list", *APT_LOCK_FILES)


def apt_wait_command(seconds: int) -> StringCommand:
    """Wait up to ``seconds`` for every apt/dpkg lock to be free, saying for whom; fail after that."""
    return StringCommand("python3", "-c", QuoteString(_APT_LOCKS_SCRIPT), "wait", str(int(seconds)), *APT_LOCK_FILES)


class CompilersOpenToAll(FactBase[list]):
    """
    The files behind /usr/bin/<name> for each of ``names`` that exist and carry no dpkg-statoverride yet
    (the files, not the alternatives links, are what a restriction must change).

    .. code:: python

        ["/usr/bin/x86_64-linux-gnu-as", "/usr/bin/x86_64-linux-gnu-gcc-12"]
    """

    def command(self, names: list[str]) -> StringCommand:
        return StringCommand(
            "for name in",
            *(QuoteString(name) for name in names),
            '; do readlink -e "/usr/bin/$name"; done | sort -u | while read -r path; do',
            'dpkg-statoverride --list "$path" >/dev/null || echo "$path"; done',
        )

    @staticmethod
    def default() -> list:
        return []

    def process(self, output: list[str]) -> list:
        return [line.strip() for line in output if line.strip()]
