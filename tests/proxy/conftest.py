"""The proxy's tests reuse the contract kit's served mock and its deliberately deviating server."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "contracts"))

_V1_CONFTEST = Path(__file__).resolve().parents[1] / "v1" / "conftest.py"


def _v1_support():
    """tests/v1's SDK 1.4.2 fixtures (one cached install for the whole suite)."""
    spec = importlib.util.spec_from_file_location("v1_sdk142_support", _V1_CONFTEST)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ``run_sdk142(endpoint, api_key, scenario)`` and its install, as tests/v1 defines them.
_V1 = _v1_support()
sdk142_path = _V1.sdk142_path
run_sdk142 = _V1.run_sdk142
