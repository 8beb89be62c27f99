"""The agent loop as a checkpointed langgraph ``StateGraph``."""

from __future__ import annotations

from agent.graph.build import build_graph
from agent.graph.deps import LoopDeps
from agent.graph.state import AgentState, initial_state

__all__ = ["AgentState", "LoopDeps", "build_graph", "initial_state"]
