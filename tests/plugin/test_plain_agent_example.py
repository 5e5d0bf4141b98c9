"""examples/plain_agent (a plain-HTTP agent driven through the runtime path) passes its own tests."""


def test_the_plain_agent_example_passes(run_pytest):
    result = run_pytest("examples/plain_agent", "-q")
    assert result.returncode == 0, result.output
    assert result.outcomes() == {"passed": 4}, result.output
