"""The mock's own answers to each workload, captured in-process, for the ceiling to replay."""

from __future__ import annotations

from .seeding import in_process_call, seed
from .workloads import WORKLOADS


def sample_replies() -> dict[str, tuple[int, bytes]]:
    """workload name -> (status, body bytes) exactly as the mock answers it after seeding."""
    from mockserver.web.app import create_app

    app = create_app()
    seeded = seed(in_process_call(app), run_count=1)
    client = app.test_client()
    replies: dict[str, tuple[int, bytes]] = {}
    for workload in WORKLOADS:
        reply = client.open(
            workload.paths(seeded.run_ids)[0], method=workload.method, headers=workload.headers, data=workload.body
        )
        replies[workload.name] = (reply.status_code, reply.get_data())
    return replies
