"""What a test gets: ``MockHandle`` (one running mock, driven in-process through the same
control service as ``/_mock/``), ``WorkspaceHandle`` (one workspace of it), and reading the
fixtures the seed calls take."""

from __future__ import annotations

import fnmatch
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from .checker import ResponseChecker

if TYPE_CHECKING:
    import requests

    from ..web.app import MockServer
    from .live_server import LiveServer

DEFAULT_API_KEY = "runagents-mock-test-key"
DEFAULT_WORKSPACE_KEY = "ra_ws_runagents-mock-test-key"  # sent as X-RunAgents-API-Key on /api/v1
SEED_SUFFIXES = (".yaml", ".yml", ".json")


class SeedError(ValueError):
    """A fixture could not be loaded: bad file, bad YAML/JSON, or an item the API refuses."""


class Faults:
    """``runagents_mock.faults``: inject latency and/or errors for matching requests."""

    def __init__(self, server: MockServer):
        self._server = server

    def add(
        self,
        *,
        method: str = "*",
        path: str = "*",
        status: int | None = None,
        error: str = "injected fault",
        latency_ms: float = 0,
        times: int | None = None,
    ) -> dict[str, Any]:
        """Answer requests matching ``method`` and the ``path`` glob with ``status``/``error``
        after ``latency_ms``; ``times=None`` means every matching request."""
        from ..basics.errors import ApiError

        try:
            return self._server.control.add_fault(
                {
                    "method": method,
                    "path": path,
                    "status": status,
                    "error": error,
                    "latency_ms": latency_ms,
                    "times": times,
                }
            )
        except ApiError as exc:
            raise ValueError(f"invalid fault: {exc.message}") from None

    def clear(self) -> None:
        self._server.control.clear_faults()

    @property
    def rules(self) -> list[dict[str, Any]]:
        """The rules with their ``hits`` so far."""
        return self._server.control.faults()


