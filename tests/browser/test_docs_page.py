"""/docs in a real browser: every operation of every served document, and "try it" against
the mock with the user's key, with nothing loaded from another origin."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from playwright.sync_api import expect

from mockserver.spec import HTTP_METHODS


def documented_operations(document) -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, item in document["paths"].items()
            for method in HTTP_METHODS if method in item}


def test_docs_render_every_operation_of_every_document_offline(make_site, page):
    site = make_site(api_keys=["docs-key"])
    foreign: list[str] = []

    def only_this_mock(route):
        if urlsplit(route.request.url).netloc == urlsplit(site.url).netloc:
            route.continue_()
        else:
            foreign.append(route.request.url)
            route.abort()

    page.route("**/*", only_this_mock)
    for served in site.server.documents:
        expected = documented_operations(served.document())
        page.goto(f"{site.url}/docs?doc={quote(served.title)}")
        blocks = page.locator(".opblock")
        expect(blocks).to_have_count(len(expected))
        shown = {(block.locator(".opblock-summary-method").inner_text().strip(),
                  block.locator(".opblock-summary-path").get_attribute("data-path"))
                 for block in blocks.all()}
        assert shown == expected
    assert foreign == []


def test_try_it_calls_the_mock_with_the_users_key(make_site, page):
    site = make_site(api_keys=["docs-key"])
    site.seed("tools: [{name: stripe-api, base_url: https://api.stripe.com}]")
    page.goto(site.url + "/docs")

    page.locator(".auth-wrapper button.authorize").click()
    page.locator(".modal-ux input").first.fill("docs-key")
    page.locator(".modal-ux button.authorize").click()
    page.locator(".modal-ux button.btn-done").click()

    operation = page.locator("#operations-tools-listTools")
    operation.locator(".opblock-summary").click()
    operation.locator("button.try-out__btn").click()
    operation.locator("button.execute").click()
    expect(operation.locator(".live-responses-table tr.response .response-col_status")).to_have_text("200")
    expect(operation.locator(".live-responses-table tr.response .response-col_description")).to_contain_text("stripe-api")

    calls = [e for e in site.server.journal.list() if e["path"] == "/api/tools"]
    assert [(c["method"], c["status"], c["headers"].get("Authorization")) for c in calls] == [("GET", 200, "***")]
