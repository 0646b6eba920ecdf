"""The served page's assets ship in the package and name no other server (no CDN, no web font, no analytics)."""

import importlib
import re
from pathlib import Path

import pytest

from suite.core import registry
from suite.serve import page
from suite.serve.listing import api_listing

# a scheme-qualified or protocol-relative address in HTML, CSS or JS: "https://x", "//cdn...", url(//x)
EXTERNAL = re.compile(r"\b(?:https?|wss?|ftp):/{2}|[\"'(=]\s*/{2}[\w.-]", re.IGNORECASE)


def shipped_assets() -> dict[str, str]:
    """Every file the page may send: suite/serve/static and each domain's form script."""
    files = {f"suite/serve/static/{p.name}": p.read_text(encoding="utf-8") for p in page.STATIC.iterdir()}
    for definition in registry.list_domains().values():
        if not isinstance(definition, registry.Serves):
            continue
        module = importlib.import_module(definition.serving_module)
        script = getattr(module, "PAGE_SCRIPT", None)
        if script:
            path = Path(module.__file__).with_name(script)
            files[str(path)] = path.read_text(encoding="utf-8")
    return files


def test_every_served_domain_ships_its_form_and_the_page_its_template_style_and_script():
    files = shipped_assets()
    assert {"suite/serve/static/page.html", "suite/serve/static/page.css", "suite/serve/static/page.js",
            "suite/serve/static/generic-form.js"} <= set(files)
    forms = [name for name in files if name.endswith("page.js") and "/static/" not in name]
    assert len(forms) >= 4, forms


@pytest.mark.parametrize("text, external", [("<img src='//cdn.example.org/x.png'>", True),
                                            ("fetch('https://example.org')", True),
                                            ("url(//fonts.example.org/a.woff)", True),
                                            ("// a comment\nfetch('predict')", False),
                                            ("<a href='docs'>docs</a>", False)])
def test_the_external_address_check_finds_what_it_should(text, external):
    assert bool(EXTERNAL.search(text)) is external


def test_no_shipped_asset_names_another_server():
    offending = {name: EXTERNAL.search(text).group(0) for name, text in shipped_assets().items()
                 if EXTERNAL.search(text)}
    assert not offending


def test_the_api_listing_escapes_and_links_nothing_outside():
    schema = {"info": {"title": "suite: <spam>", "description": "d"},
              "paths": {"/predict": {"post": {"summary": "Predict <b>", "responses": {"200": {"description": "ok"}},
                                              "requestBody": {"content": {"application/json": {"schema": {
                                                  "$ref": "#/components/schemas/R"}}}}}}},
              "components": {"schemas": {"R": {"properties": {"texts": {"type": "array", "items": {"type": "string"},
                                                                        "description": "Messages"}},
                                               "required": ["texts"]}}}}
    html = api_listing(schema, example={"texts": ["a</pre>"]})
    assert "suite: &lt;spam&gt;" in html and "Predict &lt;b&gt;" in html and "a&lt;/pre&gt;" in html
    assert "<code>texts</code></th><td>list of string</td><td>yes</td><td>Messages</td>" in html
    assert not EXTERNAL.search(html)
