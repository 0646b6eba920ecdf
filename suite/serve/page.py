"""The page ``suite serve`` answers at ``GET /``: the run's card and a form to try the model, with no request
leaving the server.

Every asset ships in the package: the page's template, style and shared script in ``suite/serve/static/``,
and each domain's form in a script beside its serving module (the module names it as ``PAGE_SCRIPT``; a
domain without one gets a form for its JSON request). The form calls the same JSON API as any client
(``/predict``, and ``/inputs``, ``/output``, ``/suggest`` where the domain has them), so what the page shows
is what the API answers, errors included: the one line of ``{"detail": ...}``.

Routes added here: ``/`` (the page), ``/static/<file>`` (its assets; ``form.js`` is the domain's form),
``/plots/<file>.png`` (the run's plots), ``/docs`` (a plain listing of the API, in place of FastAPI's page,
which loads its script from a CDN), ``/suggest`` (values for a form field, where the domain offers them)
and the file routes of :mod:`suite.serve.files`.
"""

from __future__ import annotations

import html
import importlib.resources
import json
import string
from collections.abc import Callable
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException, Query
from fastapi.responses import FileResponse, HTMLResponse, Response
from pydantic import BaseModel, Field

from suite.core import registry
from suite.core.errors import DataError
from suite.core.runs import Run
from suite.serve.card import run_card
from suite.serve.files import add_file_routes
from suite.serve.listing import api_listing

STATIC = Path(__file__).with_name("static")
ASSETS = {"page.css": "text/css; charset=utf-8", "page.js": "text/javascript; charset=utf-8"}
GENERIC_FORM = "generic-form.js"
MAX_SUGGESTIONS = 50


class Suggestion(BaseModel):
    value: str = Field(description="What the field takes (a user id, an item id).")
    label: str = Field(description="What a person reads (an item's title).")


def add_page_routes(app: FastAPI, *, run: Run, system: str, spec: Any, predictor: Callable[[], Any],
                    executor: Executor, max_body_bytes: int) -> None:
    """Add the page and the routes it needs to ``app`` (see the module docstring).

    Args:
        run: the served run (opened, complete); its files are only read.
        system: the system served (``tuned`` or ``hybrid``).
        spec: the domain's serving module.
        predictor: returns the loaded predictor (raises the 503 of ``/predict`` while it loads).
        executor: the predictor's one worker thread.
        max_body_bytes: the server's body limit, shown on the page.
    """
    card = run_card(run, system)
    domain = registry.get_domain(card["domain"])
    page = render_page(card, spec=spec, domain=domain, max_body_bytes=max_body_bytes)
    form_script = _form_script(spec)
    plots = {name: run.plots_dir / name for name in card["plots"]}

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def index() -> HTMLResponse:
        return HTMLResponse(page)

    @app.get("/static/{name}", include_in_schema=False)
    async def asset(name: str) -> Response:
        if name == "form.js":
            return Response(form_script, media_type="text/javascript; charset=utf-8")
        if name not in ASSETS:
            raise HTTPException(404, detail=f"no asset '{name}'")
        return Response((STATIC / name).read_bytes(), media_type=ASSETS[name])

    @app.get("/plots/{name}", include_in_schema=False)
    async def plot(name: str) -> FileResponse:
        if name not in plots:
            raise HTTPException(404, detail=f"the run has no plot '{name}'")
        return FileResponse(plots[name], media_type="image/png")

    @app.get("/docs", response_class=HTMLResponse, include_in_schema=False)
    async def docs() -> HTMLResponse:
        return HTMLResponse(api_listing(app.openapi(), example=spec.example_request()))

    add_file_routes(app, spec=spec, domain=domain, model_dir=run.model_dir, predictor=predictor, executor=executor)
    if callable(getattr(spec, "suggest", None)):
        _add_suggest_route(app, spec, predictor)


