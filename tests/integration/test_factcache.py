"""The fact cache and the batched prefetch give what pyinfra's own fact reads give, read on this machine
through pyinfra's @local connector: files that exist and not, a fact whose command is missing, a fact whose
command fails (left to the live read), and the cache emptied once an operation changed the host."""

from __future__ import annotations

import os

from pyinfra.api import Config, Inventory, QuoteString, State, StringCommand
from pyinfra.api.connect import connect_all
from pyinfra.api.facts import FactBase
from pyinfra.context import ctx_host, ctx_state
from pyinfra.facts.files import Directory, File, Sha1File
from pyinfra.facts.server import Hostname, LinuxDistribution, Os

from louieops import factcache


class NoSuchTool(FactBase):
    requires_command = "louieops-no-such-tool"

    def command(self):
        return "louieops-no-such-tool --version"

    @staticmethod
    def default():
        return "absent"


class Failing(FactBase):
    def command(self):
        return "echo partial; exit 3"


class Printed(FactBase):
    """Prints ``text`` exactly (printf): with or without a final newline, empty lines kept."""

    def command(self, text):
        return StringCommand("printf", "%s", QuoteString(text))

    def process(self, output):
        return output


def local_host():
    inventory = Inventory((["@local"], {}))
    state = State(inventory, Config())
    connect_all(state)
    return state, inventory.get_host("@local")


def count_commands(host) -> list[str]:
    ran: list[str] = []
    original = host.run_shell_command

    def counting(command, **kwargs):
        ran.append(str(command))
        return original(command, **kwargs)

    host.run_shell_command = counting
    return ran


def test_a_batch_reads_what_the_live_reads_read_in_one_command(tmp_path):
    (tmp_path / "f").write_text("x\n")
    # an access time after the change time: reading the file (Sha1File) then leaves it alone (relatime), so a
    # read before and one after the hash see the same one
    stat = os.stat(tmp_path / "f")
    os.utime(tmp_path / "f", (stat.st_mtime + 5, stat.st_mtime))
    state, host = local_host()
    requests = [
        (File, {"path": str(tmp_path / "f")}),
        (File, {"path": str(tmp_path / "missing")}),
        (Directory, {"path": str(tmp_path)}),
        (Sha1File, {"path": str(tmp_path / "f")}),
        (Os, {}),
        (LinuxDistribution, {}),
        (Hostname, {}),
        (NoSuchTool, {}),
        (Printed, {"text": "no final newline"}),
        (Printed, {"text": "two lines\nand a final newline\n"}),
        (Printed, {"text": "an empty line\n\nin the middle"}),
        (Printed, {"text": "ends with an empty line\n\n"}),
    ]
    with ctx_state.use(state), ctx_host.use(host):
        live = [host.get_fact(cls, **kwargs) for cls, kwargs in requests]
        cache = factcache.install(host)
        ran = count_commands(host)
        keys = [cache.key(cls, (), kwargs) for cls, kwargs in requests]
        assert factcache.prefetch(cache, keys) == len(requests)
        assert len(ran) == 1
        cached = [host.get_fact(cls, **kwargs) for cls, kwargs in requests]
        assert len(ran) == 1  # every request answered from the batch
    assert cached == live
    assert cached[7] == "absent"  # a missing tool gives the fact's default, as pyinfra does


def test_a_batch_longer_than_an_argument_may_be_is_split(tmp_path):
    state, host = local_host()
    paths = [str(tmp_path / f"file-with-a-long-name-{i:04}") for i in range(400)]
    with ctx_state.use(state), ctx_host.use(host):
        live = [host.get_fact(File, path=path) for path in paths]
        cache = factcache.install(host)
        ran = count_commands(host)
        keys = [cache.key(File, (), {"path": path}) for path in paths]
        assert sum(len(str(factcache._fact_command(key)[1])) for key in keys) > factcache.BATCH_CHARACTERS
        assert factcache.prefetch(cache, keys) == len(paths)  # no "Argument list too long"
        assert (
            1
            < len(ran)
            <= 1 + sum(len(str(factcache._fact_command(key)[1])) for key in keys) // (factcache.BATCH_CHARACTERS // 2)
        )
        assert [host.get_fact(File, path=path) for path in paths] == live


def test_a_failing_fact_is_left_to_the_live_read_and_a_change_empties_the_cache(tmp_path):
    state, host = local_host()
    with ctx_state.use(state), ctx_host.use(host):
        cache = factcache.install(host)
        assert factcache.prefetch(cache, [cache.key(Failing, (), {})]) == 0
        assert cache.key(Failing, (), {}) not in cache.values
        path = str(tmp_path / "made")
        assert host.get_fact(File, path=path) is None
        assert host.get_fact(File, path=path) is None and cache.hits == 1  # cached
        host.run_shell_command(StringCommand("touch", path))  # a command that is not a fact's read
        assert host.get_fact(File, path=path)["size"] == 0 and cache.hits == 1  # read live again
