"""PostgreSQL settings."""

from __future__ import annotations

from ..rules import identifier, integer, number, one_of, string

HEADING = "PostgreSQL"
RULES = {
    # restore-db renames to <db>_before_restore_<YYYYmmddTHHMMSSZ> (32 more chars, PostgreSQL's limit is 63)
    "postgresql_database": string(r"[a-z_][a-z0-9_]{0,30}", "a lower-case name of letters, digits and '_' (max 31)"),
    "postgresql_role": identifier,
    "postgresql_shared_buffers_ratio": number(0.05, 0.5),
    "postgresql_work_mem_mb": integer(1, 4096),
    "postgresql_max_connections": integer(10, 10000),
    "postgresql_upgrade_method": one_of("upgrade", "dump", "link"),
}