def _add_suggest_route(app: FastAPI, spec: Any, predictor: Callable[[], Any]) -> None:
    fields = tuple(getattr(spec, "SUGGEST_FIELDS", ()))

    @app.get("/suggest", response_model=list[Suggestion])
    async def suggest(field: str = Query(description=f"one of {', '.join(fields)}"),
                      q: str = Query("", max_length=200, description="what has been typed so far"),
                      limit: int = Query(20, ge=1, le=MAX_SUGGESTIONS)) -> list[dict]:
        """Values for a form field that start with or contain ``q`` (known users, catalogue titles)."""
        if field not in fields:
            raise DataError(f"field '{field[:40]}': expected one of {', '.join(fields)}")
        return spec.suggest(predictor(), field, q.strip(), limit)


def render_page(card: dict, *, spec: Any, domain: Any, max_body_bytes: int) -> str:
    """The page's HTML: the template with the run's card filled in, and the data the form scripts read."""
    data = {"card": card, "example_request": spec.example_request(), "max_body_bytes": max_body_bytes,
            "input_file_suffixes": list(getattr(spec, "INPUT_FILE_SUFFIXES", ())),
            "output_suffixes": list(getattr(domain, "output_suffixes", ()))}
    template = string.Template((STATIC / "page.html").read_text(encoding="utf-8"))
    title = f"{card['domain']} · {card['run']}"
    return template.substitute(title=_e(title), heading=_e(title), description=_e(domain.description),
                               card=card_html(card), data=json.dumps(data).replace("<", "\\u003c"))


def card_html(card: dict) -> str:
    """The card as HTML (every value escaped)."""
    facts = [("domain", card["domain"]), ("recipe", card["recipe"]), ("trained", card["created"]),
             ("model source", card["source"]), ("system served", card["system"])]
    parts = ["<dl class='facts'>", *(f"<dt>{_e(k)}</dt><dd>{_e(v if v is not None else '–')}</dd>" for k, v in facts),
             "</dl>"]
    if card["table"]:
        parts.append(_table_html(card))
    if card["operating_points"]:
        parts += ["<h3>Operating point</h3><ul class='points'>",
                  *(f"<li><b>{_e(p['where'])}</b>: {_e(p['describe'] or _fallback(p))}</li>"
                    for p in card["operating_points"]), "</ul>"]
    if card["plots"]:
        parts += ["<h3>Plots</h3><div class='plots'>",
                  *(f"<figure><a href='plots/{_e(name)}'><img src='plots/{_e(name)}' alt='{_e(_caption(name))}' "
                    f"loading='lazy'></a><figcaption>{_e(_caption(name))}</figcaption></figure>"
                    for name in card["plots"]), "</div>"]
    return "\n".join(parts)


def _table_html(card: dict) -> str:
    header, *rows = card["table"]
    roles = card["roles"]
    head = "<th scope='col'>role</th>" + "".join(f"<th scope='col'>{_e(c)}</th>" for c in header)
    body = []
    for row in rows:
        served = " class='served'" if row[0] == card["system"] else ""
        cells = "".join(f"<td>{_e(c)}</td>" for c in row[1:])
        body.append(f"<tr{served}><td>{_e(roles.get(row[0], ''))}</td><th scope='row'>{_e(row[0])}</th>{cells}</tr>")
    return (f"<h3>Test split, every system (primary metric: {_e(card['primary_metric'])})</h3>"
            f"<div class='scroll'><table class='numbers'><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table></div>")


def _fallback(point: dict) -> str:
    return ", ".join(f"{k} {v:.4g}" for k, v in point.items() if isinstance(v, float))


def _caption(name: str) -> str:
    return Path(name).stem.replace("_", " ")


def _form_script(spec: Any) -> bytes:
    name = getattr(spec, "PAGE_SCRIPT", None)
    if name is None:
        return (STATIC / GENERIC_FORM).read_bytes()
    package = spec.__name__.rpartition(".")[0]
    return importlib.resources.files(package).joinpath(name).read_bytes()


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)
