"""The pages themselves: a small Flask app serving HTML templates and static files."""

from __future__ import annotations

import json
from functools import cache
from importlib import util
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from flask import Flask, Response, abort, redirect, render_template, request, send_from_directory

from ...basics.jsonhttp import error_response
from ...spec.paths import CONSOLE_PATH, DOCS_PATH, DOCUMENT_FILES

if TYPE_CHECKING:
    from ..host import PagesHost

HERE = Path(__file__).resolve().parent
SWAGGER_UI_FILES = frozenset(
    {"swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "swagger-ui.css", "favicon-32x32.png"}
)

# No inline script anywhere and nothing from another origin: a value that slipped past the
# pages' text-only rendering still could not run, load or send anything.
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
_PAGE_HEADERS = {
    "Content-Security-Policy": _CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


@cache
def swagger_ui_dir() -> Path:
    """Swagger UI's distribution files, shipped by the swagger-ui-py package (see README, "Web
    pages"). Found without importing the package, whose import loads its framework adapters."""
    package = util.find_spec("swagger_ui")
    if package is None or not package.submodule_search_locations:
        raise RuntimeError("the swagger-ui-py package is missing: pip install swagger-ui-py")
    return Path(list(package.submodule_search_locations)[0]) / "static"


def pages_app(server: PagesHost) -> Flask:
    app = Flask("runagents_mock.console", template_folder=str(HERE / "templates"), static_folder=None)

    @app.after_request
    def harden(response: Response) -> Response:
        for name, value in _PAGE_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    @app.errorhandler(404)
    def not_found(_exc: Exception) -> Response:
        return error_response(404, "no such page")

    @app.errorhandler(405)
    def not_allowed(_exc: Exception) -> Response:
        return error_response(405, "pages only answer GET")

    @app.get("/")
    def home() -> Response:
        return redirect(CONSOLE_PATH, code=302)

    @app.get(DOCS_PATH)
    def docs() -> str:
        # "short": the name ?doc= may use (runagents-v1), besides the title.
        urls = [
            {"name": doc.title, "url": f"{DOCS_PATH}/openapi/{doc.name}.json", "short": doc.name}
            for doc in server.documents
        ]
        return render_template("docs.html", urls=urls)

    @app.get(f"{DOCS_PATH}/openapi/<name>.json")
    def document(name: str) -> Response:
        served = next((doc for doc in server.documents if doc.name == name), None)
        if served is None:
            abort(404)
        # default=str: YAML reads unquoted dates in examples as dates, which JSON has not.
        return Response(json.dumps(for_this_mock(served.document()), default=str), mimetype="application/json")

    @app.get("/<stem>.yaml")
    @app.get("/<stem>.json")
    def document_file(stem: str) -> Response:
        """A served document at its conventional path: the YAML file as it is, or that document
        as JSON (its servers as written, unlike /docs/openapi/<name>.json)."""
        served = next((doc for doc in server.documents if DOCUMENT_FILES.get(doc.name) == stem), None)
        if served is None:
            abort(404)
        if request.path.endswith(".yaml"):
            return Response(served.path.read_bytes(), mimetype="application/yaml")
        return Response(json.dumps(served.document(), default=str), mimetype="application/json")

    @app.get(f"{DOCS_PATH}/ui/<name>")
    def swagger_asset(name: str) -> Response:
        if name not in SWAGGER_UI_FILES:
            abort(404)
        return send_from_directory(swagger_ui_dir(), name, max_age=3600)

    @app.get(f"{DOCS_PATH}/static/<name>")
    @app.get(f"{CONSOLE_PATH}/static/<name>")
    def own_asset(name: str) -> Response:
        return send_from_directory(HERE / "static", name, max_age=0)

    @app.get(CONSOLE_PATH)
    def console() -> str:
        return render_template("console.html", docs=[doc.title for doc in server.documents])

    return app


def for_this_mock(document: dict[str, Any]) -> dict[str, Any]:
    """The document with its servers pointed at this mock: each server's path on the origin the
    page came from, so "try it" calls this mock (whatever host and port it runs on)."""
    paths = []
    for server in document.get("servers") or [{"url": "/"}]:
        path = urlsplit(str(server.get("url", "/"))).path.rstrip("/") or "/"
        if path not in paths:
            paths.append(path)
    return {**document, "servers": [{"url": path, "description": "this mock"} for path in paths]}
