"""PostgreSQL, Node.js/pm2, nginx and certbot settings."""

from __future__ import annotations

from ..rules import boolean, email, identifier, integer, number, one_of, string, url, version

RULES = {
    # restore-db renames to <db>_before_restore_<YYYYmmddTHHMMSSZ> (32 more chars, PostgreSQL's limit is 63)
    "postgresql_database": string(r"[a-z_][a-z0-9_]{0,30}", "a lower-case name of letters, digits and '_' (max 31)"),
    "postgresql_role": identifier,
    "postgresql_shared_buffers_ratio": number(0.05, 0.5),
    "postgresql_work_mem_mb": integer(1, 4096),
    "postgresql_max_connections": integer(10, 10000),
    "nodejs_source": one_of("debian", "nodesource"),
    "nodejs_nodesource_major": integer(18, 40),
    "pm2_version": version,
    "nginx_api_rate_limit": string(r"[0-9]+r/[sm]", "a rate such as 10r/s or 600r/m"),
    "nginx_api_rate_burst": integer(0, 10000),
    "nginx_proxy_read_timeout": integer(1, 86400),
    "nginx_hsts_max_age": integer(0),
    "nginx_client_max_body_size": string(r"[0-9]+[kmg]?", "a size such as 10m"),
    "certbot_enabled": boolean,
    "certbot_email": email,
    "certbot_acme_server": url,
}
