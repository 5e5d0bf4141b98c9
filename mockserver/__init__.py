"""runagents-mock: an offline, stateful mock of the RunAgents platform API."""

from .app import create_app
from .config import MockConfig

__all__ = ["create_app", "MockConfig"]
__version__ = "0.1.0"
