"""A controller command made of steps (``louieops rebuild``, ``louieops os-upgrade``): each step an existing
command, announced, timed, and the first that fails ends the run with one line saying which."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

from .admin import AdminError


def confirm(yes: bool, question: str) -> bool:
    """True with --yes or a "y" on a terminal; refuses (exit 2) without a terminal to ask on."""
    if yes:
        return True
    if not sys.stdin.isatty():
        raise AdminError("not asked on a terminal: add --yes to go on without a question", 2)
    if input(f"{question} [y/N] ").strip().lower() in ("y", "yes"):
        return True
    print("nothing done")
    return False


class Steps:
    """``run(name, action)`` for each step; ``action`` returns an exit status. ``after_failure`` is what the
    failure's line tells the operator (what stands, what to do)."""

    def __init__(self, command: str, after_failure: str) -> None:
        self.command, self.after_failure = command, after_failure
        self.timings: list[tuple[str, float]] = []
        self.started = time.monotonic()

    def run(self, name: str, action: Callable[[], int]) -> None:
        print(f"louieops {self.command}: {name} ...", flush=True)
        begun = time.monotonic()
        status = action()
        self.timings.append((name, time.monotonic() - begun))
        if status != 0:
            raise AdminError(f"{name} failed (exit {status}; its lines are above); {self.after_failure}", 1)

    def print_timings(self) -> None:
        for name, seconds in self.timings:
            print(f"  {seconds:7.1f} s  {name}")

    @property
    def seconds(self) -> float:
        return time.monotonic() - self.started
