"""The mock's web pages: ``/docs`` (an offline interactive reference of every OpenAPI document
the mock serves) and ``/_mock/ui`` (a live console over the control API and the documented API).

The pages are static: HTML, CSS and JavaScript that run in the browser and act only through
the mock's public HTTP endpoints (``/_mock/...`` and the documented API), with the key the user
types in. So they are answered before the API's dispatcher and without a key: the page
itself holds no data; every call it makes is checked like any other client's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from ...spec.paths import is_page

if TYPE_CHECKING:
    from ..host import PagesHost

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def mount_pages(server: PagesHost, next_app: WSGIApp) -> WSGIApp:
    """WSGI middleware: the pages' paths go to the pages, everything else to ``next_app``.

    The console is there only with the control API (``--no-admin`` turns both off); ``/docs``
    always is.
    """
    console_on = server.config.admin_enabled
    built: list[WSGIApp] = []  # the pages' app, made on the first page request: most mocks
    # (one per test in a suite) never serve a page, and making it costs a tenth of create_app

    def serve(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if is_page(environ.get("PATH_INFO", ""), console_on):
            if not built:  # two first requests at once may both make one: the same, harmless
                from .pages import pages_app

                built.append(pages_app(server))
            return built[0](environ, start_response)
        return next_app(environ, start_response)

    return serve
