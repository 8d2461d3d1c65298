"""PostgreSQL from Debian: SCRAM passwords, memory sized from the host's RAM, the app's role and database; with
several servers also TLS, the app hosts in pg_hba, and a hot standby streaming from the primary.

On the one server of a single-server inventory PostgreSQL listens on loopback only, as before there were roles.
With the database on a server of its own (role ``db``) it also listens on its private address, with TLS (a
certificate from the deploy's database CA, louieops/dbtls.py), and pg_hba lets exactly the app hosts in
(``hostssl``, scram-sha-256) and the standby replicate. A ``db_standby`` host is made a copy of the primary
with Debian's tools: a replication role and a physical replication slot on the primary, ``pg_basebackup``
into the standby's emptied data directory, ``standby.signal``, and ``primary_conninfo`` in the managed
configuration (its password in ~postgres/.pgpass). ``{scripts_dir}/promote-db`` promotes it when the primary
is lost (docs/RUNBOOK.md).

Settings read: postgresql_database, postgresql_role, postgresql_shared_buffers_ratio,
postgresql_work_mem_mb, postgresql_max_connections, postgresql_upgrade_method, base_locale,
backup_pitr_archive_timeout, standby_apply_delay_minutes.

A major upgrade: when the cluster "main" is of an older version than the Debian release's PostgreSQL (after
`louieops os-upgrade`), the deploy runs louie-pg-upgrade (maintenance mode, a fresh backup, Debian's
pg_upgradecluster, the stanza, the health gate; docs/upgrades.md) before it configures the new cluster. A
cluster newer than the release's is refused: PostgreSQL has no way down.

The CA's name: louieops.dbtls.cluster_label. WAL archiving: louieops.placement.archives_wal.
Secrets: LOUIE_DB_PASSWORD; LOUIE_CLUSTER_SECRET with several servers.
"""

from __future__ import annotations

import ipaddress
import shlex
from io import StringIO

from pyinfra import host
from pyinfra.api import QuoteString, StringCommand, deploy
from pyinfra.api.exceptions import DeployError
from pyinfra.operations import apt, files, postgres, server, systemd
from pyinfra.operations.util import any_changed

from louieops import dbtls, layout, placement, secrets, topology
from louieops.facts.postgresql import PostgresClusters, PostgresClusterState, PostgresUpstreamVersion
from louieops.facts.system import MemTotalMb
from louieops.operations import order, postgresql
from louieops.pgversion import postgresql_version
from louieops.resources import put_file, put_template
from louieops.settings import Settings, for_host

AS_POSTGRES = {"_sudo": True, "_sudo_user": "postgres"}
#: The role a standby streams WAL with (its password is derived from LOUIE_CLUSTER_SECRET).
REPLICATION_ROLE = "replicator"
SLOT_PREFIX = "louieops_"
#: WAL a replication slot may hold back for a standby that is gone (beyond it the slot is invalidated and the
#: standby must be rebuilt, rather than the primary's disk filling up).
MAX_SLOT_WAL_KEEP = "8GB"
PGPASS = "/var/lib/postgresql/.pgpass"


