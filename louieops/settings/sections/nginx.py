"""nginx settings."""

from __future__ import annotations

from ..rules import integer, string

HEADING = "nginx"
RULES = {
    "nginx_api_rate_limit": string(r"[0-9]+r/[sm]", "a rate such as 10r/s or 600r/m"),
    "nginx_api_rate_burst": integer(0, 10000),
    "nginx_proxy_read_timeout": integer(1, 86400),
    "nginx_hsts_max_age": integer(0),
    "nginx_client_max_body_size": string(r"[0-9]+[kmg]?", "a size such as 10m"),
    "nginx_upstream_max_fails": integer(1, 100),
    "nginx_upstream_fail_timeout": integer(1, 3600),
}