class MockHandle:
    """One running mock server, as a test drives it. Reset before every test."""

    def __init__(self, live: LiveServer, checker: ResponseChecker, strict: bool = True):
        self.live = live
        self.url: str = live.url
        self.openai_base_url: str = live.url + "/v1"
        keys = self.server.config.api_keys
        self.api_key: str = keys[0] if keys else DEFAULT_API_KEY
        self.headers: dict[str, str] = {"Authorization": f"Bearer {self.api_key}"}
        # The June 2026 API (/api/v1): the default workspace, and a workspace key for it.
        self.v1_url: str = live.url + "/api/v1"
        self.workspace_key: str = self.key_for_workspace("default")
        self.v1_headers: dict[str, str] = _key_headers(self.workspace_key)
        self.faults = Faults(self.server)
        self.default_strict = strict
        self.strict = strict  # fail the test on responses that break openapi.yaml
        self._checker = checker
        self._session: requests.Session | None = None

    def __repr__(self) -> str:
        return f"<runagents_mock {self.url}>"

    @property
    def server(self) -> MockServer:
        """The in-process mock (spec, platform, journal...): an escape hatch, not a stable API."""
        return self.live.mock

    @property
    def env(self) -> dict[str, str]:
        """Environment variables that point the vendor SDK/CLI and the OpenAI SDK here
        (``for k, v in runagents_mock.env.items(): monkeypatch.setenv(k, v)``)."""
        return {
            "RUNAGENTS_ENDPOINT": self.url,
            "RUNAGENTS_API_KEY": self.api_key,
            "OPENAI_BASE_URL": self.openai_base_url,
            "OPENAI_API_KEY": self.api_key,
        }

    # --- workspaces (the /api/v1 surface) --------------------------------------------

    def workspace_url(self, name: str) -> str:
        """The base URL of a named workspace (created on first use): ``<url>/api/v1/workspaces/<name>``."""
        return f"{self.v1_url}/workspaces/{name}"

    def key_for_workspace(self, name: str) -> str:
        """A key the mock accepts on that workspace: one bound to it, else the first API key,
        else (any key accepted) a workspace key (``ra_ws_...``)."""
        config = self.server.config
        bound = [key for ws, key in config.workspace_keys if ws == name]
        if bound:
            return bound[0]
        return config.api_keys[0] if config.api_keys else DEFAULT_WORKSPACE_KEY

    def workspace(self, name: str) -> WorkspaceHandle:
        """A handle on a workspace as it is (created, empty, on first use; ``default`` is the
        February paths' and ``/api/v1``'s), e.g. ``runagents_mock.workspace("default").mint_key()``."""
        from ..basics.errors import ApiError

        try:
            self.server.workspaces.check_name(name)
        except ApiError as exc:
            raise ValueError(exc.message) from None
        return WorkspaceHandle(self, name)

    def new_workspace(self, name: str | None = None) -> WorkspaceHandle:
        """A workspace of this server, empty: a fresh one (``t-<random>``) unless named. Tests
        on different workspaces never see each other's state, without a reset."""
        import uuid

        name = name or f"t-{uuid.uuid4().hex[:12]}"
        self.server.workspaces.reset(name)
        return WorkspaceHandle(self, name)

    # --- state ----------------------------------------------------------------------

    def reset(self) -> None:
        """Empty state, journal, faults and replies; configured rate limit; real time.

        The same steps as ``POST /_mock/reset``, called in-process.
        """
        self.server.control.reset()
        self._checker.clear()
        self.strict = self.default_strict

    def seed(
        self, source: str | os.PathLike[str] | Mapping[str, Any], search_dirs: Sequence[Path] = ()
    ) -> dict[str, Any]:
        """Load a fixture: a path to a YAML/JSON file, YAML/JSON text, or a dict.

        Relative paths are looked up in ``search_dirs``, then the current directory. Answers
        ``{"created": {section: count}, "ids": {section: [...]}}``.
        """
        __tracebackhide__ = True
        from ..basics.errors import ApiError

        data, label = _read_seed(source, search_dirs)
        try:
            return self.server.control.seed(data)
        except ApiError as exc:
            raise SeedError(f"runagents_mock could not load {label}: {exc.message}") from None

    def state(self) -> dict[str, Any]:
        """The whole state as JSON data (what ``GET /_mock/state`` answers)."""
        return self.server.control.export()

    def load_state(self, state: Mapping[str, Any]) -> None:
        """Replace the state with one from ``state()``; ValueError when it is not one. Checked
        and redacted as ``PUT /_mock/state`` does (the same control service)."""
        from ..basics.errors import ApiError

        try:
            self.server.control.load_state(state)
        except ApiError as exc:
            raise ValueError(exc.message) from None

    def advance(self, seconds: float) -> str:
        """Move the mock's clock forward (expiry, builds, provider readiness); answers the new time."""
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0:
            raise ValueError("advance() takes a number of seconds >= 0")
        from ..basics.errors import ApiError

        try:
            now: str = self.server.control.advance(seconds)["now"]
            return now
        except ApiError as exc:
            raise ValueError(exc.message) from None

    def set_rate_limit(self, per_minute: int | None) -> None:
        """Requests per minute per API key (``None``: no limit); over it the mock answers 429."""
        if per_minute is not None and (
            isinstance(per_minute, bool) or not isinstance(per_minute, int) or per_minute < 1
        ):
            raise ValueError("per_minute must be a positive integer, or None for no limit")
        self.server.control.set_rate_limit(per_minute)

    def set_replies(
        self,
        llm: Mapping[str, str] | None = None,
        agents: Mapping[str, Any] | None = None,
        tools: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        """What the LLM gateway answers per model (``"*"``: any model), what an invoked agent
        answers per ``"namespace/name"``, and what the tool proxy answers per tool
        (``{"status": 200, "body": ...}``). Merged into earlier replies until reset."""
        from ..basics.errors import ApiError

        try:
            self.server.control.set_replies(
                {"llm": dict(llm or {}), "agents": dict(agents or {}), "tools": dict(tools or {})}
            )
        except ApiError as exc:
            raise ValueError(exc.message) from None

    # --- what the code under test sent -----------------------------------------------

    def journal(self) -> list[dict[str, Any]]:
        """Requests received since the last reset, oldest first: ``method, path, query,
        headers`` (Authorization redacted), ``body`` (secrets redacted), ``status``."""
        return [dict(entry) for entry in self.server.control.journal()]

    def calls(self, method: str = "*", path: str = "*") -> list[dict[str, Any]]:
        """Journal entries whose method matches (``*``: any) and whose path matches the glob."""
        method = method.upper()
        return [e for e in self.journal() if method in ("*", e["method"]) and fnmatch.fnmatchcase(e["path"], path)]

    def assert_called(self, method: str, path: str, *, times: int | None = None) -> list[dict[str, Any]]:
        """Assert the mock received ``method path`` (a glob), at least once or exactly
        ``times`` times; answers the matching journal entries."""
        __tracebackhide__ = True  # point failures at the test's line, not this one
        found = self.calls(method, path)
        if times is None and found or times is not None and len(found) == times:
            return found
        wanted = "at least once" if times is None else f"{times} time(s)"
        raise AssertionError(
            f"expected {method.upper()} {path} to be called {wanted}, "
            f"but it was called {len(found)} time(s).\n{self._received()}"
        )

    def assert_not_called(self, method: str, path: str) -> None:
        __tracebackhide__ = True
        found = self.calls(method, path)
        if found:
            raise AssertionError(
                f"expected no {method.upper()} {path}, but it was called {len(found)} time(s).\n{self._received()}"
            )

    def _received(self) -> str:
        exchanges = list(self._checker.exchanges)
        if not exchanges:
            return "runagents-mock received no requests in this test."
        lines = "\n".join(f"  {i}. {line}" for i, line in enumerate(exchanges, 1))
        shown = f"the last {len(exchanges)}" if len(exchanges) == self._checker.exchanges.maxlen else len(exchanges)
        return f"runagents-mock received {shown} request(s) in this test:\n{lines}"

    # --- conformance -----------------------------------------------------------------

    def conformance_problems(self) -> list[str]:
        """Ways the responses sent since the last reset break openapi.yaml."""
        return list(self._checker.problems)

    def check_conformance(self) -> None:
        """Fail the test (when ``strict``) if any response broke openapi.yaml."""
        report = self._checker.report()
        if report and self.strict:
            pytest.fail(
                report + "\n(set runagents_mock.strict = False, or the ini option "
                "runagents_strict = false, to allow this)",
                pytrace=False,
            )

    # --- convenience -----------------------------------------------------------------

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """Send a request to the mock with this handle's auth headers (``requests`` kwargs)."""
        import requests

        if self._session is None:
            self._session = requests.Session()
        headers = {**self.headers, **(kwargs.pop("headers", None) or {})}
        return self._session.request(method, self.url + path, headers=headers, timeout=30, **kwargs)

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None


def _key_headers(key: str) -> dict[str, str]:
    """How the vendor SDK 1.4.2 sends a key on /api/v1: workspace keys in their own header."""
    from ..spec.security import WORKSPACE_KEY_PREFIX

    return {"X-RunAgents-API-Key": key} if key.startswith(WORKSPACE_KEY_PREFIX) else {"Authorization": f"Bearer {key}"}


class WorkspaceHandle:
    """One workspace of a running mock, as a test drives it (``runagents_workspace``,
    ``runagents_mock.new_workspace()``): its URL, a key for it, its state and journal."""

    def __init__(self, mock: MockHandle, name: str):
        self.mock = mock
        self.name = name
        self.url = mock.workspace_url(name)
        self.api_key = mock.key_for_workspace(name)
        self.headers = _key_headers(self.api_key)

    def __repr__(self) -> str:
        return f"<runagents_mock workspace {self.name} {self.url}>"

    @property
    def env(self) -> dict[str, str]:
        """``RUNAGENTS_ENDPOINT``/``RUNAGENTS_API_KEY`` for the vendor SDK 1.4+ and CLI."""
        return {"RUNAGENTS_ENDPOINT": self.url, "RUNAGENTS_API_KEY": self.api_key}

    @property
    def platform(self) -> Any:
        return self.mock.server.workspaces.get(self.name)

    def seed(
        self, source: str | os.PathLike[str] | Mapping[str, Any], search_dirs: Sequence[Path] = ()
    ) -> dict[str, Any]:
        """Load a fixture into this workspace (same forms as ``runagents_mock.seed``)."""
        __tracebackhide__ = True
        from ..basics.errors import ApiError

        data, label = _read_seed(source, search_dirs)
        try:
            return self.mock.server.control.seed(data, self.name)
        except ApiError as exc:
            raise SeedError(f"runagents_mock could not load {label}: {exc.message}") from None

    def state(self) -> dict[str, Any]:
        return self.mock.server.control.export(self.name)

    def reset(self) -> None:
        """Empty this workspace and revoke its minted keys (as ``POST /_mock/workspaces/<name>/reset``)."""
        self.mock.server.control.reset(self.name)

    # --- workspace API keys (the control API's /_mock/workspaces/<name>/keys) --------

    def mint_key(self) -> dict[str, Any]:
        """A new ``ra_ws_...`` key bound to this workspace: ``{"id", "key", "prefix", ...}``.
        The key is shown only here; it lasts until revoked or the server is reset."""
        return self.mock.server.control.mint_key(self.name)

    def keys(self) -> list[dict[str, Any]]:
        """The live minted keys: ids and masked prefixes, never the keys."""
        return self.mock.server.control.keys(self.name)

    def revoke_key(self, key_id: str) -> None:
        """Revoke a minted key: 401 ``API key is revoked`` from then on."""
        from ..basics.errors import ApiError

        try:
            self.mock.server.control.revoke_key(self.name, key_id)
        except ApiError as exc:
            raise KeyError(exc.message) from None

    def rotate_key(self, key_id: str) -> dict[str, Any]:
        """Revoke a minted key and mint its replacement (as :meth:`mint_key`)."""
        self.revoke_key(key_id)
        return self.mint_key()

    def journal(self) -> list[dict[str, Any]]:
        """Requests this workspace received (``/api/v1/workspaces/<name>/...``), oldest first."""
        return [dict(entry) for entry in self.mock.server.control.journal(self.name)]

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """Send a request to ``<workspace url><path>`` with this workspace's key."""
        import requests

        headers = {**self.headers, **kwargs.pop("headers", {})}
        return requests.request(method, self.url + path, headers=headers, timeout=30, **kwargs)


def _read_seed(source: Any, search_dirs: Sequence[Path]) -> tuple[Mapping[str, Any], str]:
    """(fixture data, a label for messages) from a path, YAML/JSON text, or a mapping."""
    __tracebackhide__ = True
    from ..surface.seed import parse_seed_text

    if isinstance(source, Mapping):
        text, label = json.dumps(source), "the fixture dict"
    elif isinstance(source, os.PathLike) or (isinstance(source, str) and _looks_like_path(source)):
        path = _find_seed_file(Path(source), search_dirs)
        text, label = path.read_text(encoding="utf-8"), str(path)
    elif isinstance(source, str):
        text, label = source, "the fixture text"
    else:
        raise SeedError(f"a fixture is a path, YAML/JSON text or a dict, not {type(source).__name__}")
    try:
        return parse_seed_text(text), label
    except ValueError as exc:
        raise SeedError(f"runagents_mock could not load {label}: {exc}") from None


def _looks_like_path(text: str) -> bool:
    return "\n" not in text and text.strip().lower().endswith(SEED_SUFFIXES)


def _find_seed_file(path: Path, search_dirs: Sequence[Path]) -> Path:
    __tracebackhide__ = True
    candidates = [path] if path.is_absolute() else [d / path for d in search_dirs] + [Path.cwd() / path]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    looked = ", ".join(str(c) for c in dict.fromkeys(candidates))
    raise SeedError(f"runagents_mock fixture file not found: {path} (looked at {looked})")
