"""GitHub's official REST description (pinned @octokit/openapi): route matching, request checks."""

from __future__ import annotations

import copy
import json
import re
import threading
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import jsonschema

SPEC_FILE = (
    Path(__file__).resolve().parents[1]
    / "github-spec/node_modules/@octokit/openapi/generated/api.github.com.json"
)
API_VERSION = "2022-11-28"
METHODS = ("get", "post", "put", "patch", "delete")

# Parameters GitHub lets span several segments when they end a path (`contents/{path}`,
# `git/ref/{ref}` with `heads/main`, `readme/{dir}`, `branches/{branch}` with `feature/x`).
_MULTI_SEGMENT = {"path", "ref", "dir", "basehead", "branch"}
# OpenAPI 3.0 annotations that mean nothing to a JSON Schema validator; dropping them keeps
# compiled schemas small.
_ANNOTATIONS = {"description", "example", "examples", "title", "discriminator", "readOnly",
                "writeOnly", "deprecated", "externalDocs", "xml"}


@dataclass(frozen=True)
class Parameter:
    """One path or query parameter, its schema already JSON-Schema-ready."""

    name: str
    location: str
    required: bool
    schema: dict

    def coerce(self, raw: str) -> Any:
        """The typed value of a raw string, as GitHub would read it (`"5"` → 5 for integers)."""
        types = _types(self.schema)
        if "integer" in types and re.fullmatch(r"-?\d+", raw):
            return int(raw)
        if "number" in types and re.fullmatch(r"-?\d+(\.\d+)?", raw):
            return float(raw)
        if "boolean" in types and raw in ("true", "false"):
            return raw == "true"
        return raw


@dataclass
class Operation:
    """One documented operation: a method on a path template."""

    spec: Spec = field(repr=False)
    method: str
    template: str
    raw: dict = field(repr=False)
    _response_validators: dict = field(default_factory=dict, repr=False)

    @cached_property
    def parameters(self) -> dict[str, Parameter]:
        """Its path and query parameters by name (headers and cookies are not checked here)."""
        params = {}
        for p in self.raw.get("parameters", []):
            p = self.spec.resolve(p)
            if p["in"] in ("path", "query"):
                params[p["name"]] = Parameter(p["name"], p["in"], p.get("required", False),
                                              self.spec.schema(p.get("schema", {})))
        return params

    @cached_property
    def body_schema(self) -> dict | None:
        """The JSON request body's schema; None when the operation takes no JSON body."""
        content = self.spec.resolve(self.raw.get("requestBody", {})).get("content", {})
        if "application/json" not in content:
            return None
        return self.spec.schema(content["application/json"].get("schema", {}))

    @cached_property
    def _body_validator(self):
        return jsonschema.Draft202012Validator(self.body_schema or {})

    def response_validator(self, status: int):
        """A validator for the documented JSON body of `status`; None when undocumented."""
        cache = self._response_validators
        if status not in cache:
            response = self.raw.get("responses", {}).get(str(status))
            content = self.spec.resolve(response or {}).get("content", {})
            schema = content.get("application/json", {}).get("schema")
            cache[status] = (None if response is None else
                             jsonschema.Draft202012Validator(self.spec.schema(schema or {})))
        return cache[status]

    def validate_body(self, body: bytes | None) -> list[str]:
        """Problems with a request body: missing, not JSON, unexpected, or failing the schema."""
        has_body = bool(body and body.strip())
        if "requestBody" not in self.raw:
            return ["this operation takes no request body"] if has_body else []
        if self.body_schema is None:  # text/plain or octet-stream uploads: nothing to check
            return []
        if not has_body:
            required = self.spec.resolve(self.raw["requestBody"]).get("required", False)
            return ["the request body is required"] if required else []
        try:
            document = json.loads(body)
        except ValueError as exc:
            return [f"the request body is not JSON ({exc})"]
        return [f"request body {e.json_path}: {e.message}"
                for e in self._body_validator.iter_errors(document)]


