"""``engram model ...``: pull, list, serve and try local models on the built-in engine."""

from __future__ import annotations

import sys

import typer

from tui.commands.common import console, fail, print_json

model_app = typer.Typer(help="Local models on Engram's own engine: pull, list, serve, generate.",
                        no_args_is_help=True)


def _settings(device: str, dtype: str, max_model_len: int | None, kv_cache_tokens: int | None,
              **kv: object):
    from runtime.engine.settings import EngineSettings

    try:
        return EngineSettings(device=device, dtype=dtype, max_model_len=max_model_len, kv_cache_tokens=kv_cache_tokens,
                              **{k: v for k, v in kv.items() if v is not None})
    except ValueError as exc:
        if hasattr(exc, "errors") and exc.errors():
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err.get("loc", ()))
            fail(f"invalid engine option{f' {where}' if where else ''}: {err['msg']}")
        fail(f"invalid engine option: {exc}")


_DEVICE = typer.Option("auto", "--device", help="auto, cpu, cuda or cuda:N.")
_DTYPE = typer.Option("auto", "--dtype", help="auto, float32, bfloat16 or float16.")
_MAX_LEN = typer.Option(None, "--max-model-len", help="Cap the context window (tokens).")
_KV = typer.Option(None, "--kv-cache-tokens", help="KV cache capacity in tokens (the host tier's when offloading).")
_KV_DTYPE = typer.Option("auto", "--kv-dtype",
                         help="KV storage: auto (the model's dtype), bf16, or fp8 (e4m3 residuals with scales).")
_KV_OFFLOAD = typer.Option("none", "--kv-offload",
                           help="Where KV blocks live: none (all on the device), cpu (host RAM, GPU caches the blocks "
                                "in use) or disk (memory-mapped files).")
_SPARSE = typer.Option(2048, "--sparse-budget", help="Tokens each query attends to in long contexts; 0: dense.")
_GPU_KV = typer.Option(None, "--gpu-kv-gib", help="GPU memory for KV in GiB (the GPU tier when offloading).")


@model_app.command("pull")
def pull_cmd(name: str = typer.Argument(..., help="smollm2, or hf:ORG/NAME for a Hugging Face repository.")) -> None:
    """Download a model into the local model cache."""
    from runtime.engine.errors import EngineError
    from tui.commands.model_cmds import pull_with_progress

    try:
        path = pull_with_progress(name)
    except EngineError as exc:
        fail(str(exc))
    console.print(f"pulled [bold]{name}[/] -> {path}", highlight=False)


@model_app.command("list")
def list_cmd(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Show the models in the local cache."""
    from runtime.engine.pull import list_models, models_dir

    found = list_models()
    if as_json:
        print_json([{"name": m.name, "path": str(m.path), "size_bytes": m.size_bytes, "kind": m.kind} for m in found])
        return
    if not found:
        console.print(f"no models in {models_dir()}; try `engram model pull smollm2`", highlight=False)
        return
    for m in found:
        console.print(f"{m.name:<32} {m.kind:<5} {m.size_bytes / 1e6:>9.1f} MB  {m.path}", highlight=False, soft_wrap=True)


@model_app.command("serve")
def serve_cmd(
    model: str = typer.Argument(..., help="GGUF file, Hugging Face folder, or pulled model name."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", help="Port to listen on."),
    device: str = _DEVICE, dtype: str = _DTYPE, max_model_len: int | None = _MAX_LEN,
    kv_cache_tokens: int | None = _KV, kv_dtype: str = _KV_DTYPE, kv_offload: str = _KV_OFFLOAD,
    sparse_budget: int = _SPARSE, gpu_kv_gib: float | None = _GPU_KV,
) -> None:
    """Serve MODEL as an OpenAI-compatible API (/v1/chat/completions, /v1/completions, /health, /metrics)."""
    from runtime.engine.errors import EngineError
    from runtime.engine.server import serve

    settings = _settings(device, dtype, max_model_len, kv_cache_tokens, kv_dtype=kv_dtype, kv_offload=kv_offload,
                         sparse_budget=sparse_budget, gpu_kv_gib=gpu_kv_gib)
    try:
        console.print(f"loading {model}; serving on http://{host}:{port}/v1", highlight=False)
        serve(model, host=host, port=port, settings=settings)
    except EngineError as exc:
        fail(str(exc))


@model_app.command("generate")
def generate_cmd(
    model: str = typer.Argument(..., help="GGUF file, Hugging Face folder, or pulled model name."),
    prompt: str = typer.Argument(..., help="The prompt."),
    chat: bool = typer.Option(True, "--chat/--raw", help="Wrap PROMPT in the chat template, or complete it as is."),
    max_tokens: int = typer.Option(256, "--max-tokens", min=1),
    temperature: float = typer.Option(0.0, "--temperature", min=0.0),
    seed: int | None = typer.Option(None, "--seed"),
    device: str = _DEVICE, dtype: str = _DTYPE, max_model_len: int | None = _MAX_LEN,
    kv_cache_tokens: int | None = _KV, kv_dtype: str = _KV_DTYPE, kv_offload: str = _KV_OFFLOAD,
    sparse_budget: int = _SPARSE, gpu_kv_gib: float | None = _GPU_KV,
) -> None:
    """Run one prompt through MODEL and stream the answer to stdout."""
    from runtime.engine.engine import Engine
    from runtime.engine.errors import EngineError
    from runtime.engine.sampling import SamplingParams

    settings = _settings(device, dtype, max_model_len, kv_cache_tokens, kv_dtype=kv_dtype, kv_offload=kv_offload,
                         sparse_budget=sparse_budget, gpu_kv_gib=gpu_kv_gib)
    try:
        engine = Engine.load(model, settings)
        text = engine.chat_template.render([{"role": "user", "content": prompt}]) if chat else prompt
        ids = engine.tokenizer.encode(text, add_special_tokens=not chat)
        rid = engine.add_request(ids, SamplingParams(max_tokens=max_tokens, temperature=temperature, seed=seed))
        while engine.has_unfinished():
            for out in engine.step():
                if out.request_id == rid:
                    sys.stdout.write(out.text)
                    sys.stdout.flush()
                    if out.error:
                        fail(out.error)
    except EngineError as exc:
        fail(str(exc))
    sys.stdout.write("\n")


def register(app: typer.Typer) -> None:
    """Add the ``model`` group to ``app``."""
    app.add_typer(model_app, name="model")
