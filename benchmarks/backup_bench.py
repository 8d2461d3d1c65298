"""Database backup pipelines side by side, on a test server: the floor, the seed's pipeline and ours.

    python -m benchmarks.backup_bench                    # boots its own test server, ~1 GB database
    python -m benchmarks.backup_bench --size-mb 100      # quick run (or BENCH_BACKUP_DB_MB=100)
    python -m benchmarks.backup_bench --attach NAME      # use a running test server instead (or BENCH_TESTBED)

The database is realistic rather than pgbench's (whose rows compress so well they hide the differences):
messages with a Zipf-like mix of 20,000 random words, e-mail addresses, timestamps and JSON metadata,
plus an index. Every pipeline runs on the server as the postgres user, timed there (no SSH in the
numbers), one after the other in the same run. Restores go into a fresh database each. Prints a table;
asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import sys
from dataclasses import dataclass

from benchmarks.table import Row, seconds
from louieops.testbed import Testbed

DB = "louie_bench"
WORK = "/var/lib/postgresql/louie-bench"
ROWS_PER_MB = 1550  # measured: ~650 bytes per messages row on disk, index included
POOL_MB = 20  # vocab + sentences
CHUNK_ROWS = 200_000

SCHEMA_SQL = """
DROP TABLE IF EXISTS messages, sentences, vocab;
CREATE TABLE vocab (id int PRIMARY KEY, w text NOT NULL);
INSERT INTO vocab
  SELECT i, (SELECT string_agg(chr(97 + floor(random() * 26)::int), '') FROM generate_series(1, 2 + (i % 9)))
    FROM generate_series(1, 20000) i;
CREATE TABLE sentences (id int PRIMARY KEY, s text NOT NULL);
INSERT INTO sentences
  SELECT i, (SELECT string_agg(v.w, ' ')
               FROM (SELECT 1 + floor(power(random(), 3) * 19999)::int AS id FROM generate_series(1, 4 + i % 12)) r
               JOIN vocab v USING (id))
    FROM generate_series(1, 200000) i;
CREATE TABLE messages (
  id bigserial PRIMARY KEY, user_id int NOT NULL, created_at timestamptz NOT NULL,
  email text NOT NULL, subject text NOT NULL, body text NOT NULL, meta jsonb NOT NULL);
"""

# One chunk of rows; :lo and :hi are psql variables. Words come from a Zipf-like draw (power(random(), 3):
# a few frequent words, many rare ones) and sentences from a 200,000-sentence pool (~14 MB, far beyond
# any compressor's window), so what compresses is word statistics, as in real text. Random ids are drawn
# in a subquery and then joined (random() in a WHERE would be re-drawn per scanned row); "+ 0 * g" ties
# a subquery to its row so that it is evaluated per row, not once.
CHUNK_SQL = """
INSERT INTO messages (user_id, created_at, email, subject, body, meta)
SELECT (random() * 200000)::int,
       now() - random() * interval '730 days',
       (SELECT string_agg(v.w, '.')
          FROM (SELECT 1 + floor(power(random(), 2) * 19999)::int + 0 * g AS id FROM generate_series(1, 2)) r
          JOIN vocab v USING (id)) || '@' ||
         (ARRAY['gmail.com', 'outlook.com', 'yahoo.com', 'proton.me', 'example.org'])[1 + floor(random() * 5)::int],
       (SELECT t.s FROM (SELECT 1 + floor(random() * 199999)::int + 0 * g AS id) r JOIN sentences t USING (id)),
       (SELECT string_agg(t.s, ' ')
          FROM (SELECT 1 + floor(random() * 199999)::int AS id FROM generate_series(1, 2 + g % 6)) r
          JOIN sentences t USING (id)),
       jsonb_build_object(
         'ip', format('%s.%s.%s.%s', (random() * 255)::int, (random() * 255)::int, (random() * 255)::int,
                      (random() * 255)::int),
         'agent', (ARRAY['Mozilla/5.0 (X11; Linux x86_64)', 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0)',
                         'curl/8.5.0', 'okhttp/4.12.0'])[1 + floor(random() * 4)::int],
         'score', round(random()::numeric, 4),
         'tags', (SELECT jsonb_agg(v.w)
                    FROM (SELECT 1 + floor(power(random(), 3) * 19999)::int AS id FROM generate_series(1, 1 + g % 3)) r
                    JOIN vocab v USING (id)))
  FROM generate_series(:lo, :hi) g;
