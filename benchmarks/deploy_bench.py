"""The deploy side by side with its floor and with Ansible, on fresh test servers, in the same run.

    python -m benchmarks.deploy_bench                  # boots its own test servers (~15 minutes on 2 cores)
    python -m benchmarks.deploy_bench --noop-runs 5    # median of 5 no-op runs instead of 3

- Fresh provision: the whole deploy on a fresh test server, over the raw floor: the same Debian packages
  (every package the deploy left installed that a fresh server lacks, installed by name) and npm packages
  (the global ones, and the app's dependencies from its lock file) installed by a bare shell script into an
  identical fresh server. Package downloads are warm in both: test servers share an apt download cache, and
  when the deploy had to download anything it is run again on another fresh server. (npm has no shared
  cache: both download the same npm packages.)
  Where its time goes: each task (pyinfra deploy) of the fresh provision with its operations' wall time,
  their count, how many changed and the commands they ran, beside the planning (connect, facts, plan).
- No-op re-deploy: the median of N runs, with its changes (zero expected), operations, remote commands and
  the five slowest operations or fact reads (LOUIEOPS_PROFILE, louieops/profile.py).
- Ansible: ansible-core from PyPI (installed into .bench/ansible), benchmarks/ansible/playbook.yml (29
  resources of the same kinds as a slice of the deploy) on the floor server, with Ansible's fastest
  settings (no fact gathering, pipelining, one persistent SSH connection): converged once, then the median
  of N no-op runs, per resource.

Prints a table; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.table import Row, render, seconds
from louieops.testbed import Testbed
from louieops.testbed.container import APT_UPPER_DIR

REPO = Path(__file__).resolve().parent.parent
PYINFRA = Path(sys.executable).parent / "pyinfra"
APP = REPO / "files" / "app"
PLAYBOOK = REPO / "benchmarks" / "ansible" / "playbook.yml"
ANSIBLE_VENV = REPO / ".bench" / "ansible"
RUN_DIR = REPO / ".bench" / "last-run"  # each run's deploy output and profiles, kept for a look afterwards
ANSIBLE_CORE = "ansible-core>=2.19,<2.20"
SECTION = "deploy"


class BenchError(RuntimeError):
    """A step of the benchmark failed; the message says which and where its log is."""


def log(message: str) -> None:
    print(f"  {message}", file=sys.stderr, flush=True)


@dataclass
class DeployRun:
    seconds: float
    profile: dict

    @property
    def changes(self) -> int:
        return sum(1 for op in self.profile["operations"] if op["changed"])

    @property
    def operations(self) -> int:
        return len(self.profile["operations"])

    @property
    def remote_commands(self) -> int:
        return sum(self.profile["remote_commands"].values())


def deploy(testbed: Testbed, workdir: Path, label: str) -> DeployRun:
    """Run the whole deploy on the test server, timed from the controller."""
    profile, output = workdir / f"{label}.profile.json", workdir / f"{label}.log"
    env = {**os.environ, **testbed.env, "LOUIEOPS_PROFILE": str(profile)}
    started = time.monotonic()
    with output.open("w") as out:
        proc = subprocess.run(
            [str(PYINFRA), "-y", str(testbed.inventory_path), "deploy.py"],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            check=False,
        )
    took = time.monotonic() - started
    if proc.returncode:
        raise BenchError(f"{label}: the deploy failed (exit {proc.returncode}); its output is in {output}")
    return DeployRun(took, json.loads(profile.read_text()))


def downloaded_debs(testbed: Testbed) -> int:
    """.deb files this server downloaded itself (not found in the shared apt cache)."""
    return len(list((testbed.instance_dir / APT_UPPER_DIR).glob("*.deb")))


def installed_packages(testbed: Testbed) -> set[str]:
    out = testbed.ssh("dpkg-query -W -f='${db:Status-Abbrev}${Package}\\n'").stdout
    return {line[3:].strip() for line in out.splitlines() if line.startswith("ii ")}


def global_npm_packages(testbed: Testbed) -> list[str]:
    """name@version of each global npm package (npm itself and corepack come with Debian's packages)."""
    out = testbed.ssh("npm ls -g --depth=0 --json 2>/dev/null || true").stdout
    deps = json.loads(out or "{}").get("dependencies", {})
    return sorted(f"{name}@{d['version']}" for name, d in deps.items() if name not in ("npm", "corepack"))


def floor_script(packages: list[str], npm_globals: list[str]) -> str:
    """The bare shell script of the floor: install the packages, nothing else."""
    return "\n".join(
        [
            "set -euo pipefail",
            "export DEBIAN_FRONTEND=noninteractive",
            "apt-get update -q",
            f"apt-get install -y -q --no-install-recommends {' '.join(map(shlex.quote, packages))}",
            *(
                [f"npm install -g --no-audit --no-fund {' '.join(map(shlex.quote, npm_globals))}"]
                if npm_globals
                else []
            ),
            "cd /srv/floor-app && npm ci --omit=dev --no-audit --no-fund",
        ]
    )


def floor(testbed: Testbed, packages: list[str], npm_globals: list[str]) -> float:
    """Seconds the floor script takes on a fresh server (the app's package files uploaded beforehand)."""
    testbed.ssh("sudo install -d /srv/floor-app")
    for name in ("package.json", "package-lock.json"):
        testbed.ssh(f"sudo tee /srv/floor-app/{name} > /dev/null", input=(APP / name).read_text())
    started = time.monotonic()
    script = floor_script(packages, npm_globals)
    testbed.ssh(f"sudo bash -c {shlex.quote(script)} > /dev/null 2>&1", timeout=3600)
    return time.monotonic() - started


def ansible_venv() -> Path:
    """ansible-core from PyPI in its own virtualenv (kept between runs)."""
    playbook = ANSIBLE_VENV / "bin" / "ansible-playbook"
    if not playbook.exists():
        log(f"installing {ANSIBLE_CORE} into {ANSIBLE_VENV}")
        subprocess.run([sys.executable, "-m", "venv", str(ANSIBLE_VENV)], check=True)
        subprocess.run([str(ANSIBLE_VENV / "bin" / "pip"), "install", "-q", ANSIBLE_CORE], check=True)
    return playbook


def ansible_run(playbook: Path, testbed: Testbed, workdir: Path) -> tuple[float, int]:
    """(seconds, changed tasks) of one ansible-playbook run against the server."""
    inventory = workdir / "ansible-inventory.ini"
    inventory.write_text(
        f"[bench]\n{testbed.address} ansible_user=deploy ansible_ssh_private_key_file={testbed.ssh_key} "
        "ansible_python_interpreter=/usr/bin/python3\n"
    )
    env = {
        **os.environ,
        "ANSIBLE_PIPELINING": "True",
        "ANSIBLE_SSH_ARGS": f"-o ControlMaster=auto -o ControlPersist=120s -o UserKnownHostsFile={testbed.known_hosts}"
        " -o StrictHostKeyChecking=yes -o IdentitiesOnly=yes",
        "ANSIBLE_CONTROL_PATH_DIR": str(workdir / "cp"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_RETRY_FILES_ENABLED": "False",
    }
    started = time.monotonic()
    proc = subprocess.run(
        [str(playbook), "-i", str(inventory), str(PLAYBOOK)], env=env, capture_output=True, text=True, check=False
    )
    took = time.monotonic() - started
    if proc.returncode:
        raise BenchError(
            f"ansible-playbook failed (exit {proc.returncode}):\n{proc.stdout[-3000:]}{proc.stderr[-2000:]}"
        )
    changed = re.search(r"changed=(\d+)", proc.stdout)
    return took, int(changed.group(1)) if changed else -1


def slowest(runs: list[DeployRun], count: int = 5) -> list[tuple[str, float]]:
    """The slowest operations or fact reads of the no-op runs (median over the runs, by name)."""
    times: dict[str, list[float]] = {}
    for run in runs:
        for op in run.profile["operations"]:
            times.setdefault(f"operation: {op['operation']}", []).append(op["seconds"])
        for read in run.profile["fact_reads"]:
            times.setdefault(f"fact read: {read['fact']}", []).append(read["seconds"])
    medians = {name: statistics.median(values) for name, values in times.items()}
    return sorted(medians.items(), key=lambda item: -item[1])[:count]


def by_task(run: DeployRun) -> list[tuple[str, float, int, int, int]]:
    """(task, seconds, operations, changed, commands) of a run, slowest first: operations grouped by the deploy
    (task) pyinfra names them under ("Health check | Upload ..."); seconds summed over the run's hosts."""
    tasks: dict[str, list[float]] = {}
    for op in run.profile["operations"]:
        task = op["operation"].split(" | ", 1)[0] if " | " in op["operation"] else "(outside a task)"
        total = tasks.setdefault(task, [0.0, 0, 0, 0])
        total[0] += op["seconds"]
        total[1] += 1
        total[2] += 1 if op["changed"] else 0
        total[3] += op.get("commands") or 0
    return sorted(((name, *values) for name, values in tasks.items()), key=lambda item: -item[1])


def measure(noop_runs: int, workdir: Path) -> list[Row]:
    release = "bookworm"
    with Testbed(name="bench-deploy", release=release) as server:
        log(f"fresh provision on {server.name} ({server.address})")
        fresh = deploy(server, workdir, "fresh")
        cold = downloaded_debs(server)
        noops = []
        for index in range(noop_runs):
            noops.append(deploy(server, workdir, f"noop-{index}"))
            log(f"no-op run {index + 1}: {noops[-1].seconds:.2f} s, {noops[-1].changes} changes")
        deployed_packages = installed_packages(server)
        npm_globals = global_npm_packages(server)
    if cold:
        log(f"the deploy downloaded {cold} .deb files (cold cache): provisioning again with warm downloads")
        with Testbed(name="bench-deploy", release=release) as server:
            fresh = deploy(server, workdir, "fresh-warm")
            cold = downloaded_debs(server)
    with Testbed(name="bench-floor", release=release) as bare:
        packages = sorted(deployed_packages - installed_packages(bare))
        log(f"floor: {len(packages)} Debian packages, npm {', '.join(npm_globals) or '-'} and the app's dependencies")
        floor_seconds = floor(bare, packages, npm_globals)
        floor_cold = downloaded_debs(bare)
        playbook = ansible_venv()
        ansible_run(playbook, bare, workdir)  # converge
        ansible = [ansible_run(playbook, bare, workdir) for _ in range(noop_runs)]

    noop = statistics.median(run.seconds for run in noops)
    typical = min(noops, key=lambda run: abs(run.seconds - noop))
    ansible_seconds = statistics.median(took for took, _ in ansible)
    ansible_tasks = sum(1 for line in PLAYBOOK.read_text().splitlines() if line.startswith("    - name:"))
    rows = [
        Row(
            SECTION,
            "fresh provision (whole deploy)",
            seconds(fresh.seconds),
            f"{fresh.operations} operations, {fresh.changes} changed; {cold} .debs downloaded",
        ),
        Row(
            SECTION,
            "raw floor (bare script, same packages)",
            seconds(floor_seconds),
            f"{len(packages)} Debian packages + npm; {floor_cold} .debs downloaded",
        ),
        Row(
            SECTION,
            "fresh provision / floor",
            f"{fresh.seconds / floor_seconds:.2f}x",
            "the deploy's own cost over installing its packages",
        ),
        Row(
            SECTION,
            "  planning (connect, facts, plan)",
            seconds(fresh.profile["planning_seconds"]),
            "before the first operation",
        ),
    ]
    rows += [
        Row(SECTION, f"  task: {name}", seconds(took), f"{count} operations, {changed} changed, {commands} commands")
        for name, took, count, changed, commands in by_task(fresh)
    ]
    rows += [
        Row(
            SECTION,
            f"no-op re-deploy (median of {noop_runs})",
            seconds(noop),
            f"changes per run: {', '.join(str(r.changes) for r in noops)}",
        ),
        Row(SECTION, "  per operation", f"{noop / typical.operations:.3f} s", f"{typical.operations} operations"),
        Row(
            SECTION,
            "  remote commands in the no-op",
            str(typical.remote_commands),
            f"planning {typical.profile['planning_seconds']:.2f} s of it (connect, facts, plan)",
        ),
    ]
    rows += [
        Row(SECTION, f"  slowest {index}", seconds(took), name) for index, (name, took) in enumerate(slowest(noops), 1)
    ]
    rows += [
        Row(
            SECTION,
            f"Ansible no-op (median of {noop_runs})",
            seconds(ansible_seconds),
            f"{ansible_tasks} tasks, changed per run: {', '.join(str(c) for _, c in ansible)}",
        ),
        Row(
            SECTION,
            "  per resource: Ansible",
            f"{ansible_seconds / ansible_tasks:.3f} s",
            ANSIBLE_CORE + ", pipelining, ControlPersist, no facts",
        ),
        Row(SECTION, "  per resource: this deploy", f"{noop / typical.operations:.3f} s", "the no-op above"),
    ]
    return rows


def rows(argv: list[str]) -> list[Row]:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.deploy_bench", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--noop-runs",
        type=int,
        default=int(os.environ.get("BENCH_NOOP_RUNS", "3")),
        help="no-op runs of each tool; the median is shown (default 3, env BENCH_NOOP_RUNS)",
    )
    args = parser.parse_args(argv)
    shutil.rmtree(RUN_DIR, ignore_errors=True)
    RUN_DIR.mkdir(parents=True)
    return measure(args.noop_runs, RUN_DIR)


def main(argv: list[str]) -> int:
    print(render(rows(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
