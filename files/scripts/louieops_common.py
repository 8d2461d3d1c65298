# Managed by louieops (files/scripts/louieops_common.py); local edits are overwritten on the next deploy.
"""What the server-side scripts share: their configuration, JSON state files, sizes and ages as text, KPI
levels, served certificates, memory figures, and the call to send-alert.

Installed next to the scripts (scripts_dir), which import it from their own directory. Every path and
rule a script needs comes from its JSON config, written by the deploy (louieops/server_scripts.py); only
the config directory is known here. Standard library only.
"""

from __future__ import annotations

import json
import os
import socket
import ssl
import subprocess
import time

#: Where the deploy writes the scripts' configuration (louieops.layout.CONFIG_DIR; a test keeps them equal).
CONFIG_DIR = "/etc/louieops"
#: The User-Agent of this server's own requests to its sites (health check, release gate): the API's KPIs
#: leave them out, they are not the API's traffic.
PROBE_USER_AGENT = "louieops-probe"
_MISSING = object()


def config_path(filename, env_name):
    """<CONFIG_DIR>/<filename>, or the path in the environment variable ``env_name`` (tests, one-off runs)."""
    return os.environ.get(env_name) or os.path.join(CONFIG_DIR, filename)


def run_as(user, script, argv):
    """Run as ``user`` when started as root (an operator at 3 a.m.): re-execute the script as that user, so it
    sees what its scheduled runs see (its database role, its state files). Returns only when no switch is
    needed."""
    import pwd
    import sys

    if not user or os.geteuid() != 0 or pwd.getpwnam(user).pw_uid == 0:
        return
    os.chdir("/")  # root's working directory (an operator's home) is unreadable to that user
    os.execvp("runuser", ["runuser", "-u", user, "--", sys.executable, os.path.realpath(script), *argv])


def sibling(name):
    """A script installed next to this module, i.e. next to the scripts (used when a config cannot name it)."""
    return os.path.join(os.path.dirname(os.path.realpath(__file__)), name)


def load_json(path, default=_MISSING):
    """The JSON document at ``path``; ``default`` when the file is missing (without one, the error is raised)."""
    try:
        with open(path) as fh:
            return json.load(fh)
    except FileNotFoundError:
        if default is _MISSING:
            raise
        return default


def write_json(path, data):
    """Replace ``path`` atomically: a reader sees the old or the new document, never half of one."""
    tmp = path + ".tmp"
    with open(tmp, "w") as fh:
        json.dump(data, fh, indent=1, sort_keys=True)
    os.replace(tmp, path)


def read_json_lines(path):
    """The objects of a JSON-lines file (a history); a line that does not parse (a write cut short) is left
    out, not fatal; a missing file has none."""
    lines = []
    try:
        with open(path) as fh:
            for text in fh:
                try:
                    lines.append(json.loads(text))
                except ValueError:
                    continue
    except FileNotFoundError:
        pass
    return [line for line in lines if isinstance(line, dict)]


def write_json_lines(path, lines):
    """Replace the JSON-lines file ``path`` atomically with ``lines`` (one object per line, keys sorted)."""
    with open(f"{path}.tmp", "w") as fh:
        fh.write("".join(json.dumps(line, sort_keys=True) + "\n" for line in lines))
    os.replace(f"{path}.tmp", path)


def new_lines(path, offsets):
    """Lines appended to PATH since the offset remembered for it in OFFSETS (updated; restarts at 0 after
    rotation)."""
    st = os.stat(path)
    ident = f"{st.st_ino}"
    start = offsets.get(path, {}).get("offset", 0) if offsets.get(path, {}).get("inode") == ident else 0
    if start > st.st_size:
        start = 0
    with open(path, "rb") as fh:
        fh.seek(start)
        data = fh.read()
    offsets[path] = {"inode": ident, "offset": start + len(data)}
    return data.decode("utf-8", errors="replace").splitlines()


def human_size(size):
    """1536 -> '1.5 KB' (bytes without decimals)."""
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(size) < 1024 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return str(size)