def memory_settings(ram_mb: int, shared_buffers_ratio: float, work_mem_mb: int) -> dict:
    """shared_buffers = ratio x RAM; effective_cache_size = 3 x that, at most 3/4 of RAM."""
    shared = max(32, int(ram_mb * shared_buffers_ratio))
    cache = max(shared, min(3 * shared, ram_mb * 3 // 4))
    return {"shared_buffers": f"{shared}MB", "effective_cache_size": f"{cache}MB", "work_mem": f"{work_mem_mb}MB"}


def cidr(address: str) -> str:
    return f"{address}/{ipaddress.ip_address(address).max_prefixlen}"


def hba_variables(s: Settings, topo: topology.Topology, me: topology.Member) -> dict:
    """Variables of templates/postgresql/pg_hba.conf.j2: who may connect over the network, and to what."""
    remote = len(topo.postgresql_listen(me)) > 1
    return {
        "remote": remote,
        "database": s.postgresql_database,
        "role": s.postgresql_role,
        "clients": [cidr(m.address) for m in topo.database_clients() if m.name != me.name] if remote else [],
        "replication_role": REPLICATION_ROLE,
        "standbys": [cidr(m.address) for m in topo.replication_clients(me)] if remote else [],
    }


def conf_variables(s: Settings, topo: topology.Topology, me: topology.Member, ram_mb: int) -> dict:
    """Variables of templates/postgresql/louieops.conf.j2."""
    listen = topo.postgresql_listen(me)
    variables = {
        "ram_mb": ram_mb,
        "listen_addresses": ",".join(listen),
        "postgresql_max_connections": s.postgresql_max_connections,
        "memory": memory_settings(ram_mb, s.postgresql_shared_buffers_ratio, s.postgresql_work_mem_mb),
        "tls": None,
        "standby": None,
        "max_slot_wal_keep_size": MAX_SLOT_WAL_KEEP if topo.replication_clients(me) else None,
        "archive": archive_variables(s, me),
    }
    if len(listen) > 1:
        variables["tls"] = {"cert": layout.DB_TLS_CERT, "key": layout.DB_TLS_KEY}
    if me.has(topology.STANDBY):
        variables["standby"] = {
            "conninfo": replication_conninfo(topo, me),
            "slot": topo.replication_slot(me),
            "apply_delay_minutes": s.standby_apply_delay_minutes,
        }
    return variables


def archive_variables(s: Settings, me: topology.Member) -> dict | None:
    """WAL archiving to pgBackRest's repository (tasks/pitr.py), with backup_pitr on: on the primary, and on the
    standby for the day it is promoted."""
    if not placement.archives_wal(s, me):
        return None
    return {"command": layout.PITR_ARCHIVE_COMMAND, "timeout": s.backup_pitr_archive_timeout}


def replication_conninfo(topo: topology.Topology, standby: topology.Member | None = None) -> str:
    """How the standby reaches the primary as the replication role: TLS checked against the database CA, the
    password in .pgpass; with ``standby``, named for its slot (its primary_conninfo)."""
    name = f"application_name={topo.replication_slot(standby)} " if standby else ""
    return (
        f"host={topo.db.address} port={topology.POSTGRESQL_PORT} user={REPLICATION_ROLE} "
        f"{name}sslmode=verify-full sslrootcert={layout.DB_TLS_CA}"
    )


@deploy("PostgreSQL")
def provision_postgresql():
    s = for_host(host)
    topo, me = topology.of(host), topology.me(host)
    version = postgresql_version()
    ram_mb = host.get_fact(MemTotalMb)
    conf = conf_variables(s, topo, me, ram_mb)

    # install (Debian creates and starts the "main" cluster)
    # (the cluster takes its locale and encoding from the installing environment)
    apt.packages(
        name=f"Install PostgreSQL {version}",
        packages=["postgresql", f"postgresql-{version}"],
        _env={"LANG": s.base_locale, "LC_ALL": s.base_locale},
    )

    version, reseeding = major_upgrade(s, topo, me, version)  # (the version of the cluster configured below)
    conf_dir = f"/etc/postgresql/{version}/main"

    # configure: TLS (with several servers), the server settings, who may connect
    certificates = server_certificate(s, topo, me) if conf["tls"] else []
    tuning = put_template(
        "postgresql/louieops.conf.j2",
        f"{conf_dir}/conf.d/louieops.conf",
        name=f"Upload {conf_dir}/conf.d/louieops.conf",
        user="postgres",
        group="postgres",
        mode="0644",
        **conf,
    )
    hba = put_template(
        "postgresql/pg_hba.conf.j2",
        f"{conf_dir}/pg_hba.conf",
        name=f"Upload {conf_dir}/pg_hba.conf",
        user="postgres",
        group="postgres",
        mode="0640",
        **hba_variables(s, topo, me),
    )
    put_file("scripts/promote-db", layout.script(s, "promote-db"), mode="0755")

    # activate: restart for the server settings, reload for pg_hba and the certificate; before the roles
    systemd.service(
        name=f"Restart postgresql@{version}-main for the new settings",
        service=f"postgresql@{version}-main.service",
        restarted=True,
        _if=tuning.did_change,
    )
    systemd.service(
        name=f"Reload postgresql@{version}-main for the new pg_hba.conf",
        service=f"postgresql@{version}-main.service",
        reloaded=True,
        _if=lambda: any_changed(hba, *certificates)() and not tuning.did_change(),
    )
    systemd.service(name="Enable and start postgresql", service="postgresql.service", running=True, enabled=True)

    if me.has(topology.DB):
        primary_objects(s, topo, me)
    # the standby copies the primary once its replication role and slot exist (louieops/operations/order.py)
    if topo.standby:
        order.after(name="Wait for the primary's roles and replication slots", what="the primary's objects exist")
    if me.has(topology.STANDBY):
        follow_primary(s, topo, me, version, reseeding)


def major_upgrade(s: Settings, topo: topology.Topology, me: topology.Member, version: int) -> tuple[int, bool]:
    """louie-pg-upgrade when the cluster "main" is older than ``version`` and ``version`` has none yet (decided
    when planning, so the plan shows the upgrade); a newer one is refused. A standby is not upgraded but copied
    again from its primary once that is on ``version`` (``reseed_standby``). Returns the version of the cluster
    the deploy configures (a standby waiting for its primary keeps its old one) and whether it is re-seeded."""
    mains = [c["version"] for c in host.get_fact(PostgresClusters) if c["name"] == "main"]
    if any(found > version for found in mains):
        raise DeployError(
            f"{host.name}: its PostgreSQL cluster is {max(mains)}/main, newer than the {version} of its Debian "
            "release: a major version cannot go down (restore a backup onto a server of the newer release)"
        )
    put_file("scripts/louie-pg-upgrade", layout.PG_UPGRADE_COMMAND, mode="0755")
    older = [found for found in mains if found < version]
    if not older:  # (with the new cluster there too, louie-pg-upgrade goes on from the step that failed)
        return version, False
    if me.has(topology.STANDBY):
        reseeding = reseed_standby(s, topo, version, older[-1])
        return (version if reseeding else older[-1]), reseeding
    backup = shlex.join(layout.fresh_backup_command(s, placement.archives_wal(s, placement.of(host))))
    health = shlex.join(layout.health_gate_command(s, "api,database" if me.has(topology.APP) else "database"))
    server.shell(
        name=f"Upgrade PostgreSQL {older[-1]}/main to {version} (pg_upgradecluster -m {s.postgresql_upgrade_method}, "
        "in maintenance mode)",
        commands=[
            StringCommand(
                layout.PG_UPGRADE_COMMAND,
                f"--from {older[-1]} --to {version} --method {s.postgresql_upgrade_method}",
                "--backup",
                QuoteString(backup),
                "--health",
                QuoteString(health),
            )
        ],
    )
    return version, False


def reseed_standby(s: Settings, topo: topology.Topology, version: int, old: int) -> bool:
    """A standby's cluster is a copy of its primary's, so it follows the primary's major upgrade by being copied
    again: once the primary is on ``version``, the old cluster is dropped and a new one takes its port (the one
    Debian's package may have made on the next port, else a fresh one), for follow_primary's pg_basebackup. Until
    then the deploy keeps configuring the old one, which streams from the primary on ``old`` (the deploy after
    the primary's upgrade re-seeds it)."""
    primary = host.get_fact(PostgresUpstreamVersion, conninfo=replication_conninfo(topo), _sudo=True)
    if primary != version:
        return False
    conf = f"/etc/postgresql/{version}/main"
    port = topology.POSTGRESQL_PORT
    server.shell(
        name=f"Drop the standby's PostgreSQL {old}/main (its primary {topo.db.name} is on {version}: it is copied "
        "again below)",
        commands=[
            f"pg_dropcluster --stop {old} main",
            # (a directory without postgresql.conf holds no cluster: a stopped run's configuration files)
            f"if [ -f {conf}/postgresql.conf ]; then pg_conftool {version} main set port {port}; "
            f"else rm -rf {conf} && pg_createcluster {version} main --port {port}; fi",
            f"systemctl restart postgresql@{version}-main.service",
        ],
        _env={"LANG": s.base_locale, "LC_ALL": s.base_locale},
    )
    return True


def cluster_secret() -> str:
    return secrets.require(dbtls.SECRET_ENV)


def server_certificate(s: Settings, topo: topology.Topology, me: topology.Member) -> list:
    """The database CA and this server's certificate and key (derived, so the same on every run)."""
    secret = cluster_secret()
    authority = dbtls.ca(secret, dbtls.cluster_label(s))
    pair = dbtls.server(secret, dbtls.cluster_label(s), me.name, me.address)
    files.directory(name=f"Create {layout.DB_TLS_DIR}", path=layout.DB_TLS_DIR, user="root", group="root", mode="0755")
    return [
        files.put(
            name=f"Upload {layout.DB_TLS_CA}",
            src=StringIO(authority.certificate),
            dest=layout.DB_TLS_CA,
            mode="0644",
        ),
        files.put(
            name=f"Upload {layout.DB_TLS_CERT}",
            src=StringIO(pair.certificate),
            dest=layout.DB_TLS_CERT,
            user="postgres",
            group="postgres",
            mode="0644",
        ),
        files.put(
            name=f"Upload {layout.DB_TLS_KEY}",
            src=StringIO(pair.key),
            dest=layout.DB_TLS_KEY,
            user="postgres",
            group="postgres",
            mode="0600",
        ),
    ]


def primary_objects(s: Settings, topo: topology.Topology, me: topology.Member) -> None:
    """On the primary: the app's role and database; with a standby, its replication role and slot."""
    postgresql.role(
        name=f"Ensure PostgreSQL role {s.postgresql_role} with its password",
        role=s.postgresql_role,
        password=secrets.require("LOUIE_DB_PASSWORD"),
        **AS_POSTGRES,
    )
    postgres.database(
        name=f"Create PostgreSQL database {s.postgresql_database}",
        database=s.postgresql_database,
        owner=s.postgresql_role,
        template="template0",
        encoding="UTF8",
        **AS_POSTGRES,
    )
    standbys = topo.replication_clients(me)
    if standbys:
        postgresql.role(
            name=f"Ensure PostgreSQL replication role {REPLICATION_ROLE} with its password",
            role=REPLICATION_ROLE,
            password=dbtls.replication_password(cluster_secret()),
            replication=True,
            **AS_POSTGRES,
        )
    if not topo.single_server:
        slots = [topo.replication_slot(standby) for standby in standbys]
        postgresql.replication_slots(
            name="Keep a replication slot for each standby (and none for a standby that is gone)",
            slots=slots,
            prefix=SLOT_PREFIX,
            **AS_POSTGRES,
        )


def follow_primary(s: Settings, topo: topology.Topology, me: topology.Member, version: int, reseeding: bool) -> None:
    """On the standby: the replication password, and a copy of the primary when this cluster is not one yet
    (or is being re-seeded after the primary's major upgrade: the planned state is the old cluster's)."""
    files.put(
        name=f"Upload {PGPASS}",
        src=StringIO(
            f"{topo.db.address}:{topology.POSTGRESQL_PORT}:*:{REPLICATION_ROLE}:"
            f"{dbtls.replication_password(cluster_secret())}\n"
        ),
        dest=PGPASS,
        user="postgres",
        group="postgres",
        mode="0600",
    )
    state = {} if reseeding else host.get_fact(PostgresClusterState, _sudo=True)
    if state.get("in_recovery"):
        return  # a standby already: it follows primary_conninfo (restarted above when that changed)
    if s.postgresql_database in state.get("databases", []):
        raise DeployError(
            f"host {me.name} is in db_standby but its PostgreSQL is a primary holding database "
            f"{s.postgresql_database} (the old primary?): to make it a standby of {topo.db.name}, empty it as root "
            f"(pg_dropcluster --stop {version} main && pg_createcluster {version} main) and deploy again, "
            "or take it out of db_standby"
        )
    server.shell(
        name=f"Copy the primary {topo.db.name} with pg_basebackup and start as its standby",
        commands=[basebackup_command(s, topo, me, version)],
    )


def basebackup_command(s: Settings, topo: topology.Topology, me: topology.Member, version: int) -> StringCommand:
    """pg_basebackup from the primary (through the standby's slot) into a new directory next to the data
    directory, marked a standby; only once the copy is complete the (fresh) cluster is stopped, the copy takes its
    place and it starts as the standby. A failed copy leaves the cluster as it was. Refuses, at run time too, a
    cluster that holds the app's database."""
    data = f"/var/lib/postgresql/{version}/main"
    copy, old = f"{data}.louieops-copy", f"{data}.louieops-replaced"
    unit = f"postgresql@{version}-main.service"
    conninfo = replication_conninfo(topo)
    database_check = f"SELECT 1 FROM pg_database WHERE datname = '{s.postgresql_database}'"
    return StringCommand(
        "set -e;",
        "if runuser -u postgres -- psql -X -At -c",
        QuoteString(database_check),
        "2>/dev/null | grep -q 1; then",
        "echo",
        QuoteString(f"refusing to overwrite a cluster holding database {s.postgresql_database}"),
        ">&2; exit 1; fi;",
        f"rm -rf {copy} {old};",
        "runuser -u postgres -- pg_basebackup --no-password --wal-method=stream --checkpoint=fast",
        "--slot",
        QuoteString(topo.replication_slot(me)),
        "--pgdata",
        copy,
        "--dbname",
        QuoteString(conninfo),
        ";",
        f"runuser -u postgres -- touch {copy}/standby.signal;",
        f"systemctl stop {unit};",
        f"mv {data} {old}; mv {copy} {data};",
        f"systemctl start {unit};",
        f"rm -rf {old}",
    )
