"""Issue 23.14/23.15: each form a secret takes (env entries named like STRIPE_KEY, DB_PASS,
GITHUB_PAT, *_SECRET, *_TOKEN, *_CREDENTIALS, vendor settings; a form-encoded token body; OAuth
code/state query values; a Location header or text body carrying a token) fed through every
output: the mock's responses, journal, export and log, and the proxy's HAR, record, reports
and lines. One rule (mockserver/basics/redact.py) masks them all."""

from __future__ import annotations

import json
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests
from contract_kit_support import serve_mock
from proxy_support import proxy_in_process, proxy_process

from mockserver.proxy.har import HarWriter

KEY = "secret-forms-key-0123"
AUTH = {"Authorization": f"Bearer {KEY}"}
ENV_SECRETS = {  # name -> value: each must never be written anywhere in clear
    "STRIPE_KEY": "sk_live_env1Zq",
    "DB_PASS": "dbpass-env2Zq",
    "GITHUB_PAT": "ghp_env3Zq",
    "APP_SECRET": "appsecret-env4Zq",
    "SLACK_TOKEN": "xoxb-env5Zq",
    "GCP_CREDENTIALS": "gcpcreds-env6Zq",
    "OPENAI_API_KEY": "sk-env7Zq",
    "SENTRY_DSN": "https://abc-env8Zq@sentry.example.com/1",
    "STRIPE_ACCOUNT": "acct-env9Zq",
}
FORM_SECRETS = ["refresh-form1Zq", "client-secret-form2Zq"]
QUERY_SECRETS = ["oauth-code-q1Zq", "oauth-state-q2Zq"]
ALL = [*ENV_SECRETS.values(), *FORM_SECRETS, *QUERY_SECRETS]
PLAIN = {"LOG_LEVEL": "debug"}  # not a secret: kept as sent


def leaked(text: str, secrets=ALL) -> list[str]:
    return [s for s in secrets if s in text]


def test_every_secret_form_is_masked_in_every_output(tmp_path):
    har, record, report_json, report_txt = (tmp_path / n for n in ("s.har", "s.yaml", "r.json", "r.txt"))
    env = [{"name": n, "value": v} for n, v in {**ENV_SECRETS, **PLAIN}.items()]
    with contextmanager(serve_mock)() as upstream:
        with proxy_process(
            upstream.url,
            "--har",
            str(har),
            "--record",
            str(record),
            "--report",
            str(report_json),
            "--report",
            str(report_txt),
            "--allow-undocumented",
        ) as proxy:
            deployed = requests.post(
                proxy.url + "/api/deploy",
                headers=AUTH,
                timeout=10,
                json={"agent_name": "env-agent", "image": "img:1", "env": env},
            )
            assert deployed.status_code == 201, deployed.text
            requests.post(
                proxy.url + "/oauth/token",
                headers={**AUTH, "Content-Type": "application/x-www-form-urlencoded"},
                data=f"grant_type=refresh_token&refresh_token={FORM_SECRETS[0]}&client_secret={FORM_SECRETS[1]}",
                timeout=10,
            )
            requests.get(
                proxy.url + f"/api/tools?code={QUERY_SECRETS[0]}&state={QUERY_SECRETS[1]}", headers=AUTH, timeout=10
            )
            answers = [deployed.text, requests.get(proxy.url + "/api/agents", headers=AUTH, timeout=10).text]
        journal = requests.get(upstream.url + "/_mock/journal", headers=AUTH, timeout=10).text
        export = requests.get(upstream.url + "/_mock/state", headers=AUTH, timeout=10).text
        upstream.process.terminate()
        mock_log = "".join(upstream.process.communicate(timeout=20))

    outputs = {
        "responses": " ".join(answers),
        "journal": journal,
        "export": export,
        "mock log": mock_log,
        "har": har.read_text(),
        "record": record.read_text(),
        "json report": report_json.read_text(),
        "text report": report_txt.read_text(),
        "proxy lines": proxy.output,
    }
    found = {name: leaked(text) for name, text in outputs.items() if leaked(text)}
    assert not found, found
    # Masked, not dropped: the names stay, a plain setting is kept as sent.
    agent = json.loads(answers[1])[0]
    assert {e["name"]: e["value"] for e in agent["spec"]["env"]} == {**{n: "***" for n in ENV_SECRETS}, **PLAIN}
    har_text = outputs["har"]
    assert "refresh_token=***" in har_text and "code=***" in har_text and "state=***" in har_text, har_text[:2000]


def test_location_headers_and_text_bodies_in_the_har_and_reports(tmp_path):
    token = "loc-token-l1Zq"

    class Upstream(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = f"access_token={token}&token_type=bearer".encode()
            self.send_response(302)
            self.send_header("Location", f"https://app.example.com/cb?code={token}&state=s#access_token={token}")
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with proxy_in_process(f"http://127.0.0.1:{server.server_address[1]}") as (live, app):
            app.har = HarWriter(tmp_path / "l.har", "upstream")
            answer = requests.get(live.url + "/api/tools", headers=AUTH, timeout=10, allow_redirects=False)
            assert answer.status_code == 302 and token in answer.headers["Location"]  # passed on unchanged
            # The proxy checks and records an exchange once the last chunk has gone, in the
            # server's thread: the client can have the whole answer first.
            deadline = time.monotonic() + 10
            while not app.findings.exchanges and time.monotonic() < deadline:
                time.sleep(0.01)
            app.har.close()
            report = json.dumps(app.findings.data()) + app.findings.text()
    finally:
        server.shutdown()
        server.server_close()
    har_text = (tmp_path / "l.har").read_text()
    assert token not in har_text, har_text
    assert token not in report, report
    assert "code=***" in har_text and "access_token=***" in har_text
