"""The proxy's tests reuse the contract kit's served mock and its deliberately deviating server."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "contracts"))