"""


@dataclass(frozen=True)
class Case:
    label: str
    dump: str | None  # shell pipeline writing {file} (or /dev/null); None: restore an earlier case's file
    file: str | None
    restore: str | None  # shell command restoring {file} into database {target}


def cases(jobs: int) -> list[Case]:
    return [
        Case("floor: pg_dump -Fc -Z0 > /dev/null", f"pg_dump -Fc -Z0 {DB} > /dev/null", None, None),
        Case(
            "seed: pg_dump | gzip (plain SQL)",
            f"pg_dump {DB} | gzip > {{file}}",
            "seed.sql.gz",
            "gunzip < {file} | psql -X -q -v ON_ERROR_STOP=1 -d {target} > /dev/null",
        ),
        Case(
            "pg_dump -Fc (built-in gzip -6)",
            f"pg_dump -Fc {DB} > {{file}}",
            "builtin.dump",
            f"pg_restore -j {jobs} --exit-on-error -d {{target}} {{file}}",
        ),
        Case(
            "ours: pg_dump -Fc -Z0 | zstd -T0 -3",
            f"pg_dump -Fc -Z0 {DB} | zstd -q -T0 -3 > {{file}}",
            "ours.dump.zst",
            f"zstd -q -d -f -o {WORK}/restore.dump {{file}} && pg_restore -j {jobs} --exit-on-error "
            f"-d {{target}} {WORK}/restore.dump && rm -f {WORK}/restore.dump",
        ),
        Case(
            "  + verify (zstd -t, pg_restore --list, sha256)",
            "zstd -q -t {file} && {{ zstd -q -dc {file} || true; }} | pg_restore --list > /dev/null "
            "&& sha256sum {file} > /dev/null",
            "ours.dump.zst",
            None,
        ),
        Case(
            "  restore streamed: zstd -dc | pg_restore (1 job)",
            None,
            "ours.dump.zst",
            "zstd -q -dc {file} | pg_restore --exit-on-error -d {target}",
        ),
        Case("variant: ... | zstd -T0 -1", f"pg_dump -Fc -Z0 {DB} | zstd -q -T0 -1 > {{file}}", "zstd1.dump.zst", None),
    ]


class Server:
    def __init__(self, testbed: Testbed):
        self.testbed = testbed

    def root(self, command: str, timeout: float = 3600) -> str:
        return self.testbed.ssh(f"sudo bash -c {shlex.quote(command)}", timeout=timeout).stdout

    def postgres(self, command: str, timeout: float = 3600) -> str:
        script = f"set -o errexit -o pipefail; cd {WORK} 2>/dev/null || cd /; {command}"
        return self.root(f"runuser -u postgres -- bash -c {shlex.quote(script)}", timeout)

    def timed(self, command: str, as_root: bool = False) -> float:
        """Seconds the command took on the server (as postgres, or as root)."""
        run = self.root if as_root else self.postgres
        out = run(f"s=$(date +%s%N); {command}; e=$(date +%s%N); echo $(( (e - s) / 1000000 ))")
        return int(out.split()[-1]) / 1000

    def psql(self, sql: str, database: str = DB, **variables) -> str:
        args = " ".join(f"-v {k}={shlex.quote(str(v))}" for k, v in variables.items())
        return self.postgres(f"psql -X -q -A -t -v ON_ERROR_STOP=1 {args} -d {database} <<'SQL'\n{sql}\nSQL")


def prepare(server: Server, size_mb: int) -> dict:
    server.root(
        "command -v pg_dump >/dev/null && command -v zstd >/dev/null || "
        "(apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql zstd) "
        ">/dev/null"
    )
    server.root("systemctl start postgresql && until pg_isready -q; do sleep 0.2; done")
    server.root(f"install -d -o postgres -g postgres -m 0700 {WORK}")
    server.psql(f"DROP DATABASE IF EXISTS {DB};", database="postgres")
    server.psql(f"CREATE DATABASE {DB};", database="postgres")
    server.psql(SCHEMA_SQL)
    rows = max(size_mb - POOL_MB, 5) * ROWS_PER_MB
    for lo in range(1, rows + 1, CHUNK_ROWS):
        hi = min(rows, lo + CHUNK_ROWS - 1)
        server.psql(CHUNK_SQL, lo=lo, hi=hi)
        print(f"  generated {hi:,} / {rows:,} rows", file=sys.stderr, flush=True)
    server.psql("CREATE INDEX ON messages (user_id, created_at); VACUUM ANALYZE;")
    size = int(server.psql(f"SELECT pg_database_size('{DB}')"))
    return {"rows": rows, "bytes": size}


def measure(server: Server, jobs: int, repeat: int) -> list[dict]:
    results = []
    for case in cases(jobs):
        file = f"{WORK}/{case.file}" if case.file else None
        seconds = size = None
        if case.dump:
            seconds = statistics.median(server.timed(case.dump.format(file=file)) for _ in range(repeat))
            size = int(server.postgres(f"stat -c %s {file}").strip()) if file else None
        restore_seconds = None
        if case.restore:
            target = f"{DB}_restore"
            server.psql(f"DROP DATABASE IF EXISTS {target}; CREATE DATABASE {target};", database="postgres")
            restore_seconds = server.timed(case.restore.format(file=file, target=target))
            server.psql(f"DROP DATABASE {target};", database="postgres")
        results.append({"label": case.label, "seconds": seconds, "bytes": size, "restore": restore_seconds})
        print(f"  {case.label}: dump {seconds} s, restore {restore_seconds} s", file=sys.stderr, flush=True)
    return results


def table(results: list[dict], db: dict) -> str:
    def mb(n):
        return "" if n is None else f"{n / 1e6:,.0f}"

    def sec(n):
        return "" if n is None else f"{n:.1f}"

    head = ("pipeline", "dump s", "size MB", "restore s")
    rows = [(r["label"], sec(r["seconds"]), mb(r["bytes"]), sec(r["restore"])) for r in results]
    widths = [max(len(str(row[i])) for row in [head, *rows]) for i in range(4)]
    lines = [f"database {DB}: {db['rows']:,} rows, {mb(db['bytes'])} MB on disk (pg_database_size)", ""]
    for row in [head, tuple("-" * w for w in widths), *rows]:
        pairs = enumerate(zip(row, widths, strict=True))
        cells = (str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in pairs)
        lines.append("  ".join(cells))
    return "\n".join(lines)


def add_size_option(parser: argparse.ArgumentParser) -> None:
    """--size-mb: the benchmark database's size (this benchmark's and pitr_bench's)."""
    parser.add_argument(
        "--size-mb",
        type=int,
        default=int(os.environ.get("BENCH_BACKUP_DB_MB", "1024")),
        help="approximate database size (default 1024, env BENCH_BACKUP_DB_MB)",
    )


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.backup_bench", description=__doc__.splitlines()[0])
    add_size_option(parser)
    parser.add_argument(
        "--attach",
        default=os.environ.get("BENCH_TESTBED"),
        help="name of a running test server to use instead of booting one (env BENCH_TESTBED)",
    )
    parser.add_argument("--repeat", type=int, default=1, help="runs of each dump; the median is shown")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    """This benchmark's own table, with every column."""
    args = parse(argv)
    results, db, footer = measure_on_testbed(args)
    print(table(results, db))
    print(f"\n{footer}")
    return 0


