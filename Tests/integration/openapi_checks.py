"""Checks an answer against a response object of docs/openapi.yaml's `components/responses` with jsonschema
(OpenAPI 3.1 schemas are JSON Schema 2020-12): for the gateway's answers on paths the document does not list
(proxied paths, unknown `/auth/` paths), which openapi-core cannot look up by path."""
import json

from jsonschema import Draft202012Validator


def resolve(document, node):
    """Follows `$ref: "#/..."` to the object it names."""
    while "$ref" in node:
        reference = node["$ref"]
        assert reference.startswith("#/"), reference
        node = document
        for part in reference[2:].split("/"):
            node = node[part]
    return node


def schema_problems(document, schema, value) -> list[str]:
    # The whole document is the root resource, so a schema's `#/components/...` references resolve in it.
    validator = Draft202012Validator(document).evolve(schema=schema)
    return [error.message for error in validator.iter_errors(value)]


def _fields(headers) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    for field, value in headers:
        fields.setdefault(field.lower(), []).append(value)
    return fields


def headers_problems(document, described: dict, headers) -> list[str]:
    """What is wrong with an answer's [(name, value)...] as the header objects `described` ({field: object or
    `$ref`}) say: a required one missing, one repeated, a value its schema refuses."""
    fields = _fields(headers)
    problems = []
    for field, header in described.items():
        header = resolve(document, header)
        values = fields.get(field.lower(), [])
        if not values:
            if header.get("required"):
                problems.append(f"header {field} is missing")
            continue
        if len(values) > 1:
            problems.append(f"header {field} is repeated")
        value = values[0]
        if header["schema"].get("type") == "integer" and value.isdigit():
            value = int(value)
        problems += [f"header {field}: {p}" for p in schema_problems(document, header["schema"], value)]
    return problems


def component_response_problems(document, name, status, headers, body) -> list[str]:
    """What is wrong with an answer (status, [(name, value)...], body bytes) as the response `name`; [] when
    nothing. `status` is the caller's to check: a response object does not name one."""
    response = resolve(document, document["components"]["responses"][name])
    fields = _fields(headers)
    problems = headers_problems(document, response.get("headers", {}), headers)
    content = response.get("content", {})
    if not content:
        return problems + (["a body where none is described"] if body else [])
    content_type = (fields.get("content-type") or [""])[0].split(";")[0].strip()
    if content_type not in content:
        return problems + [f"content type {content_type!r} is not one of {sorted(content)}"]
    try:
        parsed = json.loads(body)
    except ValueError:
        return problems + ["the body is not JSON"]
    return problems + schema_problems(document, content[content_type]["schema"], parsed)
