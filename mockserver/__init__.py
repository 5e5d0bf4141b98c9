"""runagents-mock: an offline, stateful mock of the RunAgents platform API."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .config import MockConfig
    from .web.app import create_app

__all__ = ["create_app", "MockConfig"]
__version__ = "0.3.0"  # the one place the version is written (pyproject reads it; CHANGELOG.md)


def __getattr__(name: str) -> Any:
    # Imported on first use, so loading the pytest plugin (an entry point every pytest run
    # imports) does not pay for Flask and the spec until a test asks for a mock.
    if name == "create_app":
        from .web.app import create_app

        return create_app
    if name == "MockConfig":
        from .config import MockConfig

        return MockConfig
    raise AttributeError(f"module 'mockserver' has no attribute {name!r}")
