"""The testbed's errors, shared by the orchestration, the teardown helpers and the CLI."""

from __future__ import annotations


class TestbedError(RuntimeError):
    """The test server could not be started, reached or stopped."""

    __test__ = False  # not a pytest test class


class AlreadyRunning(TestbedError):
    """A test server of that name is already running."""
