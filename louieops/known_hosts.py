"""The deploy's own known_hosts file, kept in step when the deploy changes the server's host keys.

The new keys are read over the deploy's SSH connection, which was verified against the old keys, so
writing them is as safe as OpenSSH's UpdateHostKeys. Only the lines of this host are replaced (plain or
hashed, any key type); every other line, comments and markers included, stays as it was.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from pathlib import Path

DEFAULT_FILE = "~/.ssh/known_hosts"


def host_pattern(hostname: str, port: int) -> str:
    """How known_hosts names a host: ``name`` on port 22, ``[name]:port`` elsewhere."""
    return hostname if port == 22 else f"[{hostname}]:{port}"


def _matches(field: str, pattern: str) -> bool:
    if field.startswith("|1|"):
        salt, _, digest = field[3:].partition("|")
        try:
            mac = hmac.new(base64.b64decode(salt), pattern.encode(), hashlib.sha1).digest()
        except ValueError:
            return False
        return hmac.compare_digest(base64.b64encode(mac).decode(), digest)
    return pattern in field.split(",")


def replace_host_keys(text: str, pattern: str, keys: list[list[str]]) -> str | None:
    """``text`` with the lines of ``pattern`` replaced by ``keys`` ([type, base64] pairs), or None when
    the file names the host nowhere (the file is then left alone: it is not the one that verifies it)."""
    kept, found = [], False
    for line in text.splitlines():
        fields = line.split()
        if fields and not line.startswith("#") and not fields[0].startswith("@") and _matches(fields[0], pattern):
            found = True
            continue
        kept.append(line)
    if not found:
        return None
    return "\n".join(kept + [f"{pattern} {kind} {key}" for kind, key in keys]) + "\n"


def update_file(path: str, pattern: str, keys: list[list[str]]) -> bool:
    """Rewrite ``path`` (atomically, same mode) with the host's new keys; False when it names the host nowhere."""
    target = Path(os.path.expanduser(path))
    if not target.exists():
        return False
    text = replace_host_keys(target.read_text(), pattern, keys)
    if text is None:
        return False
    scratch = target.with_name(target.name + ".louieops-new")
    scratch.write_text(text)
    os.chmod(scratch, target.stat().st_mode & 0o777)
    os.replace(scratch, target)
    return True
