"""The test server: a booted Debian (systemd-nspawn) in its own network namespace, with its peers.

Usage from pytest::

    with Testbed(name="e2e", release="bookworm") as tb:
        tb.ssh("systemctl is-system-running --wait", check=False)
        tb.reboot()

Processes are daemonized and recorded in ``/var/lib/louieops-testbed/<name>/state.json``, so an
instance started by the CLI (``up``) keeps running after the CLI exits, and ``Testbed.attach(name)``
finds it again. ``down`` removes everything; it is safe to call on a half-started or missing instance.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import ssl
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from . import image, inventory, network, peers, procs, rootfs
from .certs import write_listener_pki
from .paths import (
    APT_ARCHIVE_DIR,
    DEFAULT_RELEASE,
    REPO_ROOT,
    STATE_DIR,
    TRASH_DIR,
    instance_dir,
    netns_name,
    work_dir,
)
from .supervise import POWEROFF_SIGNAL, container_init

log = logging.getLogger(__name__)

SSH_PORT = 22
PeerFactory = Callable[[str], peers.PeerSpec]


class TestbedError(RuntimeError):
    """The test server could not be started, reached or stopped."""

    __test__ = False  # not a pytest test class


class AlreadyRunning(TestbedError):
    pass


class Recorder:
    """Client for the webhook recorder peer."""

    def __init__(self, url: str) -> None:
        self.url = url

    def requests(self) -> list[dict[str, Any]]:
        with urllib.request.urlopen(f"{self.url}/_recorded", timeout=5) as resp:
            return json.loads(resp.read())

    def clear(self) -> None:
        req = urllib.request.Request(f"{self.url}/_recorded", method="DELETE")
        with urllib.request.urlopen(req, timeout=5) as resp:
            resp.read()

    def wait_for(self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 10.0) -> dict[str, Any]:
        """Poll until a recorded request matches ``predicate``; return it."""

        def find() -> dict[str, Any] | None:
            return next((r for r in self.requests() if predicate(r)), None)

        return procs.wait_for(find, timeout, f"a matching request at {self.url}")  # type: ignore[return-value]


class Testbed:
    """One test server and its peers.

    + name: instance name (a-z, 0-9, '-'); also the server's hostname
    + release: Debian release of the image, ``bookworm`` or ``trixie``
    + domains: test domains that pebble-challtestsrv resolves to the server
    + trust_controller_cas: copy the controller's extra CAs into the server and point npm/Node at the
      system bundle (test-server option; production hosts never get this)
    + extra_peers: factories ``peer_address -> PeerSpec`` for additional stand-ins
    + boot_timeout: seconds to wait for SSH after starting (or restarting) the container
    """

    __test__ = False  # not a pytest test class

    def __init__(
        self,
        name: str = "demo",
        release: str = DEFAULT_RELEASE,
        *,
        domains: Iterable[str] = peers.DEFAULT_DOMAINS,
        trust_controller_cas: bool = True,
        extra_peers: Sequence[PeerFactory] = (),
        boot_timeout: float = 90.0,
    ) -> None:
        self.name = name
        self.release = release
        self.domains = tuple(domains)
        self.trust_controller_cas = trust_controller_cas
        self.extra_peers = tuple(extra_peers)
        self.boot_timeout = boot_timeout
        self.instance_dir = instance_dir(name)
        self.workdir = work_dir(name)
        self.state: dict[str, Any] = {}
        self.boot_seconds: float | None = None

    # ----- derived facts -------------------------------------------------------------------------

    @property
    def slot(self) -> int:
        return int(self.state["slot"])

    @property
    def address(self) -> str:
        """The server's address (its eth0)."""
        return network.slot_addresses(self.slot)[1]

    @property
    def peer_address(self) -> str:
        """The controller side of the veth, where every peer listens."""
        return network.slot_addresses(self.slot)[0]

    @property
    def root(self) -> Path:
        return self.instance_dir / "root"

    @property
    def ssh_key(self) -> Path:
        return self.workdir / "id_ed25519"

    @property
    def known_hosts(self) -> Path:
        return self.workdir / "known_hosts"

    @property
    def inventory_path(self) -> Path:
        return self.workdir / inventory.INVENTORY_FILE

    @property
    def env_path(self) -> Path:
        return self.workdir / inventory.ENV_FILE

    @property
    def env(self) -> dict[str, str]:
        """The secrets written to the env file (for ``subprocess.run(..., env={**os.environ, **tb.env})``)."""
        return inventory.parse_env(self.env_path.read_text())

    @property
    def acme_directory_url(self) -> str:
        return peers.acme_directory_url(self.peer_address)

    @property
    def s3_endpoint(self) -> str:
        return peers.s3_endpoint_url(self.peer_address)

    @property
    def recorder(self) -> Recorder:
        return Recorder(peers.recorder_url(self.peer_address))

    @property
    def listener_ca(self) -> Path:
        """CA of the peers' TLS listeners (pebble); trusted inside the server."""
        return self.instance_dir / "pki" / "ca.pem"

    @property
    def log_dir(self) -> Path:
        return self.instance_dir / "logs"

    # ----- lifecycle -----------------------------------------------------------------------------

    def __enter__(self) -> Testbed:
        self.up()
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        try:
            self.down()
        except TestbedError as error:
            if exc_type is None:
                raise
            log.error("%s", error)  # do not hide the exception that ended the block

    @classmethod
    def attach(cls, name: str) -> Testbed:
        """A handle on an instance that is already running (started by the CLI or another process)."""
        tb = cls(name)
        tb._load_state()
        if not tb.state:
            raise TestbedError(f"test server {name!r} does not exist (no {tb.instance_dir / 'state.json'})")
        tb.release = tb.state["release"]
        tb.domains = tuple(tb.state["domains"])
        tb.workdir = Path(tb.state["workdir"])
        return tb

    def is_running(self) -> bool:
        self._load_state()
        return procs.alive(self.state.get("supervisor"))

    def up(self) -> Testbed:
        """Boot the server and start the peers; write the inventory and env file. Cleans up on failure."""
        if self.is_running():
            raise AlreadyRunning(
                f"test server {self.name!r} is already running at {self.address}; "
                f"use `python -m louieops.testbed down --name {self.name}` first"
            )
        if self.state or self.instance_dir.exists():
            log.info("removing leftovers of a previous %r", self.name)
            self.down()
        image.ensure_image(self.release)
        try:
            self._up()
        except BaseException:
            log.error("start of test server %r failed; tearing down (logs in %s)", self.name, self.log_dir)
            self._keep_logs()
            self.down()
            raise
        return self

    def _up(self) -> None:
        started = time.monotonic()
        self.instance_dir.mkdir(parents=True)
        slot = network.allocate_slot(self.name)
        self.state = {
            "name": self.name,
            "release": self.release,
            "slot": slot,
            "domains": list(self.domains),
            "workdir": str(self.workdir),
            "repo": str(REPO_ROOT),
            "created": time.time(),
            "peers": {},
        }
        self._save_state()
        network.setup(self.name, slot)

        if self.workdir.exists():
            shutil.rmtree(self.workdir)
        self.workdir.mkdir(parents=True)
        subprocess.run(
            [
                "ssh-keygen",
                "-q",
                "-t",
                "ed25519",
                "-N",
                "",
                "-C",
                f"deploy@louieops-testbed-{self.name}",
                "-f",
                str(self.ssh_key),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        ca, cert, key = write_listener_pki(self.instance_dir / "pki", self.peer_address, self.name)

        # Peers start while the root file system is unpacked.
        specs = peers.default_peers(self.peer_address, self.instance_dir, cert, key)
        specs += [factory(self.peer_address) for factory in self.extra_peers]
        for spec in specs:
            self._start_peer(spec)

        image.extract_image(self.release, self.root)
        for spec in specs:
            self._wait_peer(spec)
        peers.add_dns_records(self.peer_address, self.domains, self.address)

        # The server trusts the ACME server's listener CA (certbot talks to it) and the root pebble issues
        # certificates under (so the server's own health check verifies its site like in production).
        pebble_root = self.instance_dir / "pki" / "louieops-testbed-pebble-root.crt"
        pebble_root.write_text(self.pebble_root_pem())
        rootfs.prepare(
            self.root,
            hostname=self.name,
            release=self.release,
            authorized_key=self.ssh_key.with_suffix(".pub").read_text(),
            extra_ca_files=[_as_crt(ca, self.instance_dir / "pki" / "louieops-testbed-listener-ca.crt"), pebble_root],
            trust_controller_cas=self.trust_controller_cas,
        )
        self.known_hosts.write_text(rootfs.host_key_lines(self.root, self.address))

        self._start_container()
        self.boot_seconds = self.wait_for_ssh()
        data = inventory.host_data(
            name=self.name,
            peer_address=self.peer_address,
            ssh_key=self.ssh_key,
            known_hosts=self.known_hosts,
            acme_directory_url=self.acme_directory_url,
            s3_endpoint_url=self.s3_endpoint,
            recorder_url=peers.recorder_url(self.peer_address),
            uptimerobot_url=peers.uptimerobot_url(self.peer_address),
            sentry_url=peers.sentry_url(self.peer_address),
        )
        inventory.write_workdir(
            self.workdir,
            name=self.name,
            address=self.address,
            data=data,
            env=inventory.generate_secrets(peers.recorder_url(self.peer_address), peers.SAAS_TOKEN),
        )
        self.state["boot_seconds"] = self.boot_seconds
        self._save_state()
        log.info(
            "test server %r (%s) up: boot to SSH %.1f s, total %.1f s",
            self.name,
            self.release,
            self.boot_seconds,
            time.monotonic() - started,
        )

    def _start_peer(self, spec: peers.PeerSpec) -> None:
        proc = procs.spawn(spec.argv, self.log_dir / f"{spec.name}.log", env=spec.env, cwd=REPO_ROOT)
        self.state["peers"][spec.name] = {**procs.record(proc.pid), "host": spec.host, "port": spec.port}
        self._save_state()

    def _wait_peer(self, spec: peers.PeerSpec, timeout: float = 30.0) -> None:
        rec = self.state["peers"][spec.name]

        def ready() -> bool:
            if not procs.alive(rec):
                raise TestbedError(
                    f"peer {spec.name} exited; see {self.log_dir / (spec.name + '.log')}:\n"
                    + _tail(self.log_dir / f"{spec.name}.log")
                )
            return procs.tcp_open(spec.host, spec.port, timeout=0.3)

        procs.wait_for(ready, timeout, f"peer {spec.name} on {spec.host}:{spec.port}", interval=0.05)

    def nspawn_argv(self) -> list[str]:
        archives = APT_ARCHIVE_DIR / self.release
        archives.mkdir(parents=True, exist_ok=True)
        upper = self.instance_dir / "apt-archives"
        upper.mkdir(exist_ok=True)
        return [
            "systemd-nspawn",
            "--quiet",
            "--directory",
            str(self.root),
            "--boot",
            "--register=no",
            "--keep-unit",
            f"--machine=lotb-{self.name}",
            f"--network-namespace-path=/run/netns/{netns_name(self.name)}",
            "--resolv-conf=off",
            # Keep the server's own /etc/localtime: nspawn would re-link it at every boot (a drift after reboot).
            "--timezone=off",
            "--link-journal=no",
            "--console=read-only",
            # The server's firewall (nftables) and fail2ban act on its own network namespace only.
            "--capability=CAP_NET_ADMIN",
            # Shared download cache: the pool is the lower layer, this instance writes to its own upper
            # layer (no cross-container apt lock contention); new .debs are merged back on teardown.
            f"--overlay={archives}:{upper}:/var/cache/apt/archives",
        ]

    def _start_container(self) -> None:
        status = self.instance_dir / "nspawn.json"
        status.unlink(missing_ok=True)
        argv = [sys.executable, "-m", "louieops.testbed.supervise", str(status), "--", *self.nspawn_argv()]
        proc = procs.spawn(argv, self.log_dir / "nspawn.log", env={"PYTHONPATH": str(REPO_ROOT)}, cwd=REPO_ROOT)
        self.state["supervisor"] = procs.record(proc.pid)
        self._save_state()
        procs.wait_for(
            lambda: status.exists() or not procs.alive(self.state["supervisor"]),
            30,
            "the supervisor to start systemd-nspawn",
            interval=0.02,
        )

    def container_status(self) -> dict[str, Any]:
        try:
            return json.loads((self.instance_dir / "nspawn.json").read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return {}

    @property
    def boots(self) -> int:
        """How many times the container has been started (1 after ``up``, +1 per reboot)."""
        return int(self.container_status().get("boots", 0))

    def container_pid1(self) -> int | None:
        rec = self.container_status().get("nspawn")
        if not procs.alive(rec):
            return None
        return container_init(rec["pid"])

    # ----- SSH -----------------------------------------------------------------------------------

    def ssh_argv(self, command: str | None = None, *, user: str = rootfs.DEPLOY_USER) -> list[str]:
        argv = [
            "ssh",
            "-F",
            "/dev/null",
            "-i",
            str(self.ssh_key),
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

    def ssh(
        self,
        command: str,
        *,
        check: bool = True,
        timeout: float = 300.0,
        user: str = rootfs.DEPLOY_USER,
        input: str | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run ``command`` on the server as ``user`` (a shell command line); return the completed process."""
        proc = subprocess.run(
            self.ssh_argv(command, user=user),
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

    def wait_for_ssh(self, timeout: float | None = None) -> float:
        """Poll until ``ssh true`` works; return the seconds waited. Fails early if the container died."""
        started = time.monotonic()

        def ready() -> bool:
            if not procs.alive(self.state.get("supervisor")):
                raise TestbedError(
                    f"the container stopped while booting; see {self.log_dir / 'nspawn.log'}:\n"
                    + _tail(self.log_dir / "nspawn.log")
                )
            if not procs.tcp_open(self.address, SSH_PORT, timeout=0.5):
                return False
            return (
                subprocess.run(
                    self.ssh_argv("true"), capture_output=True, stdin=subprocess.DEVNULL, timeout=30
                ).returncode
                == 0
            )

        procs.wait_for(ready, timeout or self.boot_timeout, f"SSH on {self.address}", interval=0.1)
        return time.monotonic() - started

    # ----- reboot and power --------------------------------------------------------------------

    def reboot(self, timeout: float | None = None) -> float:
        """Reboot from inside (``systemctl reboot``), wait for the restart and for SSH; return seconds."""
        before = self.boots
        started = time.monotonic()
        self.ssh("sudo systemctl reboot", check=False, timeout=30)
        self.wait_rebooted(before, timeout)
        return time.monotonic() - started

    def wait_rebooted(self, previous_boots: int, timeout: float | None = None) -> float:
        """Wait for a reboot someone else started (e.g. pyinfra's ``server.reboot``) to finish.

        ``previous_boots`` is :attr:`boots` read before the reboot. The supervisor restarts
        systemd-nspawn when the container reboots; this waits for that restart and then for SSH.
        """
        timeout = timeout or self.boot_timeout
        started = time.monotonic()

        def restarted() -> bool:
            if not procs.alive(self.state.get("supervisor")):
                raise TestbedError(
                    f"the container powered off instead of rebooting; see "
                    f"{self.log_dir / 'nspawn.log'}:\n" + _tail(self.log_dir / "nspawn.log")
                )
            return self.boots > previous_boots

        procs.wait_for(restarted, timeout, f"test server {self.name!r} to restart", interval=0.1)
        self.boot_seconds = self.wait_for_ssh(max(1.0, timeout - (time.monotonic() - started)))
        return time.monotonic() - started

    def poweroff(self, timeout: float = 60.0) -> None:
        """Clean shutdown: SIGRTMIN+4 to the container's PID 1, wait for systemd-nspawn (and supervisor)."""
        sup = self.state.get("supervisor")
        if not procs.alive(sup):
            return
        pid1 = self.container_pid1()
        if pid1 is not None:
            os.kill(pid1, POWEROFF_SIGNAL)
            try:
                procs.wait_for(lambda: not procs.alive(sup), timeout, "the container to power off", interval=0.1)
            except procs.WaitTimeout:
                log.warning("test server %r did not power off in %.0f s; killing it", self.name, timeout)
        if procs.alive(sup):
            procs.stop(sup, timeout=timeout)  # SIGTERM: the supervisor powers off again, then SIGKILL
        status = self.container_status()
        rec = status.get("nspawn")
        if procs.alive(rec):
            init = container_init(rec["pid"])
            if init:
                os.kill(init, signal.SIGKILL)
            procs.stop(rec, sig=signal.SIGKILL)

    # ----- peers ------------------------------------------------------------------------------

    def _ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.listener_ca))

    def pebble_root_pem(self, index: int = 0) -> str:
        """PEM of pebble's issuing root (management API ``/roots/<index>``); it changes on every start."""
        url = f"https://{self.peer_address}:{peers.PEBBLE_MANAGEMENT_PORT}/roots/{index}"
        with urllib.request.urlopen(url, context=self._ssl_context(), timeout=10) as resp:
            return resp.read().decode()

    # ----- teardown ---------------------------------------------------------------------------

    def down(self) -> None:
        """Remove processes, network, NAT, state and root; idempotent, also for half-started instances."""
        self._load_state()
        errors: list[str] = []

        def step(what: str, fn: Callable[[], object]) -> None:
            began = time.monotonic()
            try:
                fn()
            except Exception as exc:  # keep tearing down; report at the end
                log.warning("teardown of %r: %s failed: %s", self.name, what, exc)
                errors.append(f"{what}: {exc}")
            log.debug("teardown of %r: %s took %.2f s", self.name, what, time.monotonic() - began)

        step("poweroff", self.poweroff)
        for peer_name, rec in list(self.state.get("peers", {}).items()):
            step(f"stop peer {peer_name}", lambda rec=rec: procs.stop(rec))
        step("kill processes left in the network namespace", lambda: _kill_netns_pids(netns_name(self.name)))
        slot = self.state.get("slot")
        if slot is None:
            slot = next((s for s, owner in _slots().items() if owner == self.name), None)
        step("kill stray processes", lambda: self._kill_strays(slot))
        step("merge apt downloads", self._merge_apt_archives)
        step("network", lambda: network.teardown(self.name, slot))
        step("release slot", lambda: network.release_slot(self.name))
        self._keep_logs()
        step("remove instance dir", lambda: _remove_tree(self.instance_dir))
        for leftover in ("inventory.py", "env", "group_data", "id_ed25519", "id_ed25519.pub", "known_hosts"):
            path = self.workdir / leftover
            if path.is_symlink() or path.exists():
                path.unlink()
        self.state = {}
        if errors:
            raise TestbedError(f"teardown of test server {self.name!r} incomplete: " + "; ".join(errors))

    def _kill_strays(self, slot: int | None) -> None:
        """SIGKILL processes of this instance that its state does not record (e.g. state.json lost)."""
        from .cleanup import stray_processes

        peer = network.slot_addresses(slot)[0] if slot is not None else None
        for pid in stray_processes(self.name, peer):
            log.warning("killing stray process %s of %r: %s", pid, self.name, " ".join(procs.cmdline(pid)))
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def _merge_apt_archives(self) -> None:
        """Move packages this instance downloaded into the shared pool (atomic renames, no overwrites)."""
        upper = self.instance_dir / "apt-archives"
        release = self.state.get("release", self.release)
        pool = APT_ARCHIVE_DIR / release
        if not upper.is_dir():
            return
        pool.mkdir(parents=True, exist_ok=True)
        for deb in upper.glob("*.deb"):
            target = pool / deb.name
            if not target.exists():
                tmp = pool / f".{deb.name}.{os.getpid()}.tmp"
                shutil.copyfile(deb, tmp)
                os.replace(tmp, target)

    def _keep_logs(self) -> None:
        """Copy the instance's logs to ``.testbed/<name>/logs`` so they survive the teardown."""
        if self.log_dir.is_dir():
            dest = self.workdir / "logs"
            shutil.rmtree(dest, ignore_errors=True)
            shutil.copytree(self.log_dir, dest)

    def _load_state(self) -> None:
        try:
            self.state = json.loads((self.instance_dir / "state.json").read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            self.state = {}

    def _save_state(self) -> None:
        self.instance_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.instance_dir / "state.json.tmp"
        tmp.write_text(json.dumps(self.state, indent=2))
        os.replace(tmp, self.instance_dir / "state.json")


def _as_crt(pem: Path, dest: Path) -> Path:
    """update-ca-certificates only picks up ``*.crt`` files."""
    shutil.copyfile(pem, dest)
    return dest


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"


def _slots() -> dict[int, str]:
    with network.locked():
        return network.read_slots()


def _kill_netns_pids(ns: str) -> None:
    if ns not in network.list_netns():
        return
    out = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True).stdout
    for pid in (int(p) for p in out.split()):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def mounts_under(path: Path) -> list[str]:
    """Mount points at or below ``path`` in our mount namespace."""
    prefix = str(path.resolve()) if path.exists() else str(path)
    result = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        point = line.split()[4].replace("\\040", " ")
        if point == prefix or point.startswith(prefix + "/"):
            result.append(point)
    return result


def _remove_tree(path: Path) -> None:
    """rm -rf, but never across a mount point (that would delete the mounted file system's content)."""
    if not path.exists():
        return
    for point in sorted(mounts_under(path), key=len, reverse=True):
        subprocess.run(["umount", "--lazy", point], check=False)
    remaining = mounts_under(path)
    if remaining:
        raise TestbedError(f"refusing to delete {path}: still mounted: {', '.join(remaining)}")
    # Deleting a root file system takes ~5 s here: move it aside (instant, same file system) and let a
    # detached, low-priority rm(1) finish the job. rm never crosses mounts (--one-file-system).
    TRASH_DIR.mkdir(parents=True, exist_ok=True)
    trash = TRASH_DIR / f"{path.name}-{os.getpid()}-{time.monotonic_ns()}"
    os.rename(path, trash)
    subprocess.Popen(
        ["nice", "-n", "19", "ionice", "-c", "2", "-n", "7", "rm", "-rf", "--one-file-system", "--", str(trash)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def list_instances() -> list[str]:
    if not STATE_DIR.is_dir():
        return []
    return sorted(p.name for p in STATE_DIR.iterdir() if p.is_dir() and not p.name.startswith("."))
