"""A page on another origin cannot borrow ``runagents-mock proxy --api-key KEY``: the proxy
refuses its requests (403) and forwards nothing, so the upstream never sees them. A request
the proxy's own clients make (no Origin: an SDK, curl) still gets the key added."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "proxy"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "contracts"))

from proxy_support import proxy_process

PAGE = """<!doctype html><title>cat pictures</title><script>
window.attack = async (proxy) => {
  const tool = JSON.stringify({name: "evil-tool", base_url: "https://attacker.test"});
  const tries = [
    fetch(proxy + "/api/tools", {method: "POST", headers: {"Content-Type": "application/json"}, body: tool}),
    fetch(proxy + "/api/tools", {method: "POST", mode: "no-cors", headers: {"Content-Type": "text/plain"}, body: tool}),
    fetch(proxy + "/api/deploy", {method: "POST", mode: "no-cors", body: JSON.stringify({agent_name: "evil", image: "x:1"})}),
  ];
  return (await Promise.allSettled(tries)).map(t => t.status);
};
</script>"""


@contextmanager
def attacker_site() -> Iterator[str]:
    """Another origin on this machine (another port): the page a developer happens to have open."""

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            data = PAGE.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_page_on_another_origin_cannot_use_the_proxys_key(make_site, page):
    site = make_site(api_keys=["upstream-key"], admin_key="admin-key")
    with attacker_site() as attacker, proxy_process(site.url, "--api-key", "upstream-key") as proxy:
        page.goto(attacker + "/")
        page.evaluate("proxy => window.attack(proxy)", proxy.url)
        # The proxy's own clients are unaffected: no Origin, and the key is lent.
        mine = requests.get(proxy.url + "/api/tools", timeout=10)
        assert mine.status_code == 200, mine.text
    journal = site.control("GET", "journal").json()
    calls = [
        f"{c['method']} {c['path']}"
        for c in (journal.get("entries", journal) if isinstance(journal, dict) else journal)
    ]
    assert "POST /api/tools" not in calls and "POST /api/deploy" not in calls, calls
    assert [t["name"] for t in site.api("GET", "/api/tools").json()] == [], "the page created a tool upstream"
    refused = [line for line in proxy.output.splitlines() if line.startswith("[refused]")]
    assert len(refused) >= 3 and all(attacker in line for line in refused), proxy.output
    assert "3 refused" in proxy.output or "4 refused" in proxy.output, proxy.output
