"""What one host's tasks need to know about where the other roles are (from louieops/topology.py).

A ``Placement`` is the view of one host: its roles, where its app listens, where its app reaches PostgreSQL,
which load balancers its app trusts for the client address, how its release gate reaches /health, and whether
louie-release takes it out of the lb's rotation while it gates a release. ``SINGLE`` is the one server of a
single-server inventory, where everything is on loopback as before there were roles; the configs of the
server-side scripts default to it.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import topology
from .settings import for_host


@dataclass(frozen=True)
class Placement:
    roles: frozenset[str]
    single_server: bool = True
    app_listen: str = "127.0.0.1"  # where the app listens (the lb's upstream address)
    database_host: str = "127.0.0.1"  # where this host's app reaches PostgreSQL
    database_tls: bool = False  # over TLS, checked against the deploy's database CA
    trusted_proxies: tuple[str, ...] = ()  # the lb addresses the app takes X-Real-IP from (loopback always)
    #: None: the release gate and the health check see /health through nginx on this host; else this URL
    app_health_url: str | None = None
    #: how louie-release refuses the lb's connections while it gates a release ({port, ipv4, ipv6}), or None
    drain: dict | None = None

    def has(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def nginx_here(self) -> bool:
        return self.has(topology.LB)

    @property
    def database_here(self) -> bool:
        return self.has(topology.DB, topology.STANDBY)


SINGLE = Placement(topology.SINGLE_SERVER)


def of(host) -> Placement:
    """The placement of ``host`` (pyinfra's host, or its context proxy) in its inventory."""
    topo = topology.of(host)
    me = topology.me(host)
    if topo.single_server:
        return SINGLE
    s = for_host(host)
    listen = topo.app_address(me)
    lbs = tuple(lb.address for lb in topo.with_role(topology.LB) if lb.name != me.name)
    url_host = f"[{listen}]" if ":" in listen else listen
    drain = None
    if me.has(topology.APP) and lbs and len(topo.apps) > 1:  # never the only app host: nothing would serve
        drain = {
            "port": s.app_port,
            "ipv4": [a for a in lbs if ":" not in a],
            "ipv6": [a for a in lbs if ":" in a],
            "rejoin_seconds": for_host(topology.host_of(host, topo.lb)).nginx_upstream_fail_timeout,
        }
    return Placement(
        roles=me.roles,
        single_server=False,
        app_listen=listen,
        database_host=topo.database_address(me),
        database_tls=topo.database_over_tls(me),
        trusted_proxies=lbs,
        app_health_url=None if me.has(topology.LB) else f"http://{url_host}:{s.app_port}/health",
        drain=drain,
    )


def check(host) -> None:
    """What the inventory's shape asks of the settings (before anything is planned): with several servers and a
    backup bucket, a cluster_name, so the cluster's backups have their own place in the bucket."""
    topo = topology.of(host)
    s = for_host(host)
    if not topo.single_server and s.backup_s3_bucket and not s.cluster_name:
        raise topology.TopologyError(
            f"the inventory has {len(topo.members)} servers and backs up to s3://{s.backup_s3_bucket}, but "
            'cluster_name is None: set cluster_name (a name for this cluster, e.g. "production") in the inventory\'s '
            "group data, so its backups do not mix with another cluster's in the bucket"
        )


def archives_wal(settings, where) -> bool:
    """Whether a host archives its WAL for point-in-time recovery (tasks/pitr.py), with backup_pitr on: the
    database primary, and the hot standby, so that the moment promote-db makes it the primary it archives into
    the same stanza (archive_mode=on archives nothing while in recovery). ``where``: a Placement or a
    topology.Member (both answer ``has``)."""
    return settings.backup_pitr and where.has(topology.DB, topology.STANDBY)


def backups_from_standby(settings, topo) -> bool:
    """Whether the primary's pgBackRest backups read the database's files from the hot standby (pgBackRest's
    backup-standby, over its TLS server on the standby): backup_pitr and backup_pitr_from_standby on, a standby in
    the inventory, and no standby_apply_delay_minutes (pgBackRest waits at most its archive-timeout, 60 s, for the
    standby to replay up to the backup's start: a delayed standby would fail every backup). louie-pitr-backup
    falls back to the primary when the standby does not answer."""
    return bool(
        settings.backup_pitr
        and settings.backup_pitr_from_standby
        and topo.standby is not None
        and settings.standby_apply_delay_minutes == 0
    )
