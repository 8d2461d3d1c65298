"""The official OpenAPI documents (copied from shared/reference) and request validation against them.

``validate_request(doc, method, path_template, body)`` raises ``jsonschema.ValidationError`` when a body
does not match the document's request schema ($refs resolved inside the document; OpenAPI 3.0
``nullable`` is mapped to a JSON-schema null type).
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import jsonschema
import yaml

HERE = Path(__file__).resolve().parent
UPTIMEROBOT = HERE / "uptimerobot-openapi-v3.yaml"
SENTRY = HERE / "sentry-openapi-alerts-subset.json"


@functools.cache
def load(path: Path) -> dict:
    text = path.read_text()
    return _nullable(yaml.safe_load(text) if path.suffix == ".yaml" else json.loads(text))


def _nullable(node):
    if isinstance(node, dict):
        node = {k: _nullable(v) for k, v in node.items()}
        if node.pop("nullable", False):
            if isinstance(node.get("type"), str):
                node["type"] = [node["type"], "null"]
            elif "enum" in node:
                node["enum"] = list(node["enum"]) + [None]
        return node
    if isinstance(node, list):
        return [_nullable(v) for v in node]
    return node


def request_schema(doc: dict, method: str, path_template: str) -> dict:
    operation = doc["paths"][path_template][method.lower()]
    return operation["requestBody"]["content"]["application/json"]["schema"]


def validate_request(doc: dict, method: str, path_template: str, body) -> None:
    schema = request_schema(doc, method, path_template)
    root = dict(doc, **schema)  # $refs like #/components/... resolve against the whole document
    jsonschema.Draft7Validator(root).validate(body)
