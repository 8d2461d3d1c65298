"""Fixed locations and names shared by every part of the test server harness."""

from __future__ import annotations

import re
from pathlib import Path

#: Cached debootstrap tarballs, one per release.
IMAGE_CACHE_DIR = Path("/var/cache/louieops-testbed/images")
#: Shared apt archive pool, one per release (lower layer of the container's /var/cache/apt/archives).
APT_ARCHIVE_DIR = Path("/var/cache/louieops-testbed/apt-archives")
#: Runtime state: one directory per instance, plus the slot allocation table.
STATE_DIR = Path("/var/lib/louieops-testbed")
SLOTS_DIR = STATE_DIR / ".slots"
LOCK_FILE = STATE_DIR / ".lock"
IP_FORWARD_SAVE = STATE_DIR / ".ip_forward.saved"
#: Root file systems of stopped instances, being deleted in the background.
TRASH_DIR = STATE_DIR / ".trash"

#: The repository checkout this package lives in; ``.testbed/<name>/`` holds inventories.
REPO_ROOT = Path(__file__).resolve().parents[2]
WORK_DIR = REPO_ROOT / ".testbed"

RELEASES = ("bookworm", "trixie")
DEFAULT_RELEASE = "bookworm"

NETNS_PREFIX = "lotb-"
VETH_PREFIX = "lotb"
NFT_TABLE_PREFIX = "louieops_tb_"

_NAME_RE = re.compile(r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$|^[a-z]$")


def check_name(name: str) -> str:
    """Return ``name`` if it is a valid instance name, else raise ValueError naming the rule."""
    if not _NAME_RE.match(name):
        raise ValueError(
            f"invalid test server name {name!r}: expected 1-32 characters of a-z, 0-9 and '-', "
            "starting with a letter and not ending with '-'"
        )
    return name


def instance_dir(name: str) -> Path:
    return STATE_DIR / check_name(name)


def work_dir(name: str) -> Path:
    return WORK_DIR / check_name(name)


def netns_name(name: str) -> str:
    return NETNS_PREFIX + check_name(name)


def nft_table_name(name: str) -> str:
    return NFT_TABLE_PREFIX + check_name(name).replace("-", "_")


def veth_names(slot: int) -> tuple[str, str]:
    """Host-side and container-side veth names for a slot (kernel limit: 15 characters)."""
    return f"{VETH_PREFIX}{slot}h", f"{VETH_PREFIX}{slot}c"
