"""The test server: a booted Debian (systemd-nspawn) in its own network namespace, with its peers.

Usage from pytest::

    with Testbed(name="e2e", release="bookworm") as tb:
        tb.ssh("systemctl is-system-running --wait", check=False)
        tb.reboot()

Processes are daemonized and recorded in ``/var/lib/louieops-testbed/<name>/state.json``, so an
instance started by the CLI (``up``) keeps running after the CLI exits, and ``Testbed.attach(name)``
finds it again. ``down`` removes everything; it is safe to call on a half-started or missing instance.

This module is the orchestration (boot, peers, teardown order); each step's mechanics live in the
module named for it (network, image, rootfs, container, ssh, peers, inventory, cleanup).
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from . import cleanup, client, container, image, inventory, network, peers, procs, rootfs
from .apprepo import AppRepo
from .certs import write_listener_pki
from .errors import AlreadyRunning, TestbedError
from .paths import DEFAULT_RELEASE, REPO_ROOT, instance_dir, netns_name, work_dir
from .recorder import Recorder
from .smtp_recorder import MailRecorder
from .ssh import KEY_FILE, KNOWN_HOSTS_FILE, SshTarget, generate_key
from .state import STATE_FILE, load_state, save_state

log = logging.getLogger(__name__)

PeerFactory = Callable[[str], peers.PeerSpec]


class Testbed(inventory.InventoryFiles):
    """One test server and its peers.

    + name: instance name (a-z, 0-9, '-'); also the server's hostname
    + release: Debian release of the image, ``bookworm`` or ``trixie``
    + domains: test domains that pebble-challtestsrv resolves to the server
    + trust_controller_cas: copy the controller's extra CAs into the server and point npm/Node at the
      system bundle (test-server option; production hosts never get this)
    + extra_peers: factories ``peer_address -> PeerSpec`` for additional stand-ins
    + boot_timeout: seconds to wait for SSH after starting (or restarting) the container
    + peers_from: name of a running test server whose peers this one uses instead of starting its own (the
      servers of a cluster share one ACME server, S3, recorder and git remote; see cluster.py)
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
        peers_from: str | None = None,
    ) -> None:
        self.name = name
        self.release = release
        self.domains = tuple(domains)
        self.trust_controller_cas = trust_controller_cas
        self.extra_peers = tuple(extra_peers)
        self.boot_timeout = boot_timeout
        self.peers_from = peers_from
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
        """The controller side of the veth, where every peer listens (this server's peers, or the ones it uses)."""
        return self.state.get("peers_address") or network.slot_addresses(self.slot)[0]

    @property
    def link_address(self) -> str:
        """The controller side of this server's own veth (its default route)."""
        return network.slot_addresses(self.slot)[0]

    @property
    def peers_dir(self) -> Path:
        """The instance directory of the server whose peers this one uses (its own, by default)."""
        return Path(self.state.get("peers_dir") or self.instance_dir)

    @property
    def root(self) -> Path:
        return self.instance_dir / "root"

    @property
    def ssh_key(self) -> Path:
        return self.workdir / KEY_FILE

    @property
    def known_hosts(self) -> Path:
        return self.workdir / KNOWN_HOSTS_FILE

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
        return self.peers_dir / "pki" / "ca.pem"

    @property
    def mail(self) -> MailRecorder:
        """The e-mail the SMTP recorder (the alert e-mail's smarthost) accepted."""
        return MailRecorder(peers.mail_log(self.peers_dir))

    @property
    def shipped_log(self) -> Path:
        """Where the syslog receiver (Papertrail's stand-in) keeps the lines the server shipped (JSON lines)."""
        return peers.shipped_log(self.peers_dir)

    @property
    def app_repo(self) -> AppRepo:
        """The app's git remote (served by the git peer); tests commit new versions of the app to it."""
        return AppRepo(self.peers_dir / "git")

    @property
    def log_dir(self) -> Path:
        return self.instance_dir / "logs"

    @property
    def _ssh_target(self) -> SshTarget:
        return SshTarget(self.address, self.ssh_key, self.known_hosts)

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
            raise TestbedError(f"test server {name!r} does not exist (no {tb.instance_dir / STATE_FILE})")
        tb.release = tb.state["release"]
        tb.domains = tuple(tb.state["domains"])
        tb.peers_from = tb.state.get("peers_from")
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
        owner = Testbed.attach(self.peers_from) if self.peers_from else None
        if owner is not None:
            self.state.update(
                peers_from=owner.name, peers_address=owner.peer_address, peers_dir=str(owner.instance_dir)
            )
        self._save_state()
        network.setup(self.name, slot)

        if self.workdir.exists():
            shutil.rmtree(self.workdir)
        self.workdir.mkdir(parents=True)
        generate_key(self.ssh_key, f"deploy@louieops-testbed-{self.name}")
        (self.instance_dir / "pki").mkdir(parents=True, exist_ok=True)
        specs: list[peers.PeerSpec] = []
        if owner is None:  # a cluster's other members use the peers of its first member
            write_listener_pki(self.instance_dir / "pki", self.peer_address, self.name, names=(peers.PEER_HOSTNAME,))
            # Peers start while the root file system is unpacked (git daemon serves the app's repository).
            self.app_repo.create()
            specs = self._peer_specs()
            for spec in specs:
                self._start_peer(spec)

        image.extract_image(self.release, self.root)
        for spec in specs:
            self._wait_peer(spec)
        if owner is None:
            peers.add_dns_records(self.peer_address, self.domains, self.address)

        # The server trusts the ACME server's listener CA (certbot talks to it) and the root pebble issues
        # certificates under (so the server's own health check verifies its site like in production).
        pebble_root = self.instance_dir / "pki" / "louieops-testbed-pebble-root.crt"
        pebble_root.write_text(self.pebble_root_pem())
        rootfs.prepare(
            self.root,
            hostname=self.name,
            hosts={peers.PEER_HOSTNAME: self.peer_address},
            release=self.release,
            authorized_key=self.ssh_key.with_suffix(".pub").read_text(),
            extra_ca_files=[
                rootfs.copy_as_crt(self.listener_ca, self.instance_dir / "pki" / "louieops-testbed-listener-ca.crt"),
                pebble_root,
            ],
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
            app_git_url=peers.app_git_url(self.peer_address),
        )
        inventory.write_workdir(
            self.workdir,
            name=self.name,
            address=self.address,
            data=data,
            env=inventory.generate_secrets(
                peers.recorder_url(self.peer_address), peers.SAAS_TOKEN, peers.sentry_dsn(self.peer_address)
            ),
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

    def _peer_specs(self) -> list[peers.PeerSpec]:
        pki = self.instance_dir / "pki"
        specs = peers.default_peers(self.peer_address, self.instance_dir, pki / "cert.pem", pki / "key.pem")
        return specs + [factory(self.peer_address) for factory in self.extra_peers]

    def stop_peer(self, name: str) -> None:
        """Stop one peer (a smarthost or log host that is down); :meth:`start_peer` brings it back."""
        procs.stop(self.state["peers"][name])

    def start_peer(self, name: str) -> None:
        spec = next(spec for spec in self._peer_specs() if spec.name == name)
        self._start_peer(spec)
        self._wait_peer(spec)

    def _start_peer(self, spec: peers.PeerSpec) -> None:
        proc = procs.spawn(spec.argv, self.log_dir / f"{spec.name}.log", env=spec.env, cwd=REPO_ROOT)
        self.state["peers"][spec.name] = {**procs.record(proc.pid), "host": spec.host, "port": spec.port}
        self._save_state()

    def _wait_peer(self, spec: peers.PeerSpec, timeout: float = 30.0) -> None:
        rec = self.state["peers"][spec.name]

        def ready() -> bool:
            if not procs.alive(rec):
                raise TestbedError(
                    f"peer {spec.name} exited; see {procs.log_excerpt(self.log_dir / f'{spec.name}.log')}"
                )
            return procs.tcp_open(spec.host, spec.port, timeout=0.3)

        procs.wait_for(ready, timeout, f"peer {spec.name} on {spec.host}:{spec.port}", interval=0.05)

    def nspawn_argv(self) -> list[str]:
        return container.nspawn_argv(self.name, self.release, self.root, self.instance_dir)

    def _start_container(self) -> None:
        self.state["supervisor"] = container.start_supervisor(self.nspawn_argv(), self.instance_dir, self.log_dir)
        self._save_state()
        container.wait_started(self.instance_dir, self.state["supervisor"])

    def container_status(self) -> dict[str, Any]:
        return container.status(self.instance_dir)

    @property
    def boots(self) -> int:
        """How many times the container has been started (1 after ``up``, +1 per reboot)."""
        return int(self.container_status().get("boots", 0))

    def container_pid1(self) -> int | None:
        return container.pid1(self.instance_dir)

    # ----- SSH -----------------------------------------------------------------------------------

    def client_host(self):
        """A context manager giving a second client host routed to this server (louieops/testbed/client.py)."""
        return client.client_host(self.name, self.slot, self.address)

    def ssh_argv(self, command: str | None = None, *, user: str = rootfs.DEPLOY_USER) -> list[str]:
        return self._ssh_target.argv(command, user=user)

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
        return self._ssh_target.run(command, check=check, timeout=timeout, user=user, input=input)

    def wait_for_ssh(self, timeout: float | None = None) -> float:
        """Poll until ``ssh true`` works; return the seconds waited. Fails early if the container died."""
        started = time.monotonic()

        def ready() -> bool:
            if not procs.alive(self.state.get("supervisor")):
                raise TestbedError(f"the container stopped while booting; see {self._container_log()}")
            return self._ssh_target.logs_in()

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
                raise TestbedError(f"the container powered off instead of rebooting; see {self._container_log()}")
            return self.boots > previous_boots

        procs.wait_for(restarted, timeout, f"test server {self.name!r} to restart", interval=0.1)
        self.boot_seconds = self.wait_for_ssh(max(1.0, timeout - (time.monotonic() - started)))
        return time.monotonic() - started

    def poweroff(self, timeout: float = 60.0) -> None:
        """Clean shutdown: SIGRTMIN+4 to the container's PID 1, wait for systemd-nspawn (and supervisor)."""
        container.poweroff(self.name, self.instance_dir, self.state.get("supervisor"), timeout)

    def _container_log(self) -> str:
        """The container's log and its last lines, for an error message."""
        return procs.log_excerpt(self.log_dir / container.LOG_FILE)

    # ----- peers ------------------------------------------------------------------------------

    def pebble_root_pem(self, index: int = 0) -> str:
        """PEM of pebble's issuing root (management API ``/roots/<index>``); it changes on every start."""
        return peers.pebble_root_pem(self.peer_address, self.listener_ca, index)

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
        step(
            "kill processes left in the network namespace", lambda: cleanup.kill_netns_processes(netns_name(self.name))
        )
        slot = self.state.get("slot")
        if slot is None:
            slot = network.slot_of(self.name)
        step("kill stray processes", lambda: cleanup.kill_strays(self.name, slot))
        release = self.state.get("release", self.release)
        step("merge apt downloads", lambda: container.merge_apt_archives(self.instance_dir, release))
        if slot is not None:
            step("client host", lambda: client.teardown(self.name, slot))
        step("network", lambda: network.teardown(self.name, slot))
        step("release slot", lambda: network.release_slot(self.name))
        self._keep_logs()
        step("remove instance dir", lambda: cleanup.remove_tree(self.instance_dir))
        cleanup.remove_workdir_files(self.workdir)
        self.state = {}
        if errors:
            raise TestbedError(f"teardown of test server {self.name!r} incomplete: " + "; ".join(errors))

    def _keep_logs(self) -> None:
        cleanup.keep_logs(self.log_dir, self.workdir / "logs")

    def _load_state(self) -> None:
        self.state = load_state(self.instance_dir)

    def _save_state(self) -> None:
        save_state(self.instance_dir, self.state)
