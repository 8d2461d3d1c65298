"""Node.js and pm2 settings."""

from __future__ import annotations

from ..rules import integer, one_of, version

HEADING = "Node.js and pm2"
RULES = {
    "nodejs_source": one_of("debian", "nodesource"),
    "nodejs_nodesource_major": integer(18, 40),
    "pm2_version": version,
}