def ago(seconds):
    """Seconds as '12m', '3.5h' or '2.0d'."""
    seconds = max(0, int(seconds))
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        return f"{seconds / 3600:.1f}h"
    return f"{seconds / 86400:.1f}d"


def classify(value, levels, lower_is_worse=False):
    """ok / warning / critical of a measured value against {"warning": w, "critical": c} (None: no level)."""
    levels = levels or {}
    warning, critical = levels.get("warning"), levels.get("critical")

    def past(limit):
        return limit is not None and (value < limit if lower_is_worse else value > limit)

    if past(critical):
        return "critical"
    if past(warning):
        return "warning"
    return "ok"


def meminfo(text=None):
    """/proc/meminfo as {name: bytes}."""
    if text is None:
        with open("/proc/meminfo") as fh:
            text = fh.read()
    values = {}
    for line in text.splitlines():
        name, _, rest = line.partition(":")
        if rest.split():
            values[name] = int(rest.split()[0]) * 1024
    return values


def memory_used_pct(values):
    """(MemTotal - MemAvailable) / MemTotal in percent: what the kernel cannot hand out without swapping."""
    total, available = values["MemTotal"], values["MemAvailable"]
    return round(100.0 * (total - available) / total, 1)


def served_cert_days(domain, port=443, timeout=10):
    """Days until the certificate nginx serves for ``domain`` (SNI) on this host expires."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the expiry of what is served is measured, not trust
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as raw:
        with context.wrap_socket(raw, server_hostname=domain) as tls:
            der = tls.getpeercert(binary_form=True)
    out = subprocess.run(
        ["openssl", "x509", "-inform", "DER", "-noout", "-enddate"],
        input=der,
        capture_output=True,
        timeout=10,
        check=True,
    ).stdout.decode()
    not_after = ssl.cert_time_to_seconds(out.strip().split("=", 1)[1])
    return round((not_after - time.time()) / 86400, 1)


def resolve_here(scheme, domain):
    """curl's --resolve value that sends ``domain`` to nginx on this host: the check sees what is served."""
    return f"{domain}:{443 if scheme == 'https' else 80}:127.0.0.1"


def curl_health(url, resolve=None, verify=True, timeout=10):
    """(healthy, detail, seconds) of one GET of a /health URL."""
    command = [
        "curl",
        "-sS",
        "-A",
        PROBE_USER_AGENT,
        "-m",
        str(timeout),
        "-o",
        "-",
        "-w",
        "\n%{http_code} %{time_total}",
    ]
    if resolve:
        command += ["--resolve", resolve]
    if not verify:
        command.append("-k")
    command.append(url)
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout + 5)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, f"curl failed: {exc}", None
    body, _, tail = result.stdout.rpartition("\n")
    if result.returncode != 0:
        return False, (result.stderr.strip().splitlines() or [f"curl exit {result.returncode}"])[0][:200], None
    code, _, seconds = tail.partition(" ")
    try:
        status = json.loads(body).get("status")
    except (ValueError, AttributeError):
        status = None
    if code != "200" or status != "healthy":
        return False, f"HTTP {code}, status {status!r}", float(seconds or 0)
    return True, "healthy", float(seconds)


def send_alert(path, *arguments, timeout=120):
    """Run send-alert; (exit status, its one-line answer or what went wrong). Never raises."""
    try:
        done = subprocess.run([path, *arguments], capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return 127, f"send-alert failed: {exc}"
    if done.returncode != 0:
        return done.returncode, f"send-alert exit {done.returncode}: {(done.stderr or done.stdout).strip()[:200]}"
    return 0, done.stdout.strip()


def backup_status(status_dir, kind):
    """The last good backup of ``kind`` ({"time", "file", "size", ...}, written by the backup jobs after
    each good run), or None before the first one. Raises OSError/ValueError when it cannot be read."""
    path = os.path.join(status_dir, f"{kind}.json")
    status = load_json(path, default=None)
    if status is not None and not isinstance(status, dict):
        raise ValueError(f"{path} holds no status object")
    return status
