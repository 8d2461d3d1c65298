"""The Debian 12 -> 13 upgrade measured on a test server deployed with backup_pitr and a ~1 GB database.

    python -m benchmarks.upgrade_bench                  # boots its own bookworm server, ~1 GB database
    python -m benchmarks.upgrade_bench --size-mb 100    # quick run (or BENCH_BACKUP_DB_MB=100)

`louieops os-upgrade INVENTORY --to trixie --yes` as the operator runs it, timed from the controller; the
server's own records give the apt part (louie-os-upgrade) and PostgreSQL's 15 -> 17 with the downtime it
caused (louie-pg-upgrade: seconds in maintenance mode, pg_upgradecluster -m upgrade, the collation refresh,
the stanza upgrade and its full backup). Asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from benchmarks import backup_bench, deploy_bench, pitr_bench
from benchmarks.table import Row, seconds
from louieops.testbed import Testbed

SECTION = "upgrade"
LOUIEOPS = Path(sys.executable).with_name("louieops")


def measure(testbed: Testbed, size_mb: int) -> list[Row]:
    server = backup_bench.Server(testbed)
    db = backup_bench.prepare(server, size_mb)
    started = time.monotonic()
    done = subprocess.run(
        [str(LOUIEOPS), "os-upgrade", str(testbed.inventory_path), "--to", "trixie", "--yes"],
        cwd=deploy_bench.REPO,
        env={**os.environ, **testbed.env},
        capture_output=True,
        text=True,
    )
    took = time.monotonic() - started
    if done.returncode != 0:
        raise deploy_bench.BenchError(
            f"os-upgrade failed (exit {done.returncode}):\n{done.stdout[-3000:]}{done.stderr}"
        )
    os_record = json.loads(server.root("cat /var/lib/louieops/os-upgrade.json"))
    pg = json.loads(server.root("cat /var/lib/louieops/pg-upgrade.json"))
    window = re.search(r"([\d.]+) min of it in maintenance mode", done.stdout)
    size = f"{db['bytes'] / 2**30:.2f} GB database"
    return [
        Row(SECTION, "louieops os-upgrade bookworm -> trixie, whole", seconds(took), "backup, apt, reboot, 2 deploys"),
        Row(SECTION, "  of it the apt sources and full upgrade", seconds(os_record.get("seconds", 0)), "on the server"),
        Row(SECTION, "  of it in maintenance mode (503 page)", f"{float(window.group(1)):.1f} min" if window else "?"),
        Row(
            SECTION,
            f"PostgreSQL {pg['source']} -> {pg['target']} downtime ({pg['method']})",
            seconds(pg["maintenance_seconds"]),
            f"{size}; reindex, stanza-upgrade, full backup",
        ),
    ]


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.upgrade_bench", description=__doc__.splitlines()[0])
    backup_bench.add_size_option(parser)
    return parser.parse_args(argv)


def rows(argv: list[str]) -> list[Row]:
    args = parse(argv)
    with pitr_bench.deployed_with_pitr("bench-upgrade") as testbed:
        return measure(testbed, args.size_mb)


def main(argv: list[str]) -> int:
    from benchmarks.table import render

    print(render(rows(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
