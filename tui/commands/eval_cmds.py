"""``engram eval``: HumanEval and SWE-bench-style runs, and reports of finished runs."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)

from agent.config import ConfigError, load_settings
from evals.errors import EvalError
from indexer.workspace import WorkspaceError, find_project_root
from runtime.llm.settings import ModelSettings
from runtime.sandbox import Sandbox, SandboxError, SandboxSettings
from tui.commands.common import console, err_console, fail, print_json

eval_app = typer.Typer(name="eval", help="Score models and the agent: HumanEval, SWE-bench.",
                       no_args_is_help=True)

_SANDBOX_OPTION = typer.Option(None, "--sandbox",
                               help="Sandbox backend: auto, bwrap, docker or local.")
_JSON_OPTION = typer.Option(False, "--json", help="Print the summary as JSON.")


def register(app: typer.Typer) -> None:
    """Add ``engram eval ...`` to ``app``."""
    app.add_typer(eval_app)


def _project_settings() -> tuple[ModelSettings, SandboxSettings]:
    try:
        settings = load_settings(find_project_root("."))
    except (WorkspaceError, ConfigError):
        return ModelSettings(), SandboxSettings()
    return settings.model, settings.sandbox


def _sandbox(settings: SandboxSettings, backend: str | None) -> Sandbox:
    if backend is not None:
        if backend not in ("auto", "bwrap", "docker", "local"):
            fail(f"unknown sandbox backend {backend!r}; use auto, bwrap, docker or local")
        settings = settings.model_copy(update={"backend": backend})
    sandbox = Sandbox(settings)
    try:
        sandbox.backend  # noqa: B018 - probe now: one clear message before any work starts
    except SandboxError as exc:
        fail(str(exc))
    return sandbox


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", Path(text).name if "/" in text else text).strip("-")


@contextmanager
def _progress() -> Iterator[Callable[[str, int, int], None]]:
    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TimeElapsedColumn(), console=err_console, transient=True)
    tasks: dict[str, Any] = {}

    def update(phase: str, done: int, total: int) -> None:
        if phase not in tasks:
            tasks[phase] = bar.add_task(phase, total=total)
        bar.update(tasks[phase], completed=done, total=total)

    with bar:
        yield update


@eval_app.command("humaneval")
def humaneval_command(
    model: str | None = typer.Option(None, "--model", "-m",
                                     help="Model reference (smollm2, a .gguf, provider:model, "
                                          "replay:FILE)."),
    oracle: str | None = typer.Option(None, "--oracle",
                                      help="canonical (the dataset's solutions) or empty."),
    run_dir: Path | None = typer.Option(None, "--run-dir", "-o",
                                        help="Where results go (re-run to resume)."),
    prompt: str = typer.Option("chat", "--prompt", help="chat or completion."),
    samples: int = typer.Option(1, "--samples", "-n", min=1, help="Samples per problem."),
    temperature: float = typer.Option(0.0, "--temperature", min=0.0, help="0 is greedy."),
    max_tokens: int = typer.Option(512, "--max-tokens", min=1, help="Tokens per answer."),
    seed: int = typer.Option(0, "--seed", help="Base sampling seed."),
    limit: int | None = typer.Option(None, "--limit", min=1, help="Only the first N problems."),
    task: list[str] | None = typer.Option(None, "--task", help="Only these task ids (repeat)."),
    workers: int = typer.Option(2, "--workers", "-j", min=1, help="Parallel test runs."),
    timeout: float = typer.Option(10.0, "--timeout", min=0.1, help="Seconds per test run."),
    memory_mb: int = typer.Option(1024, "--memory-mb", min=16, help="Memory per test run."),
    batch: int = typer.Option(32, "--batch", min=1,
                              help="Sequences decoded together (local) or requests in flight."),
    device: str = typer.Option("auto", "--device", help="Local engine device: auto, cpu, cuda."),
    via_agent: bool = typer.Option(False, "--via-agent",
                                   help="Solve each problem with the agent instead of one call."),
    sandbox_backend: str | None = _SANDBOX_OPTION,
    as_json: bool = _JSON_OPTION,
) -> None:
    """Run HumanEval (164 problems) in the sandbox and report pass@k."""
    from evals.humaneval.execute import ExecConfig
    from evals.humaneval.generate import OracleGenerator, SamplingConfig
    from evals.humaneval.run import HumanEvalConfig, run_humaneval

    if (model is None) == (oracle is None):
        fail("give either --model REF or --oracle canonical|empty")
    if oracle is not None and oracle not in ("canonical", "empty"):
        fail(f"unknown oracle {oracle!r}; use canonical or empty")
    if via_agent and model is None:
        fail("--via-agent needs --model REF (the model the agent runs on)")
    if prompt not in ("chat", "completion"):
        fail(f"unknown prompt style {prompt!r}; use chat or completion")
    model_settings, sandbox_settings = _project_settings()
    sandbox = _sandbox(sandbox_settings, sandbox_backend)
    sampling = SamplingConfig(max_tokens=max_tokens, temperature=temperature, seed=seed)
    try:
        if oracle is not None:
            generator: Any = OracleGenerator(oracle)  # type: ignore[arg-type]
        elif via_agent:
            from evals.humaneval.agent_solve import AgentGenerator

            generator = AgentGenerator(model or "", _engram_settings())
        else:
            from evals.models import build_generator

            generator = build_generator(model or "", model_settings, prompt,  # type: ignore[arg-type]
                                        sampling, batch=batch, device=device)
        target = run_dir or Path("eval-runs") / f"humaneval-{_slug(generator.name)}"
        config = HumanEvalConfig(
            run_dir=target, model=generator.name, prompt_style=prompt, n_samples=samples,
            temperature=temperature, max_tokens=max_tokens, seed=seed,
            task_ids=tuple(task or ()), limit=limit,
            execution=ExecConfig(timeout_s=timeout, memory_mb=memory_mb, workers=workers))
        with _progress() as progress:
            summary = run_humaneval(config, generator, sandbox, progress)
    except EvalError as exc:
        fail(str(exc))
    _report(summary, config.run_dir, as_json)


@eval_app.command("swebench")
def swebench_command(
    dataset: str = typer.Option(..., "--dataset", "-d",
                                help="JSON/JSONL/parquet file, or a hub dataset name."),
    split: str = typer.Option("test", "--split", help="Split of a hub dataset."),
    model: str | None = typer.Option(None, "--model", "-m",
                                     help="Model the agent runs on (provider:model, replay:FILE)."),
    oracle: str | None = typer.Option(None, "--oracle", help="gold or empty."),
    predictions: Path | None = typer.Option(None, "--predictions",
                                            help="Evaluate this predictions file."),
    harness: str = typer.Option("local", "--harness",
                                help="local (sandbox), official (Docker) or none (predict only)."),
    repos_dir: Path | None = typer.Option(None, "--repos-dir",
                                          help="Folder of owner__name git repositories."),
    cache_dir: Path | None = typer.Option(None, "--cache-dir",
                                          help="Cached venvs and clones."),
    run_dir: Path | None = typer.Option(None, "--run-dir", "-o",
                                        help="Where results go (re-run to resume)."),
    instance: list[str] | None = typer.Option(None, "--instance", help="Only these ids."),
    limit: int | None = typer.Option(None, "--limit", min=1, help="Only the first N."),
    workers: int = typer.Option(1, "--workers", "-j", min=1, help="Instances at once."),
    ray_address: str | None = typer.Option(None, "--ray-address",
                                           help="Fan out over Ray (an address, or local)."),
    timeout: float = typer.Option(900.0, "--timeout", min=1.0, help="Seconds per test run."),
    max_steps: int = typer.Option(30, "--max-steps", min=1, help="Agent model calls per instance."),
    max_cost: float = typer.Option(2.0, "--max-cost", min=0.0, help="USD per instance (0: off)."),
    keep_workspaces: bool = typer.Option(False, "--keep-workspaces",
                                         help="Keep working copies for inspection."),
    sandbox_backend: str | None = _SANDBOX_OPTION,
    as_json: bool = _JSON_OPTION,
) -> None:
    """Run SWE-bench-style instances: the agent's patches, evaluated and reported."""
    from evals.swebench.run import SweConfig, run_swebench

    chosen = [x for x in (model, oracle, predictions) if x is not None]
    if len(chosen) != 1:
        fail("give exactly one of --model REF, --oracle gold|empty, --predictions FILE")
    if oracle is not None and oracle not in ("gold", "empty"):
        fail(f"unknown oracle {oracle!r}; use gold or empty")
    if harness not in ("local", "official", "none"):
        fail(f"unknown harness {harness!r}; use local, official or none")
    if repos_dir is not None and not repos_dir.is_dir():
        fail(f"--repos-dir {repos_dir} is not a folder")
    settings = _engram_settings()
    sandbox = _sandbox(settings.sandbox, sandbox_backend).settings
    name = oracle and f"oracle-{oracle}" or (model and _slug(model)) or "predictions"
    config_kwargs: dict[str, Any] = {}
    if cache_dir is not None:
        config_kwargs["cache_dir"] = cache_dir
    config = SweConfig(
        run_dir=run_dir or Path("eval-runs") / f"swebench-{_slug(Path(dataset).stem)}-{name}",
        dataset=dataset, split=split, instance_ids=tuple(instance or ()), limit=limit,
        oracle=oracle, predictions=predictions, harness=harness,  # type: ignore[arg-type]
        repos_dir=repos_dir, workers=workers, ray_address=ray_address, test_timeout_s=timeout,
        keep_workspaces=keep_workspaces, sandbox=sandbox, **config_kwargs)
    try:
        agent = _agent_setup(model, settings, max_steps, max_cost) if model else None
        with _progress() as progress:
            summary = run_swebench(config, agent, progress)
    except EvalError as exc:
        fail(str(exc))
    _report(summary, config.run_dir, as_json)


