"""Point-in-time recovery measured on a test server deployed with backup_pitr (pgBackRest to the S3 stand-in).

    python -m benchmarks.pitr_bench                    # boots its own test server, ~1 GB database
    python -m benchmarks.pitr_bench --size-mb 100      # quick run (or BENCH_BACKUP_DB_MB=100)
    python -m benchmarks.pitr_bench --attach NAME      # a running test server deployed with backup_pitr

With the default archive_timeout (60 s): the WAL archive's lag while the benchmark database is written (the
most segments waiting for archive-push and the longest one waited), a full backup of it, then the server is
lost twice (PostgreSQL killed with SIGKILL, its data directory deleted) and restored in place from the
bucket alone: once to the newest archived WAL while a writer committed a row every 100 ms (the recovery
point: seconds of committed rows lost), once to a moment. Restores are timed on the server (no SSH in the
numbers); today's dump restore of the same size is the backup benchmark's row beside these. Asserts nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import runpy
import shlex
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from benchmarks import backup_bench, deploy_bench
from benchmarks.table import Row, seconds
from louieops import layout
from louieops.testbed import Testbed

SECTION = "pitr"
DATA_DIR = "/var/lib/postgresql/15/main"
SERVICE = "postgresql@15-main"
WRITER_TABLE = "rp_orders"
WRITER_LOG = "/root/rp-writer.log"
#: Seconds the writer commits before the server is lost: past one archive_timeout switch at least.
WRITE_SECONDS = 90
LAG_LOG = "/root/wal-lag.log"


def with_pitr(testbed: Testbed) -> None:
    """The test server's inventory with backup_pitr on, every other setting its default."""
    [(address, data)] = runpy.run_path(str(testbed.inventory_path))["testbed"]
    testbed.inventory_path.write_text(f"testbed = [({address!r}, {{**{data!r}, 'backup_pitr': True}})]\n")


def psql(server: backup_bench.Server, sql: str) -> str:
    return server.psql(sql, database=backup_bench.DB)


def start_lag_sampler(server: backup_bench.Server) -> None:
    """Every second on the server: the segments waiting for archive-push and the age of the oldest."""
    loop = (
        "while :; do now=$(date +%s); "
        f"set -- $(find {DATA_DIR}/pg_wal/archive_status -name '*.ready' -printf '%T@\\n' | sort -n); "
        'echo "$now $# ${1:-$now}"; sleep 1; done'
    )
    server.root(f"nohup bash -c {shlex.quote(loop)} > {LAG_LOG} 2>/dev/null & echo $! > {LAG_LOG}.pid")


def stop_lag_sampler(server: backup_bench.Server) -> tuple[int, float]:
    """(the most segments waiting at once, the longest a segment waited in seconds)."""
    server.root(f"kill $(cat {LAG_LOG}.pid) 2>/dev/null || true")
    most, longest = 0, 0.0
    for line in server.root(f"cat {LAG_LOG}").splitlines():
        now, waiting, oldest = line.split()
        most, longest = max(most, int(waiting)), max(longest, float(now) - float(oldest))
    return most, longest


def write_and_lose(server: backup_bench.Server) -> dict[int, float]:
    """A row every 100 ms for WRITE_SECONDS, then PostgreSQL killed and its data directory deleted; the rows
    psql saw committed (id and time)."""
    psql(server, f"CREATE TABLE {WRITER_TABLE} (id serial PRIMARY KEY, at timestamptz DEFAULT clock_timestamp())")
    server.root(f"runuser -u postgres -- pgbackrest --stanza={layout.PITR_STANZA} check")  # the table is archived
    insert = f"INSERT INTO {WRITER_TABLE} DEFAULT VALUES RETURNING id, extract(epoch FROM at)"
    loop = f"while :; do psql -X -At -d {backup_bench.DB} -c {shlex.quote(insert)} || break; sleep 0.1; done"
    server.root(f"nohup runuser -u postgres -- bash -c {shlex.quote(loop)} > {WRITER_LOG} 2>/dev/null &")
    time.sleep(WRITE_SECONDS)
    lose(server)
    rows = (line.split("|") for line in server.root(f"cat {WRITER_LOG}").splitlines() if "|" in line)
    return {int(i): float(at) for i, at in rows}


