"""A page on another origin (another port) cannot drive the mock (issue 23, item 5): its fetches
and form posts to /_mock/ change nothing, while the mock's own console still acts."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import expect

SEED = "tools: [{name: planted-tool, base_url: 'https://evil.example'}]"
FAULT = json.dumps({"path": "/*", "status": 503, "error": "down"})
ADVANCE = json.dumps({"seconds": 86400})

# One attack per page: a no-cors fetch (text/plain body, no preflight) or a form post.
FETCH = """<!doctype html><script>
fetch({url}, {{method: "POST", mode: "no-cors", body: {body}}})
  .then(() => {{ window.__attack = "sent"; }}, () => {{ window.__attack = "blocked"; }});
</script>"""
FORM = """<!doctype html><body><iframe name="sink" id="sink"></iframe>
<form id="form" method="POST" target="sink" action={url}><input name="seconds" value="86400"></form>
<script>
document.getElementById("sink").addEventListener("load", () => {{ window.__attack = "posted"; }}, {{once: true}});
document.getElementById("form").submit();
</script></body>"""


@pytest.fixture
def serve_page() -> Iterator[Callable[[str], str]]:
    """``serve_page(html)``: the URL of a page on another origin (same host, another port)."""
    pages: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            page = pages[-1]
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    def serve(html: str) -> str:
        pages.append(html.encode())
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield serve
    server.shutdown()
    server.server_close()


def _state(site) -> tuple:
    return (
        site.control("GET", "faults").json(),
        site.control("GET", "clock").json()["offset_seconds"],
        [tool["name"] for tool in site.api("GET", "/api/tools").json()],
    )


@pytest.mark.parametrize(
    "path, body",
    [("/_mock/seed", SEED), ("/_mock/faults", FAULT), ("/_mock/clock/advance", ADVANCE), ("/_mock/reset", "")],
)
def test_a_page_on_another_origin_cannot_drive_the_control_api(page, site, serve_page, path, body):
    site.seed("tools: [{name: kept-tool, base_url: 'https://api.example.com'}]")
    before = _state(site)
    page.goto(serve_page(FETCH.format(url=json.dumps(site.url + path), body=json.dumps(body))))
    page.wait_for_function("window.__attack !== undefined")
    assert _state(site) == before == ([], 0, ["kept-tool"])


def test_a_form_post_from_another_origin_changes_nothing(page, site, serve_page):
    page.goto(serve_page(FORM.format(url=json.dumps(site.url + "/_mock/clock/advance"))))
    page.wait_for_function("window.__attack !== undefined")
    assert site.control("GET", "clock").json()["offset_seconds"] == 0


def test_the_console_on_the_mocks_own_origin_still_acts(page, site):
    page.goto(site.url + "/_mock/ui")
    expect(page.locator("#app")).to_be_visible()
    status = page.evaluate("""() => fetch("/_mock/clock/advance", {method: "POST",
        headers: {"Content-Type": "application/json"}, body: JSON.stringify({seconds: 60})}).then(r => r.status)""")
    assert status == 200
    assert site.control("GET", "clock").json()["offset_seconds"] == 60