def _report(summary: Any, run_dir: Path, as_json: bool) -> None:
    from evals.report import print_summary

    if as_json:
        print_json(summary)
    else:
        print_summary(summary, console)
        console.print(f"results in {run_dir}")


def _engram_settings() -> Any:
    from agent.config import EngramSettings

    try:
        return load_settings(find_project_root("."))
    except (WorkspaceError, ConfigError):
        return EngramSettings()


def _agent_setup(ref: str, settings: Any, max_steps: int, max_cost: float) -> Any:
    from evals.swebench.run import AgentSetup
    from runtime.llm import LLMError, make_chat_model, parse_model_ref

    try:
        model_settings = parse_model_ref(ref, settings.model)
    except ValueError as exc:
        raise EvalError(str(exc)) from None
    name = f"{model_settings.provider}:{model_settings.model}"

    def build() -> Any:
        try:
            return make_chat_model(model_settings)
        except LLMError as exc:
            raise EvalError(str(exc)) from None

    if model_settings.provider == "replay":
        factory = build  # a script replays from its start for every instance
    else:
        shared = build()  # one model (one loaded engine) for every instance

        def factory() -> Any:
            return shared

    return AgentSetup(model_name=name, chat_model=factory, settings=settings,
                      max_steps=max_steps, max_cost_usd=max_cost)


@eval_app.command("report")
def report_command(
    run_dir: Path = typer.Argument(..., help="A run directory of engram eval."),
    chart: Path | None = typer.Option(None, "--chart", help="Where to write the PNG chart "
                                      "(default RUN_DIR/chart.png)."),
    as_json: bool = _JSON_OPTION,
) -> None:
    """Render a finished (or interrupted) run: table, JSON and a PNG chart."""
    from evals.report import load_summary, print_summary, write_chart

    try:
        summary = load_summary(run_dir)
        png = write_chart(summary, chart or run_dir / "chart.png")
    except EvalError as exc:
        fail(str(exc))
    if as_json:
        print_json(summary)
        return
    print_summary(summary, console)
    console.print(f"chart: {png}")
