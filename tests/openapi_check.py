"""Every answer of the JSON API checked against docs/openapi.yaml (JSON Schema 2020-12, as OpenAPI 3.1 is).

`conforms(response, method, path)` finds the operation the document gives for the request, the
response it lists for the status, and fails unless the answer is that one: its required headers,
its content type, and a body valid against its schema (or no body where it has none).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

DOCUMENT = Path(__file__).resolve().parents[1] / "docs" / "openapi.yaml"
URI = "urn:session-bot:openapi"


@cache
def spec() -> dict:
    """The OpenAPI document."""
    return yaml.safe_load(DOCUMENT.read_text())


@cache
def _registry() -> Registry:
    return Registry().with_resource(URI, Resource.from_contents(spec(), default_specification=DRAFT202012))


def _pointer(*parts: str) -> str:
    return "/".join(part.replace("~", "~0").replace("/", "~1") for part in parts)


def _follow(node: dict) -> tuple[dict, str | None]:
    """A `$ref`'d object of the document and its pointer (one level: responses, headers, parameters)."""
    ref = node.get("$ref")
    if ref is None:
        return node, None
    found = spec()
    for part in ref.removeprefix("#/").split("/"):
        found = found[part.replace("~1", "/").replace("~0", "~")]
    return found, ref.removeprefix("#")


def operation(method: str, path: str) -> tuple[str, dict]:
    """The document's path template matching `path` (no query) and its operation for `method`."""
    for template, item in spec()["paths"].items():
        pattern, actual = template.strip("/").split("/"), path.strip("/").split("/")
        if len(pattern) == len(actual) and all(p.startswith("{") or p == a for p, a in zip(pattern, actual)):
            assert method.lower() in item, f"{method} {template} is not in docs/openapi.yaml"
            return template, item[method.lower()]
    raise AssertionError(f"{path} is not in docs/openapi.yaml")


def conforms(response, method: str, path: str) -> None:
    """Fail unless `response` (a Flask test response) is an answer the document gives to `method path`."""
    template, found = operation(method, path.split("?", 1)[0])
    status = str(response.status_code)
    assert status in found["responses"], f"{method} {template} answered {status}, not in docs/openapi.yaml"
    described, pointer = _follow(found["responses"][status])
    if pointer is None:
        pointer = "/" + _pointer("paths", template, method.lower(), "responses", status)
    for name, header in described.get("headers", {}).items():
        header, _ = _follow(header)
        if header.get("required"):
            assert name in response.headers, f"{method} {template} {status} lacks its {name} header"
        if name in response.headers:
            _valid(response.headers[name], header["schema"], f"{method} {template} {status} header {name}")
    content = described.get("content")
    if not content:
        assert response.data == b"", f"{method} {template} {status} has a body the document does not give"
        return
    assert response.mimetype in content, f"{method} {template} {status} is {response.mimetype}"
    schema = {"$ref": f"{URI}#{pointer}/{_pointer('content', response.mimetype, 'schema')}"}
    _valid(json.loads(response.data), schema, f"{method} {template} {status}")


def _valid(instance, schema: dict, what: str) -> None:
    errors = sorted(Draft202012Validator(schema, registry=_registry()).iter_errors(instance), key=str)
    assert not errors, f"{what} does not conform to docs/openapi.yaml: " + "; ".join(
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:5])