def rows(argv: list[str]) -> list[Row]:
    """The rows of `make bench`'s one table: one per pipeline."""
    results, db, footer = measure_on_testbed(parse(argv))

    def figure(n):
        return "" if n is None else seconds(n)

    out = []
    for r in results:
        size = f"{r['bytes'] / 1e6:,.0f} MB" if r["bytes"] is not None else ""
        restore = f"restore {seconds(r['restore'])}" if r["restore"] is not None else ""
        out.append(Row("backup", r["label"].strip(), figure(r["seconds"]), ", ".join(x for x in (size, restore) if x)))
    out.append(Row("backup", f"database: {db['rows']:,} rows", f"{db['bytes'] / 1e6:,.0f} MB", footer))
    return out


def measure_on_testbed(args: argparse.Namespace) -> tuple[list[dict], dict, str]:
    if args.attach:
        return run(Testbed.attach(args.attach), args)
    with Testbed(name="bench", release="bookworm") as testbed:
        return run(testbed, args)


def run(testbed: Testbed, args) -> tuple[list[dict], dict, str]:
    server = Server(testbed)
    print(
        f"backup benchmark on test server {testbed.name} ({testbed.address}), ~{args.size_mb} MB",
        file=sys.stderr,
        flush=True,
    )
    db = prepare(server, args.size_mb)
    jobs = int(server.root("nproc").strip())
    try:
        results = measure(server, jobs, args.repeat)
    finally:
        server.root(f"rm -rf {WORK}")
        server.psql(f"DROP DATABASE IF EXISTS {DB};", database="postgres")
    footer = (
        f"{jobs} cores; PostgreSQL {server.psql('SHOW server_version', database='postgres').strip()}; "
        f"restores with pg_restore -j {jobs} into a fresh database (plain SQL: psql, single session)"
    )
    return results, db, footer


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