def lose(server: backup_bench.Server) -> None:
    server.root(f"pkill -KILL -u postgres -x postgres; sleep 1; systemctl stop {SERVICE}; rm -rf {DATA_DIR}")


def restore(server: backup_bench.Server, *target: str) -> float:
    """Seconds louie-restore-db takes on the server to restore the lost cluster in place."""
    command = " ".join([layout.PITR_RESTORE_COMMAND, *map(shlex.quote, target), "--force", "--yes"])
    return server.timed(f"{command} >&2", as_root=True)


def measure(testbed: Testbed, size_mb: int) -> list[Row]:
    server = backup_bench.Server(testbed)
    start_lag_sampler(server)
    try:
        db = backup_bench.prepare(server, size_mb)
    finally:
        most, longest = stop_lag_sampler(server)
    full = server.timed(f"{layout.PITR_BACKUP_COMMAND} full >&2", as_root=True)

    committed = write_and_lose(server)
    latest_seconds = restore(server, "--latest")
    back = int(psql(server, f"SELECT coalesce(max(id), 0) FROM {WRITER_TABLE}").strip())
    last = max(committed)
    lost_seconds = committed[last] - committed[back] if back in committed else float("nan")

    moment = time.strftime("%Y-%m-%d %H:%M:%S+00", time.gmtime())
    server.root(f"runuser -u postgres -- pgbackrest --stanza={layout.PITR_STANZA} check")  # the moment is archived
    lose(server)
    point_seconds = restore(server, "--to", moment)
    size = f"{db['bytes'] / 1e6:,.0f} MB"
    return [
        Row(SECTION, "recovery point: committed rows lost with the server", seconds(lost_seconds),
            f"{last - back} of {len(committed)} rows (one every 100 ms); archive_timeout 60 s"),
        Row(SECTION, "WAL archive lag while the database is written", f"{most} segments",
            f"the longest waited {longest:.0f} s (archive-push async, process-max 2)"),
        Row(SECTION, "full backup to S3 (louie-pitr-backup full)", seconds(full), f"{size} database, encrypted"),
        Row(SECTION, "restore in place to the newest WAL, data dir lost", seconds(latest_seconds),
            "louie-restore-db --latest --force; compare: backup's dump restore"),
        Row(SECTION, "restore in place to a moment, data dir lost", seconds(point_seconds),
            "louie-restore-db --to T --force"),
    ]  # fmt: skip


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.pitr_bench", description=__doc__.splitlines()[0])
    backup_bench.add_size_option(parser)
    parser.add_argument("--attach", default=os.environ.get("BENCH_PITR_TESTBED"), help="a running test server")
    return parser.parse_args(argv)


@contextlib.contextmanager
def deployed_with_pitr(name: str) -> Iterator[Testbed]:
    """A booted Debian 12 test server deployed with backup_pitr (gone after the block)."""
    with Testbed(name=name, release="bookworm") as testbed, tempfile.TemporaryDirectory() as tmp:
        with_pitr(testbed)
        deploy_bench.log("deploying with backup_pitr")
        deploy_bench.deploy(testbed, Path(tmp), name)
        yield testbed


def rows(argv: list[str]) -> list[Row]:
    args = parse(argv)
    if args.attach:
        return measure(Testbed.attach(args.attach), args.size_mb)
    with deployed_with_pitr("bench-pitr") as testbed:
        return measure(testbed, args.size_mb)


def main(argv: list[str]) -> int:
    from benchmarks.table import render

    print(render(rows(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
