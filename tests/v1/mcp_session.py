"""Drives the vendor SDK 1.4.2's MCP server (``runagents-mcp``) over stdio with the ``mcp``
client package; prints a JSON report. Run by test_mcp_server.py (see there)."""

from __future__ import annotations

import asyncio
import json
import os
import sys

from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client


async def session() -> dict:
    # What `runagents-mcp` runs (its console script calls runagents.mcp:main), from the
    # directory SDK 1.4.2 was installed into.
    server = StdioServerParameters(
        command=sys.executable, args=["-c", "from runagents.mcp import main; main()"], env=dict(os.environ)
    )
    report: dict = {}
    async with stdio_client(server) as (read, write), ClientSession(read, write) as client:
        await client.initialize()
        report["tools"] = sorted(tool.name for tool in (await client.list_tools()).tools)

        async def call(tool: str, **arguments: object) -> object:
            result = await client.call_tool(tool, arguments)
            assert not result.isError, result
            return json.loads(result.content[0].text)

        report["seed"] = await call("seed_starter_kit")
        report["list_tools"] = await call("list_tools")
        report["deploy"] = await call(
            "deploy_agent", agent_name="mcp-agent", image="registry.example/mcp:1", required_tools=["echo-tool"]
        )
        report["list_agents"] = await call("list_agents")
        report["get_agent"] = await call("get_agent", name="mcp-agent")
        report["missing_agent"] = await call("get_agent", name="nope")
        report["list_runs"] = await call("list_runs")
        report["list_policies"] = await call("list_policies")
        report["model_spend"] = await call("get_model_spend")
    return report


if __name__ == "__main__":
    print(json.dumps(asyncio.run(session())))
