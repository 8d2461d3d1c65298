"""Facts about the app's releases: what is deployed (from the release metadata louie-release writes) and
which commit a branch or tag of the git remote names now."""

from __future__ import annotations

import json
import re

from pyinfra.api import FactBase, QuoteString, StringCommand
from pyinfra.api.exceptions import FactProcessError

_CURRENT_MARK = "#current:"
_LEGACY_MARK = "#legacy"
COMMIT = re.compile(r"[0-9a-f]{40}")


class AppReleases(FactBase[dict]):
    """
    The releases under ``app_root`` (one command): the live one, every release's metadata, and whether the
    in-place layout of deploys before releases (``app_root/app``) is still there.

    .. code:: python

        {
            "live": "20261130T120000Z-abc1234",
            "releases": {"20261130T120000Z-abc1234": {"commit": "abc1234...", "gate": "passed", ...}},
            "legacy": False,
        }
    """

    def command(self, app_root: str) -> StringCommand:
        root = QuoteString(app_root)
        return StringCommand(
            "cd",
            root,
            "2>/dev/null || exit 0;",
            f"printf '{_CURRENT_MARK}%s\\n' \"$(readlink current 2>/dev/null)\";",
            f"test -d app && echo '{_LEGACY_MARK}';",
            'for meta in releases/*/.louieops-release.json; do test -f "$meta" && cat "$meta"; done; true',
        )

    @staticmethod
    def default() -> dict:
        return {"live": None, "releases": {}, "legacy": False}

    def process(self, output: list[str]) -> dict:
        return parse_releases(output)


def parse_releases(lines: list[str]) -> dict:
    result = AppReleases.default()
    for line in lines:
        line = line.strip()
        if line.startswith(_CURRENT_MARK):
            target = line[len(_CURRENT_MARK) :]
            result["live"] = target.rsplit("/", 1)[-1] or None
        elif line == _LEGACY_MARK:
            result["legacy"] = True
        elif line:
            try:
                meta = json.loads(line)
                result["releases"][meta["id"]] = meta
            except (ValueError, KeyError, TypeError) as exc:
                raise FactProcessError(f"unreadable release metadata: {line[:80]!r}") from exc
    return result


class GitRemoteCommit(FactBase[str | None]):
    """
    The commit a branch or tag of a git remote points to now (``git ls-remote``, run as the user whose deploy
    key reaches the remote); None when the remote has no such branch or tag, or git is not installed yet.
    A full 40-character commit is returned as it is, without asking the remote.

    .. code:: python

        "3f1c2a9e0d6b5c4a3928171605f4e3d2c1b0a998"
    """

    requires_command = "git"

    def command(self, url: str, ref: str) -> StringCommand:
        if COMMIT.fullmatch(ref):
            return StringCommand("echo", QuoteString(ref))
        # "REF^{}" too: ls-remote lists an annotated tag's commit (the peeled ref) only when asked for it
        return StringCommand(
            "echo",
            QuoteString(_REF_MARK + ref),
            "&&",
            "git",
            "ls-remote",
            "--",
            QuoteString(url),
            QuoteString(ref),
            QuoteString(f"{ref}^{{}}"),
        )

    @staticmethod
    def default() -> None:
        return None

    def process(self, output: list[str]) -> str | None:
        return pick_commit(output)


_REF_MARK = "#ref:"


def pick_commit(lines: list[str]) -> str | None:
    """The commit that ``#ref:REF`` then ``git ls-remote URL REF`` name: the branch refs/heads/REF, else the
    tag refs/tags/REF (peeled when it is annotated). A single commit line is a commit given as the ref."""
    if len(lines) == 1 and COMMIT.fullmatch(lines[0].strip()):
        return lines[0].strip()
    ref, refs = None, {}
    for line in lines:
        if line.startswith(_REF_MARK):
            ref = line[len(_REF_MARK) :].strip()
            continue
        parts = line.split()
        if len(parts) == 2 and COMMIT.fullmatch(parts[0]):
            refs[parts[1]] = parts[0]
    for name in (f"refs/heads/{ref}", f"refs/tags/{ref}^{{}}", f"refs/tags/{ref}"):
        if name in refs:
            return refs[name]
    return None
