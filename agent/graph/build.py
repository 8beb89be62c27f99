"""The loop as a langgraph ``StateGraph``::

    gather_context -> plan -> act -> approve -> execute -> test -> repair -> act ...
                                 \\-> finish -> learn -> END

``act`` is one model call; ``approve`` pauses at a langgraph interrupt when the policy asks
the user; ``execute`` runs reads, applies the edit set, runs commands; ``test`` runs after
every applied edit set; ``repair`` hands failures back (bounded by ``max_repairs``).
"""

from __future__ import annotations

from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph

from agent.graph.actions import approval_requests, is_empty
from agent.graph.deps import LoopDeps
from agent.graph.nodes_actions import ActionNodes
from agent.graph.nodes_model import ModelNodes
from agent.graph.nodes_verify import VerifyNodes
from agent.graph.state import AgentState


def _after_model(state: AgentState) -> str:
    if state.get("stop_status"):
        return "finish"
    return "act"


def _after_act(state: AgentState) -> str:
    if state.get("stop_status") or is_empty(state.get("pending")):
        return "finish"
    return "approve"


def _after_approve(state: AgentState) -> str:
    decided = state.get("decisions", {})
    if all(r.request_id in decided for r in approval_requests(state.get("pending"))):
        return "execute"
    return "approve"


def _after_execute(state: AgentState) -> str:
    return "test" if state.get("applied_this_step") else "act"


def _after_test(state: AgentState) -> str:
    return "repair" if state.get("tests") == "red" else "act"


def build_graph(deps: LoopDeps, checkpointer: BaseCheckpointSaver[Any] | None = None) -> Any:
    """The compiled graph for one session's dependencies."""
    model, actions, verify = ModelNodes(deps), ActionNodes(deps), VerifyNodes(deps)
    graph = StateGraph(AgentState)
    graph.add_node("gather_context", model.gather_context)
    graph.add_node("plan", model.plan)
    graph.add_node("act", model.act)
    graph.add_node("approve", actions.approve)
    graph.add_node("execute", actions.execute)
    graph.add_node("test", verify.test)
    graph.add_node("repair", verify.repair)
    graph.add_node("finish", verify.finish)
    graph.add_node("learn", verify.learn)
    graph.add_edge(START, "gather_context")
    graph.add_edge("gather_context", "plan")
    graph.add_conditional_edges("plan", _after_model, ["act", "finish"])
    graph.add_conditional_edges("act", _after_act, ["approve", "finish"])
    graph.add_conditional_edges("approve", _after_approve, ["approve", "execute"])
    graph.add_conditional_edges("execute", _after_execute, ["test", "act"])
    graph.add_conditional_edges("test", _after_test, ["repair", "act"])
    graph.add_conditional_edges("repair", _after_model, ["act", "finish"])
    graph.add_edge("finish", "learn")
    graph.add_edge("learn", END)
    return graph.compile(checkpointer=checkpointer)
