"""The app's git remote of a test server: the reference app in the real app's repository layout (``backend/``
with package.json and package-lock.json), in a bare repository that ``git daemon`` serves on the peer address.

Tests change the app the way a developer would: edit files in a work tree, commit, push; the next deploy
fetches the new commit from ``git://<peer>:<port>/app.git``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from .paths import REPO_ROOT

REPOSITORY = "app.git"
APP_DIR = "backend"  # where package.json is, as in the seed's app
BRANCH = "main"
_GIT_ENV = {
    "GIT_AUTHOR_NAME": "louieops testbed",
    "GIT_AUTHOR_EMAIL": "testbed@louieops.invalid",
    "GIT_COMMITTER_NAME": "louieops testbed",
    "GIT_COMMITTER_EMAIL": "testbed@louieops.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
    "HOME": "/nonexistent",
}


class AppRepo:
    """The bare repository under ``base`` (served by git daemon) and a work tree next to it."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.bare = base / REPOSITORY
        self.work = base / "work"

    def git(self, *args: str, cwd: Path | None = None) -> str:
        env = {**os.environ, **_GIT_ENV}
        done = subprocess.run(
            ["git", *args], cwd=cwd or self.work, env=env, capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"git {' '.join(args)} failed: {done.stderr.strip()}")
        return done.stdout.strip()

    def create(self) -> str:
        """A new repository whose first commit is the reference app under backend/; returns that commit."""
        shutil.rmtree(self.base, ignore_errors=True)
        self.base.mkdir(parents=True)
        self.git("init", "--quiet", "--bare", f"--initial-branch={BRANCH}", str(self.bare), cwd=self.base)
        (self.bare / "git-daemon-export-ok").touch()
        self.git("clone", "--quiet", str(self.bare), str(self.work), cwd=self.base)
        shutil.copytree(REPO_ROOT / "files" / "app", self.work / APP_DIR)
        (self.work / "README.md").write_text("The SimplyLouie API, as the test server's git remote serves it.\n")
        return self.commit("The reference app")

    def commit(self, message: str, changes: dict[str, str] | None = None) -> str:
        """Write ``changes`` (path in the repository -> content), commit everything, push; the new commit."""
        for relative, content in (changes or {}).items():
            path = self.work / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content)
        self.git("add", "--all")
        self.git("commit", "--quiet", "--allow-empty", "-m", message)
        self.git("push", "--quiet", "origin", f"HEAD:refs/heads/{BRANCH}")
        return self.git("rev-parse", "HEAD")

    def tag(self, name: str, commit: str = "HEAD") -> None:
        self.git("tag", "-a", "-m", name, name, commit)
        self.git("push", "--quiet", "origin", f"refs/tags/{name}")

    def read(self, relative: str) -> str:
        return (self.work / relative).read_text()
