"""/docs in a real browser: every operation of every served document, and "try it" against
the mock with the user's key, with nothing loaded from another origin."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from playwright.sync_api import expect

from mockserver.spec.document import HTTP_METHODS


def documented_operations(document) -> set[tuple[str, str]]:
    return {
        (method.upper(), path) for path, item in document["paths"].items() for method in HTTP_METHODS if method in item
    }


def test_docs_render_every_operation_offline_and_try_it_calls_the_mock_with_the_users_key(make_site, page):
    # One test, as Swagger UI takes seconds to render a document.
    site = make_site(api_keys=["docs-key"])
    site.seed("tools: [{name: stripe-api, base_url: https://api.stripe.com}]")
    foreign: list[str] = []

    def only_this_mock(route):
        if urlsplit(route.request.url).netloc == urlsplit(site.url).netloc:
            route.continue_()
        else:
            foreign.append(route.request.url)
            route.abort()

    page.route("**/*", only_this_mock)
    # Every document, the RunAgents API's last: "try it" below happens on its page.
    for served in sorted(site.server.documents, key=lambda doc: doc.name == "runagents"):
        expected = documented_operations(served.document())
        page.goto(f"{site.url}/docs?doc={quote(served.title)}")
        blocks = page.locator(".opblock")
        expect(blocks).to_have_count(len(expected))
        shown = blocks.evaluate_all("""blocks => blocks.map(b => [
            b.querySelector('.opblock-summary-method').textContent.trim(),
            b.querySelector('.opblock-summary-path').dataset.path])""")
        assert {tuple(op) for op in shown} == expected

    page.locator(".auth-wrapper button.authorize").click()
    page.locator(".modal-ux input").first.fill("docs-key")
    page.locator(".modal-ux button.authorize").click()
    page.locator(".modal-ux button.btn-done").click()

    operation = page.locator("#operations-tools-listTools")
    operation.locator(".opblock-summary").click()
    operation.locator("button.try-out__btn").click()
    operation.locator("button.execute").click()
    expect(operation.locator(".live-responses-table tr.response .response-col_status")).to_have_text("200")
    expect(operation.locator(".live-responses-table tr.response .response-col_description")).to_contain_text(
        "stripe-api"
    )

    calls = [e for e in site.server.journal.list() if e["path"] == "/api/tools"]
    assert [(c["method"], c["status"], c["headers"].get("Authorization")) for c in calls] == [("GET", 200, "***")]
    assert foreign == []


def test_docs_open_on_todays_api_and_doc_picks_a_document_by_its_short_name(make_site, page):
    site = make_site()
    titles = {doc.name: doc.title for doc in site.server.documents}
    page.goto(f"{site.url}/docs")
    expect(page.locator(".topbar select")).to_have_value("/docs/openapi/runagents-v1.json")
    page.goto(f"{site.url}/docs?doc=runagents-mock")
    expect(page.locator(".topbar select")).to_have_value("/docs/openapi/runagents-mock.json")
    expect(page.locator(".information-container .title")).to_contain_text(titles["runagents-mock"])
