"""The official OpenAPI documents (copied from shared/reference) and validation of requests and answers
against them.

``validate_request(doc, method, path, body)`` and ``validate_response(doc, method, path, status, body)``
raise ``jsonschema.ValidationError`` when a body does not match the document; ``undeclared_keys`` lists the
keys of an answer that the document neither declares nor shows in an example (a stand-in must not invent
fields the official read-back lacks).

The documents are loaded as JSON Schema with the generators' OpenAPI 3.0 habits mapped: ``nullable`` adds
null; ``oneOf`` is read as ``anyOf`` (``oneOf: [{}, {type: string}]``, emitted for dates, is satisfiable by
no string at all under strict one-of rules); boolean ``exclusiveMinimum``/``exclusiveMaximum`` (draft 4) are
turned into draft 7 numbers; JavaScript regex literals (``/^...$/``) lose their slashes. ``$ref``s resolve
against the whole document.
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
STRIPE = HERE / "stripe-openapi-subset.json"
#: A list item in a key path.
ITEM = "[]"


@functools.cache
def load(path: Path) -> dict:
    text = path.read_text()
    return _normalise(yaml.safe_load(text) if path.suffix == ".yaml" else json.loads(text))


def _normalise(node):
    if isinstance(node, list):
        return [_normalise(v) for v in node]
    if not isinstance(node, dict):
        return node
    node = {k: _normalise(v) for k, v in node.items()}
    if "oneOf" in node:
        node["anyOf"] = node.pop("oneOf")
    for key, bound in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if isinstance(node.get(key), bool):
            if node.pop(key) and bound in node:
                node[key] = node.pop(bound)
    pattern = node.get("pattern")
    if isinstance(pattern, str) and len(pattern) > 1 and pattern.startswith("/") and pattern.endswith("/"):
        node["pattern"] = pattern[1:-1]
    if node.pop("nullable", False):
        if "enum" in node:
            node["enum"] = list(node["enum"]) + [None]
        if isinstance(node.get("type"), str):
            node["type"] = [node["type"], "null"]
        elif "anyOf" in node:
            node["anyOf"] = list(node["anyOf"]) + [{"type": "null"}]
        elif "allOf" in node:
            node = {"anyOf": [node, {"type": "null"}]}
    return node


def operation(doc: dict, method: str, path: str) -> dict:
    return doc["paths"][path][method.lower()]


def request_schema(doc: dict, method: str, path: str) -> dict:
    """The JSON schema of the request body; a multipart body has the same fields (see ``clients`` docs)."""
    content = operation(doc, method, path)["requestBody"]["content"]
    return (content.get("application/json") or content["multipart/form-data"])["schema"]


def response_content(doc: dict, method: str, path: str, status: int) -> dict | None:
    """The documented ``application/json`` content of the answer ``status`` ({} when the document gives the
    status without a body), or None when the document does not describe that status (nor a ``default``
    answer, which covers every status it does not list: Stripe's errors)."""
    responses = operation(doc, method, path)["responses"]
    answer = responses.get(str(status), responses.get("default"))
    if answer is None:
        return None
    return (answer.get("content") or {}).get("application/json") or {}


def _validate(doc: dict, schema: dict, body) -> None:
    root = dict(doc, **schema)  # $refs like #/components/... resolve against the whole document
    jsonschema.Draft7Validator(root).validate(body)


def validate_request(doc: dict, method: str, path: str, body) -> None:
    _validate(doc, request_schema(doc, method, path), body)


def validate_response(doc: dict, method: str, path: str, status: int, body) -> None:
    """Raise when ``body`` is not what the document promises for ``status`` (nothing to check when the
    document does not describe the status)."""
    content = response_content(doc, method, path, status)
    if content is None:
        return
    schema = content.get("schema")
    if schema is None:
        if body not in (None, ""):
            raise jsonschema.ValidationError(f"{method} {path} {status}: the document gives no body, got {body!r}")
        return
    _validate(doc, schema, body)


# --- keys the official read-back has --------------------------------------------------------------------


def _resolve(doc: dict, schema: dict) -> dict:
    while isinstance(schema, dict) and "$ref" in schema:
        node = doc
        for part in schema["$ref"].lstrip("#/").split("/"):
            node = node[part]
        schema = node
    return schema


def _schema_paths(doc: dict, schema, prefix: tuple, out: dict, depth: int = 0) -> None:
    """Fill ``out`` with key path -> "key" (declared), "optional" (declared, but required nowhere), "map"
    (any key below, values typed by the schema) or "free" (an object of any keys: they must come from the
    examples)."""
    schema = _resolve(doc, schema)
    if not isinstance(schema, dict) or depth > 40:
        return
    for combined in ("anyOf", "allOf"):
        for branch in schema.get(combined) or ():
            _schema_paths(doc, branch, prefix, out, depth + 1)
    if "items" in schema:
        _schema_paths(doc, schema["items"], prefix + (ITEM,), out, depth + 1)
    required = set(schema.get("required") or ())
    for key, child in (schema.get("properties") or {}).items():
        status = "key" if key in required or "required" not in schema else "optional"
        if out.get(prefix + (key,)) in (None, "optional"):  # required anywhere: required
            out[prefix + (key,)] = status
        _schema_paths(doc, child, prefix + (key,), out, depth + 1)
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict) and extra:
        out[prefix + ("*",)] = "map"
    elif (extra == {} or extra is True) and not schema.get("properties"):
        out.setdefault(prefix + ("*",), "free")


def _instance_paths(value, prefix: tuple = ()):
    """Every key path of a JSON value (list items as ITEM)."""
    if isinstance(value, dict):
        for key, child in value.items():
            yield prefix + (key,)
            yield from _instance_paths(child, prefix + (key,))
    elif isinstance(value, list):
        for child in value:
            yield from _instance_paths(child, prefix + (ITEM,))


@functools.cache
def _known(path: Path, method: str, api_path: str, status: int) -> tuple[dict, frozenset]:
    doc = load(path)
    content = response_content(doc, method, api_path, status) or {}
    declared: dict = {}
    _schema_paths(doc, content.get("schema") or {}, (), declared)
    examples = frozenset(
        key_path
        for example in (content.get("examples") or {}).values()
        for key_path in _instance_paths(example.get("value"))
    )
    return declared, examples


def undeclared_keys(path: Path, method: str, api_path: str, status: int, body, opaque=frozenset()) -> list[str]:
    """Keys of ``body`` that the document neither declares (schema properties, or keys of a typed map) nor
    shows in an example of this answer. ``opaque``: key paths whose value is free by design (not checked)."""
    declared, examples = _known(path, method, api_path, status)
    found = []
    for key_path in _instance_paths(body):
        if any(key_path[: len(p)] == p and len(key_path) > len(p) for p in opaque):
            continue
        if key_path in examples or declared.get(key_path) in ("key", "optional"):
            continue
        parent = key_path[:-1] + ("*",)
        if declared.get(parent) == "map":
            continue
        found.append(".".join(key_path))
    return found


def optional_keys(path: Path, method: str, api_path: str, status: int, body) -> list[str]:
    """Keys of ``body`` the document declares but never requires: a stand-in leaves them out (the least
    convenient legal answer), so a client that needs one finds out here, not in production."""
    declared, _ = _known(path, method, api_path, status)
    return [".".join(p) for p in _instance_paths(body) if declared.get(p) == "optional"]
