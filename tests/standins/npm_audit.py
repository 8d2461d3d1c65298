"""A stand-in for the two npm registry endpoints `npm audit` (npm 7 and later) asks, with recorded advisories:

- ``POST /-/npm/v1/security/advisories/bulk``: the body (gzip-compressed JSON, as npm sends it) names the
  installed versions of each package, ``{"minimist": ["1.2.5"], ...}``; the answer lists the advisories of
  the packages asked about, ``{"minimist": [{"id", "url", "title", "severity", "vulnerable_versions",
  "cwe", "cvss"}]}`` (npm checks each installed version against ``vulnerable_versions`` itself);
- ``GET /<name>``: the package document (packument) of a package with an advisory, which npm reads to see
  which published versions are affected and whether a fix exists.

Why a stand-in: the registry the test servers reach answers only GET and HEAD (POST gets 405), so the audit
cannot ask it. The advisory is GHSA-xvch-5gv4-984h (minimist, prototype pollution, critical) in the fields
public npm audit reports show for it; it was not recorded from the registry here, for that reason. Point
npm at it with ``npm_config_registry`` (setting maintenance_npm_audit_registry).

    python -m tests.standins.npm_audit --host 10.231.0.1 --port 9303
"""

from __future__ import annotations

import gzip
import json

from .base import Reply, StandIn, main

MINIMIST_VERSIONS = (
    *(f"0.0.{n}" for n in range(1, 11)),
    "0.1.0",
    *(f"0.2.{n}" for n in range(5)),
    "1.0.0",
    *(f"1.1.{n}" for n in range(4)),
    *(f"1.2.{n}" for n in range(9)),
)
ADVISORIES = {
    "minimist": [
        {
            "id": 1179,
            "url": "https://github.com/advisories/GHSA-xvch-5gv4-984h",
            "title": "Prototype Pollution in minimist",
            "severity": "critical",
            "vulnerable_versions": ">=1.0.0 <1.2.6",
            "cwe": ["CWE-1321"],
            "cvss": {"score": 9.8, "vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"},
        }
    ]
}
PACKUMENTS = {
    "minimist": {
        "name": "minimist",
        "dist-tags": {"latest": MINIMIST_VERSIONS[-1]},
        "versions": {v: {"name": "minimist", "version": v, "dependencies": {}} for v in MINIMIST_VERSIONS},
    }
}


class NpmAudit(StandIn):
    ROUTES = {
        ("POST", "/-/npm/v1/security/advisories/bulk"): "bulk",
        ("GET", "/{name}"): "packument",
    }

    def __init__(self, host: str = "127.0.0.1", port: int = 0, token: str | None = None, **kwargs):
        super().__init__(host, port, token=None, **kwargs)  # the registry's audit needs no login

    def parse_body(self, headers, body_bytes: bytes):
        if headers.get("Content-Encoding") == "gzip":
            body_bytes = gzip.decompress(body_bytes)
        return json.loads(body_bytes) if body_bytes else None

    def bulk(self, params, query, body):
        asked = body if isinstance(body, dict) else {}
        return Reply(200, {name: ADVISORIES[name] for name in asked if name in ADVISORIES})

    def packument(self, params, query, body):
        document = PACKUMENTS.get(params["name"].replace("%2f", "/").replace("%2F", "/"))
        return Reply(200, document) if document else Reply(404, {"error": "Not found"})


if __name__ == "__main__":
    main(NpmAudit, __doc__.splitlines()[0])
