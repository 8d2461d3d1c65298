"""PostgreSQL from Debian: loopback only, SCRAM passwords, memory sized from the host's RAM, the app's
role and database.

Settings read: postgresql_database, postgresql_role, postgresql_shared_buffers_ratio,
postgresql_work_mem_mb, postgresql_max_connections, base_locale. Secret: LOUIE_DB_PASSWORD.
"""

from __future__ import annotations

from pyinfra import host
from pyinfra.api import deploy
from pyinfra.api.exceptions import PyinfraError
from pyinfra.facts.server import LinuxDistribution
from pyinfra.operations import apt, postgres, systemd

from louieops import secrets
from louieops.facts.system import MemTotalMb
from louieops.operations import postgresql
from louieops.resources import put_template
from louieops.settings import for_host

# The PostgreSQL major version each Debian release ships (its "postgresql" package).
DEBIAN_POSTGRESQL = {12: 15, 13: 17}
AS_POSTGRES = {"_sudo": True, "_sudo_user": "postgres"}


def memory_settings(ram_mb: int, shared_buffers_ratio: float, work_mem_mb: int) -> dict:
    """shared_buffers = ratio x RAM; effective_cache_size = 3 x that, at most 3/4 of RAM."""
    shared = max(32, int(ram_mb * shared_buffers_ratio))
    cache = max(shared, min(3 * shared, ram_mb * 3 // 4))
    return {"shared_buffers": f"{shared}MB", "effective_cache_size": f"{cache}MB", "work_mem": f"{work_mem_mb}MB"}


def postgresql_version() -> int:
    distro = host.get_fact(LinuxDistribution)
    version = DEBIAN_POSTGRESQL.get(distro.get("major")) if distro.get("name") == "Debian" else None
    if version is None:
        raise PyinfraError(
            f"no known PostgreSQL version for {distro.get('name')} {distro.get('major')}: "
            f"supported are Debian {', '.join(map(str, DEBIAN_POSTGRESQL))}"
        )
    return version


@deploy("PostgreSQL")
def provision_postgresql():
    s = for_host(host)
    password = secrets.require("LOUIE_DB_PASSWORD")
    version = postgresql_version()
    conf_dir = f"/etc/postgresql/{version}/main"
    ram_mb = host.get_fact(MemTotalMb)

    # install (Debian creates and starts the "main" cluster)
    # (the cluster takes its locale and encoding from the installing environment)
    apt.packages(
        name=f"Install PostgreSQL {version}",
        packages=["postgresql", f"postgresql-{version}"],
        _env={"LANG": s.base_locale, "LC_ALL": s.base_locale},
    )

    # configure
    tuning = put_template(
        "postgresql/louieops.conf.j2",
        f"{conf_dir}/conf.d/louieops.conf",
        name=f"Upload {conf_dir}/conf.d/louieops.conf",
        user="postgres",
        group="postgres",
        mode="0644",
        ram_mb=ram_mb,
        postgresql_max_connections=s.postgresql_max_connections,
        memory=memory_settings(ram_mb, s.postgresql_shared_buffers_ratio, s.postgresql_work_mem_mb),
    )
    hba = put_template(
        "postgresql/pg_hba.conf.j2",
        f"{conf_dir}/pg_hba.conf",
        name=f"Upload {conf_dir}/pg_hba.conf",
        user="postgres",
        group="postgres",
        mode="0640",
    )

    # activate: restart for the server settings, reload for pg_hba; both before the role is checked
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
        _if=lambda: hba.did_change() and not tuning.did_change(),
    )
    systemd.service(name="Enable and start postgresql", service="postgresql.service", running=True, enabled=True)

    # the app's role and database
    postgresql.role(
        name=f"Ensure PostgreSQL role {s.postgresql_role} with its password",
        role=s.postgresql_role,
        password=password,
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
