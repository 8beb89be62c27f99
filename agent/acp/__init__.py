"""The Agent Client Protocol front end (``engram acp``): Engram over stdio JSON-RPC."""

from __future__ import annotations

from agent.acp.agent import AcpOptions, EngramAcpAgent

__all__ = ["AcpOptions", "EngramAcpAgent", "run_acp"]


async def run_acp(options: AcpOptions) -> None:
    """Serve one client on stdin/stdout until it disconnects."""
    from acp import run_agent

    await run_agent(EngramAcpAgent(options))
