"""``GET /docs``: the API as a plain HTML listing made from the OpenAPI schema, with nothing loaded from elsewhere.

FastAPI's own ``/docs`` page loads Swagger UI from a CDN and is blank offline; this listing says the same
things a reader looks for (each route, what it takes, what it answers, an example request) in one page.
"""

from __future__ import annotations

import html
import json
from typing import Any

METHODS = ("get", "post", "put", "delete", "patch")


def api_listing(schema: dict, *, example: dict | None = None) -> str:
    """The listing of an OpenAPI ``schema`` (what ``app.openapi()`` returns) as one HTML page.

    Args:
        schema: the OpenAPI document.
        example: a valid ``/predict`` request body, shown under that route.
    """
    components = (schema.get("components") or {}).get("schemas") or {}
    info = schema.get("info") or {}
    parts = [f"<h1>{_e(info.get('title', 'API'))}</h1>", f"<p>{_e(info.get('description', ''))}</p>",
             "<p>The full schema: <a href='openapi.json'>openapi.json</a>. The page to try the model: "
             "<a href='./'>/</a>.</p>"]
    for path, item in (schema.get("paths") or {}).items():
        for method in METHODS:
            if method in item:
                parts.append(_operation(method, path, item[method], components,
                                        example if (method, path) == ("post", "/predict") else None))
    return ("<!doctype html><html lang='en'><head><meta charset='utf-8'><meta name='viewport' "
            "content='width=device-width, initial-scale=1'><title>API: " + _e(info.get("title", "")) + "</title>"
            "<link rel='stylesheet' href='static/page.css'></head><body><main class='listing'>"
            + "\n".join(parts) + "</main></body></html>")


def _operation(method: str, path: str, operation: dict, components: dict, example: dict | None) -> str:
    out = [f"<section><h2><code>{method.upper()} {_e(path)}</code></h2>",
           f"<p>{_e(operation.get('summary', ''))}</p>"]
    if operation.get("description"):
        out.append(f"<p>{_e(operation['description'])}</p>")
    params = operation.get("parameters") or []
    if params:
        out.append("<h3>Query</h3>" + _fields({p["name"]: {**p.get("schema", {}), "description": p.get("description")}
                                                for p in params}, {p["name"] for p in params if p.get("required")},
                                               components))
    body = ((operation.get("requestBody") or {}).get("content") or {}).get("application/json", {}).get("schema")
    if body:
        target = _resolve(body, components)
        out.append("<h3>Request body</h3>" + _fields(target.get("properties") or {}, set(target.get("required") or ()),
                                                      components))
    if example is not None:
        out.append(f"<h3>Example</h3><pre>{_e(json.dumps(example, indent=2, ensure_ascii=False))}</pre>")
    answers = operation.get("responses") or {}
    out.append("<h3>Answers</h3><ul>" + "".join(f"<li><b>{_e(code)}</b> {_e(r.get('description', ''))}</li>"
                                               for code, r in answers.items()) + "</ul></section>")
    return "".join(out)


def _fields(properties: dict, required: set, components: dict) -> str:
    rows = "".join(f"<tr><th scope='row'><code>{_e(name)}</code></th><td>{_e(_type(prop, components))}</td>"
                   f"<td>{'yes' if name in required else 'no'}</td><td>{_e(prop.get('description', ''))}</td></tr>"
                   for name, prop in properties.items())
    return ("<table><thead><tr><th scope='col'>field</th><th scope='col'>type</th><th scope='col'>required</th>"
            f"<th scope='col'>what</th></tr></thead><tbody>{rows}</tbody></table>")


def _type(prop: dict, components: dict) -> str:
    if "$ref" in prop:
        return prop["$ref"].rsplit("/", 1)[-1]
    if "anyOf" in prop:
        return " or ".join(_type(p, components) for p in prop["anyOf"])
    if prop.get("type") == "array":
        return f"list of {_type(prop.get('items') or {}, components)}"
    return str(prop.get("type", "any"))


def _resolve(schema: dict, components: dict) -> dict:
    while "$ref" in schema:
        schema = components.get(schema["$ref"].rsplit("/", 1)[-1], {})
    return schema


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)
