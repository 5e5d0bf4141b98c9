"""The guard: a tiny parent for one agent process, run as a script (stdlib only, no mockserver
import), so that nothing an agent starts outlives the mock however the mock stops.

    python -I guard.py <pipe-fd> <limits-json> -- <command...>

It applies the rlimits, starts the agent in a new session (its own process group, which holds
anything the agent starts) with PR_SET_PDEATHSIG (Linux) so that a SIGKILL of the guard takes
the agent too, then waits for either of two things:

- end of file on <pipe-fd>: the mock holds the only write end, and the kernel closes it when
  the mock exits in any way, SIGKILL included (or when the mock stops this agent);
- the agent exits.

Either way it kills the agent's process group (the agent's children too) and exits with the
agent's status (0 when it stopped the agent).
"""

import ctypes
import json
import os
import select
import signal
import subprocess
import sys
from collections.abc import Mapping

PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # runs in the agent between fork and exec
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the guard's process-group kill still applies
        pass
    if os.getppid() == 1:  # the guard died before prctl took effect
        os._exit(1)


def _apply_limits(limits: Mapping[str, float]) -> None:
    try:
        import resource
    except ImportError:  # Windows has no rlimits (and no --run-agents: see docs/runtime.md)
        return
    for name, value in limits.items():
        which = getattr(resource, name, None)
        if which is None:
            continue
        _soft, hard = resource.getrlimit(which)
        soft = int(value)
        if hard != resource.RLIM_INFINITY:
            soft = min(soft, hard)
        resource.setrlimit(which, (soft, hard if hard != resource.RLIM_INFINITY else soft))


def main(argv: list[str]) -> int:
    pipe_fd, limits, command = int(argv[1]), json.loads(argv[2]), argv[argv.index("--") + 1 :]
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C of the mock's terminal: the mock decides
    _apply_limits(limits)
    try:
        agent = subprocess.Popen(
            command, start_new_session=True, preexec_fn=_die_with_parent, close_fds=True, stdin=subprocess.DEVNULL
        )
    except OSError as exc:
        print(f"runagents-mock: cannot start the agent: {exc}", file=sys.stderr, flush=True)
        return 127
    code = None
    while code is None:
        ready, _, _ = select.select([pipe_fd], [], [], 0.2)
        if ready and not os.read(pipe_fd, 64):  # the mock is gone, or stops this agent
            break
        code = agent.poll()
    try:
        os.killpg(agent.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    agent.wait()
    return code if code is not None else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
