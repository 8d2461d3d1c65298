"""Build and cache the base root file system of a test server (debootstrap, minbase)."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from .paths import IMAGE_CACHE_DIR, RELEASES

log = logging.getLogger(__name__)

#: Packages on top of minbase. Keep in step with DESIGN.md ("The test server").
INCLUDE = (
    "systemd",
    "systemd-sysv",
    "dbus",
    "openssh-server",
    "python3",
    "ca-certificates",
    "sudo",
    "iproute2",
)
MIRROR = "http://deb.debian.org/debian"


def image_path(release: str) -> Path:
    return IMAGE_CACHE_DIR / f"{release}.tar"


def ensure_image(release: str, *, rebuild: bool = False) -> Path:
    """Return the cached tarball for ``release``, building it first if missing (or if ``rebuild``).

    The tarball is written to a temporary name and renamed into place, so a crash never leaves a
    half-written image, and concurrent builders each produce a complete file (the last one wins).
    """
    if release not in RELEASES:
        raise ValueError(f"unsupported release {release!r}: expected one of {', '.join(RELEASES)}")
    target = image_path(release)
    if target.exists() and not rebuild:
        return target
    IMAGE_CACHE_DIR.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    build_root = Path(tempfile.mkdtemp(prefix=f"build-{release}-", dir=IMAGE_CACHE_DIR))
    tmp_tar = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        rootfs = build_root / "root"
        log.info("debootstrap %s into %s (about a minute)", release, rootfs)
        subprocess.run(
            [
                "debootstrap",
                "--variant=minbase",
                "--include=" + ",".join(INCLUDE),
                release,
                str(rootfs),
                MIRROR,
            ],
            check=True,
            stdout=subprocess.DEVNULL if not log.isEnabledFor(logging.DEBUG) else None,
        )
        # Leave no downloaded .debs and no host-specific identity in the image.
        for deb in (rootfs / "var/cache/apt/archives").glob("*.deb"):
            deb.unlink()
        (rootfs / "etc/machine-id").write_text("")
        for key in (rootfs / "etc/ssh").glob("ssh_host_*"):
            key.unlink()
        subprocess.run(
            ["tar", "--numeric-owner", "--xattrs", "--acls", "-C", str(rootfs), "-cf", str(tmp_tar), "."],
            check=True,
        )
        os.replace(tmp_tar, target)
    finally:
        tmp_tar.unlink(missing_ok=True)
        shutil.rmtree(build_root, ignore_errors=True)
    log.info("built %s in %.0f s", target, time.monotonic() - started)
    return target


def extract_image(release: str, dest: Path) -> None:
    """Unpack a fresh copy of the cached image for ``release`` into ``dest`` (must not exist)."""
    tarball = ensure_image(release)
    dest.mkdir(parents=True)
    subprocess.run(
        ["tar", "--numeric-owner", "--xattrs", "--acls", "-C", str(dest), "-xf", str(tarball)],
        check=True,
    )