class Spec:
    """The REST description, with path templates compiled for matching."""

    def __init__(self, document: dict):
        self.document = document
        self._operations: dict[tuple[str, str], Operation] = {}
        self._schemas: dict[str, dict] = {}
        # Per method, templates best-first: more literal segments, then single-segment params.
        self._templates: dict[str, list[tuple[re.Pattern, str, list[str]]]] = {
            m.upper(): [] for m in METHODS}
        ranked = []
        for template, item in document["paths"].items():
            for regex, rank in _compile(template):
                ranked.append((rank, regex, template, [m.upper() for m in item if m in METHODS]))
        for _, regex, template, methods in sorted(ranked, key=lambda r: r[0], reverse=True):
            names = re.findall(r"\{([^}]+)\}", template)
            for method in methods:
                self._templates[method].append((regex, template, names))

    def operation(self, method: str, path: str) -> Operation | None:
        """The operation a concrete path (no query string) calls, or None."""
        found = self.match(method, path)
        return found[0] if found else None

    def match(self, method: str, path: str) -> tuple[Operation, dict[str, str]] | None:
        """The operation and the (percent-decoded) path parameters of a concrete path."""
        for regex, template, names in self._templates.get(method.upper(), []):
            m = regex.fullmatch(path)
            if m:
                params = {k: unquote(v) for k, v in zip(names, m.groups())}
                return self._operation(method.upper(), template), params
        return None

    def has_route(self, method: str, template: str) -> bool:
        """Whether GitHub documents `method` on exactly this path template."""
        return method.lower() in self.document["paths"].get(template, {})

    def _operation(self, method: str, template: str) -> Operation:
        key = (method, template)
        if key not in self._operations:
            raw = self.document["paths"][template][method.lower()]
            self._operations[key] = Operation(self, method, template, raw)
        return self._operations[key]

    def validate_request(self, method: str, path: str, query: dict[str, list[str]],
                         headers: dict, body: bytes | None) -> list[str]:
        """Human-readable reasons GitHub would refuse (or misread) this request; [] when valid."""
        problems = _header_problems({k.lower(): v for k, v in headers.items()})
        found = self.match(method, path)
        if not found:
            return [f"no GitHub REST operation {method.upper()} {path}", *problems]
        op, path_params = found
        for name, raw in path_params.items():
            if name in op.parameters:
                problems += _value_problems(op.parameters[name], raw)
        for param in op.parameters.values():
            if param.location != "query":
                continue
            values = query.get(param.name) or query.get(param.name + "[]")
            if not values:
                if param.required:
                    problems.append(f"missing required query parameter {param.name!r}")
                continue
            is_array = _types(param.schema) == {"array"}
            problems += _value_problems(param, values if is_array else values[-1])
        for name in query:
            if name.removesuffix("[]") not in op.parameters:
                problems.append(f"unknown query parameter {name!r} for {op.method} {op.template}")
        return problems + op.validate_body(body)

    def validate_response(self, method: str, path: str, status: int, body: Any) -> list[str]:
        """Where a successful JSON answer differs from its documented schema (checks the fake)."""
        op = self.operation(method, path)
        if op is None or not 200 <= status < 300:
            return []
        validator = op.response_validator(status)
        if validator is None:
            return [f"{status} is not a documented answer of {op.method} {op.template}"]
        return [f"response {e.json_path}: {e.message}" for e in validator.iter_errors(body)]

    def example(self, name: str) -> Any:
        """A deep copy of `components.examples[name].value`, e.g. "integration"."""
        return copy.deepcopy(self.document["components"]["examples"][name]["value"])

    def resolve(self, node: Any) -> Any:
        """Follow a local `$ref` ("#/components/…") to what it names."""
        while isinstance(node, dict) and "$ref" in node:
            node = self._pointer(node["$ref"])
        return node

    def _pointer(self, ref: str) -> Any:
        node = self.document
        for part in ref.removeprefix("#/").split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def schema(self, schema: Any) -> Any:
        """An OpenAPI 3.0 schema as plain JSON Schema: refs inlined, `nullable` as a null type."""
        return self._convert(schema, ())

    def _convert(self, node: Any, expanding: tuple[str, ...]) -> Any:
        if isinstance(node, list):
            return [self._convert(n, expanding) for n in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            ref = node["$ref"]
            if ref in expanding:  # a recursive schema: accept anything below the loop
                return {}
            if ref not in self._schemas:
                self._schemas[ref] = self._convert(self._pointer(ref), (*expanding, ref))
            return self._schemas[ref]
        out = {}
        for key, value in node.items():
            if key in _ANNOTATIONS or key.startswith("x-") or key == "nullable":
                continue
            if key in ("properties", "patternProperties"):
                out[key] = {k: self._convert(v, expanding) for k, v in value.items()}
            elif key == "oneOf":
                # GitHub's oneOf branches often overlap (an object matches two of them), which
                # would fail valid data under strict oneOf semantics.
                out["anyOf"] = self._convert(value, expanding)
            else:
                out[key] = self._convert(value, expanding)
        if node.get("nullable"):
            if "type" in out:
                out["type"] = [out["type"], "null"]
                if "enum" in out:
                    out["enum"] = [*out["enum"], None]
            else:
                out = {"anyOf": [out, {"type": "null"}]}
        return out


def _compile(template: str) -> list[tuple[re.Pattern, tuple]]:
    """Regexes for a template with their rank; a trailing multi-segment param gets a second,
    lower-ranked regex so `contents/{path}` also matches `contents/a/b.txt`."""
    segments = template.strip("/").split("/")
    literals = sum("{" not in s for s in segments)
    literal_chars = len(re.sub(r"\{[^}]+\}", "", template))

    def regex(greedy_last: bool) -> re.Pattern:
        # Unnamed groups: some parameter names (`enterprise-team`) are not valid group names.
        parts = []
        for i, segment in enumerate(segments):
            param = ".+" if greedy_last and i == len(segments) - 1 else "[^/]+?"
            pieces = re.split(r"(\{[^}]+\})", segment)
            parts.append("".join(f"({param})" if p.startswith("{") else re.escape(p)
                                 for p in pieces))
        return re.compile("/" + "/".join(parts))

    compiled = [(regex(False), (literals, 1, literal_chars))]
    last = re.fullmatch(r"\{([^}]+)\}", segments[-1])
    if last and last.group(1) in _MULTI_SEGMENT:
        compiled.append((regex(True), (literals, 0, literal_chars)))
    return compiled


def _header_problems(headers: dict[str, str]) -> list[str]:
    """What GitHub's docs require of every request: its media type, API version, a User-Agent."""
    problems = []
    accept = headers.get("accept", "")
    if "application/vnd.github" not in accept and "application/json" not in accept:
        problems.append(f"Accept is {accept!r}, not application/vnd.github+json")
    if headers.get("x-github-api-version") != API_VERSION:
        problems.append(f"X-GitHub-Api-Version is {headers.get('x-github-api-version')!r}, "
                        f"not {API_VERSION!r}")
    if not headers.get("user-agent"):
        problems.append("no User-Agent header (GitHub refuses requests without one)")
    return problems


def _value_problems(param: Parameter, raw: str | list[str]) -> list[str]:
    """Why a parameter's raw value(s), read as GitHub reads them, fail its schema."""
    if isinstance(raw, list):
        items = param.schema.get("items", {})
        value = [Parameter(param.name, param.location, False, items).coerce(r) for r in raw]
    else:
        value = param.coerce(raw)
    return [f"{param.location} parameter {param.name!r}: {e.message}"
            for e in jsonschema.Draft202012Validator(param.schema).iter_errors(value)]


def _types(schema: dict) -> set[str]:
    """Every JSON type a schema (or its anyOf branches) allows."""
    declared = schema.get("type", [])
    types = set([declared] if isinstance(declared, str) else declared)
    for branch in schema.get("anyOf", []):
        types |= _types(branch)
    return types


_spec: Spec | None = None
_lock = threading.Lock()


def spec() -> Spec:
    """The process-wide spec, loaded on first use (~0.1 s: stdlib json reads 13 MB quickly)."""
    global _spec
    with _lock:
        if _spec is None:
            _spec = Spec(json.loads(SPEC_FILE.read_bytes()))
    return _spec
