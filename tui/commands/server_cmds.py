"""``engram serve`` (HTTP API), ``engram acp`` (Agent Client Protocol), ``engram mcp list``."""

from __future__ import annotations

import asyncio
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from tui.commands.common import console, err_console, fail, open_project, print_json

_HOST = typer.Option("127.0.0.1", "--host", help="Address to listen on (loopback unless --allow-remote).")
_PORT = typer.Option(8765, "--port", min=0, max=65535, help="TCP port (0: any free port).")
_REMOTE = typer.Option(False, "--allow-remote",
                       help="Allow a non-loopback --host (every client needs the token).")
_ROOTS = typer.Option(None, "--root", metavar="DIR",
                      help="Folder under which sessions may open repositories (repeatable; "
                           "default: the current folder).")
_STATE = typer.Option(None, "--state-dir", metavar="DIR",
                      help="Where sessions and events are kept (default: $XDG_STATE_HOME/engram/server).")
_POLICY = typer.Option(None, "--policy", help="Approval policy: suggest, auto-edit or full-auto.")
_MODEL = typer.Option(None, "--model", help="Model reference, e.g. deepseek:deepseek-chat or replay:FILE.")
_JSON = typer.Option(False, "--json", help="Print one JSON document for machines.")
_PROJECT = typer.Option(Path("."), "-C", "--project", metavar="PATH",
                        help="Use the settings of the project that holds PATH.")


def serve(host: str = _HOST, port: int = _PORT, allow_remote: bool = _REMOTE,
          root: list[Path] | None = _ROOTS, state_dir: Path | None = _STATE,
          policy: str | None = _POLICY) -> None:
    """Serve the HTTP API for editor plugins (OpenAPI docs at /docs)."""
    from agent.api.auth import TokenError, token_path
    from agent.api.server import ServerRefused, serve as run_server
    from agent.api.settings import ServerSettings
    from agent.policy import PolicyError, check_policy

    try:
        settings = ServerSettings(host=host, port=port, allow_remote=allow_remote,
                                  roots=list(root or []), default_policy=check_policy(policy) if policy else None,
                                  **({"state_dir": state_dir} if state_dir else {}))
    except PolicyError as exc:
        fail(str(exc))

    def ready(bound_host: str, bound_port: int) -> None:
        shown = f"[{bound_host}]" if ":" in bound_host else bound_host
        err_console.print(f"engram API on http://{shown}:{bound_port}/v1 (docs: /docs); "
                          f"token in {token_path()}; roots: "
                          + ", ".join(str(r) for r in settings.allowed_roots()), highlight=False)

    try:
        run_server(settings, on_ready=ready)
    except (ServerRefused, TokenError) as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")


def acp(policy: str | None = _POLICY, model: str | None = _MODEL,
        state_dir: Path | None = _STATE) -> None:
    """Speak the Agent Client Protocol on stdin/stdout (for Zed, JetBrains, Neovim)."""
    from agent.acp import AcpOptions, run_acp
    from agent.api.settings import default_state_dir
    from agent.policy import PolicyError, check_policy

    try:
        checked = check_policy(policy) if policy else None
    except PolicyError as exc:
        fail(str(exc))
    state = state_dir or default_state_dir().parent / "acp"
    try:
        asyncio.run(run_acp(AcpOptions(state_dir=state, policy=checked, model=model)))
    except OSError as exc:
        fail(f"cannot keep ACP sessions in {state}: {exc.strerror or exc}")


def mcp_list(project: Path = _PROJECT, as_json: bool = _JSON) -> None:
    """Start the configured MCP servers and list them with their tools."""
    from agent.config import ConfigError
    from agent.mcp.client import McpHub
    from agent.mcp.config import load_mcp_settings

    proj = open_project(project)
    try:
        mcp = load_mcp_settings(proj.settings, proj.root)
    except ConfigError as exc:
        fail(str(exc))

    async def probe() -> tuple[list[dict[str, object]], list[str]]:
        hub = await McpHub.start(mcp, proj.root)
        try:
            rows = [{"name": s.name, "transport": s.transport, "target": s.target, "up": s.up,
                     "error": s.error, "tools": [{"name": t.qualified, "model_name": hub.model_name(t),
                                                  "description": t.description} for t in s.tools]}
                    for s in hub.statuses()]
        finally:
            await hub.close()
        return rows, hub.problems

    rows, problems = asyncio.run(probe())
    configured = {name: cfg for name, cfg in mcp.servers.items()}
    down = [{"name": name, "transport": cfg.transport, "target": cfg.describe(), "up": False,
             "error": next((p for p in problems if f"'{name}'" in p), "disabled" if not cfg.enabled else ""),
             "tools": []} for name, cfg in configured.items() if name not in {r["name"] for r in rows}]
    everything = sorted(rows + down, key=lambda r: str(r["name"]))
    if as_json:
        print_json({"servers": everything})
        return
    if not everything:
        console.print("no MCP servers configured; add [mcp.servers.NAME] with `command` or `url` "
                      "to .engram/config.toml or ~/.config/engram/config.toml")
        return
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    for column in ("server", "transport", "status", "tools"):
        table.add_column(column)
    for row in everything:
        status = "up" if row["up"] else f"down: {row['error']}"
        tools = ", ".join(str(t["name"]) for t in row["tools"]) or "-"  # type: ignore[union-attr]
        table.add_row(escape(str(row["name"])), f"{row['transport']} {escape(str(row['target']))}",
                      escape(status), escape(tools))
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add this group's commands to ``app``."""
    app.command("serve")(serve)
    app.command("acp")(acp)
    mcp_app = typer.Typer(help="MCP servers whose tools the agent may use.", no_args_is_help=True)
    mcp_app.command("list")(mcp_list)
    app.add_typer(mcp_app, name="mcp")
