"""Benchmarks for runagents-mock: the mock against Stoplight Prism and a bare-Flask ceiling,
the pytest-fixture path, serving stacks and a hot-path profile. Run ``python -m bench``."""
