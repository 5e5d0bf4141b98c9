"""examples/first_governed_agent (a source agent the mock runs, SDK runtime, one approval) passes
its own tests, on the default workspace and a named one."""


def test_the_first_governed_agent_example_passes(run_pytest):
    result = run_pytest("examples/first_governed_agent", "-q")
    assert result.returncode == 0, result.output
    assert result.outcomes() == {"passed": 2}, result.output
