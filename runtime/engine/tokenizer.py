"""Tokenizers from a Hugging Face folder (tokenizer.json) or from GGUF metadata (BPE vocab/merges)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, pre_tokenizers, processors

from runtime.engine.errors import ModelLoadError, UnsupportedModelError

# Pre-tokenizer split patterns of byte-level BPE families, keyed by GGUF ``tokenizer.ggml.pre``.
_LLAMA3_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
_QWEN2_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
_SPLIT_PATTERNS = {"llama-bpe": _LLAMA3_PATTERN, "llama3": _LLAMA3_PATTERN, "qwen2": _QWEN2_PATTERN}
_GPT2_STYLE = {"default", "gpt2", "smollm", "starcoder", "refact", "gpt-2"}
SUPPORTED_GGUF_PRETOKENIZERS = tuple(sorted(_GPT2_STYLE | set(_SPLIT_PATTERNS)))
# Tokens that end a turn in common chat templates; treated as end-of-sequence when present.
_END_OF_TURN = ("<|im_end|>", "<|eot_id|>", "<|end_of_text|>", "<|endoftext|>", "<|end|>", "</s>")
_CONTROL, _USER_DEFINED = 3, 4


@dataclass
class EngineTokenizer:
    """A ``tokenizers.Tokenizer`` plus the special tokens generation needs."""

    tokenizer: Tokenizer
    bos_token: str | None = None
    eos_token: str | None = None
    eos_token_ids: set[int] = field(default_factory=set)

    def encode(self, text: str, add_special_tokens: bool = True) -> list[int]:
        return self.tokenizer.encode(text, add_special_tokens=add_special_tokens).ids

    def decode(self, ids: list[int], skip_special_tokens: bool = True) -> str:
        return self.tokenizer.decode(ids, skip_special_tokens=skip_special_tokens)

    def token_id(self, token: str) -> int | None:
        return self.tokenizer.token_to_id(token)

    def add_end_of_turn_ids(self) -> None:
        """Stop on the turn-ending tokens of chat templates as well as the declared EOS."""
        for tok in _END_OF_TURN:
            tid = self.tokenizer.token_to_id(tok)
            if tid is not None:
                self.eos_token_ids.add(tid)


def _token_text(value: Any) -> str | None:
    if isinstance(value, dict):
        return value.get("content")
    return value if isinstance(value, str) else None


def tokenizer_from_folder(folder: Path, eos_ids: tuple[int, ...]) -> tuple[EngineTokenizer, str | None]:
    """Load tokenizer.json and tokenizer_config.json; returns the tokenizer and the chat template."""
    path = folder / "tokenizer.json"
    if not path.is_file():
        raise ModelLoadError(f"{folder}: no tokenizer.json (the engine needs the fast-tokenizer file)")
    try:
        tok = Tokenizer.from_file(str(path))
    except Exception as exc:  # tokenizers raises plain Exception subclasses
        raise ModelLoadError(f"{path}: cannot be read: {exc}") from None
    cfg: dict[str, Any] = {}
    cfg_path = folder / "tokenizer_config.json"
    if cfg_path.is_file():
        try:
            cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ModelLoadError(f"{cfg_path}: not valid JSON: {exc}") from None
    template = cfg.get("chat_template")
    if isinstance(template, list):  # named templates: take the default one
        template = next((t.get("template") for t in template if t.get("name") == "default"), None)
    jinja_path = folder / "chat_template.jinja"
    if template is None and jinja_path.is_file():
        template = jinja_path.read_text(encoding="utf-8")
    eos_token = _token_text(cfg.get("eos_token"))
    eos = set(eos_ids)
    if eos_token and tok.token_to_id(eos_token) is not None:
        eos.add(tok.token_to_id(eos_token))
    engine_tok = EngineTokenizer(tok, _token_text(cfg.get("bos_token")), eos_token, eos)
    engine_tok.add_end_of_turn_ids()
    return engine_tok, template


def tokenizer_from_gguf(meta: dict[str, Any]) -> EngineTokenizer:
    """Build a byte-level BPE tokenizer from GGUF ``tokenizer.ggml.*`` metadata."""
    kind = meta.get("tokenizer.ggml.model")
    if kind != "gpt2":
        raise UnsupportedModelError(
            f"GGUF tokenizer model {kind!r} is not supported; supported: gpt2 (byte-level BPE)"
        )
    tokens: list[str] = list(meta["tokenizer.ggml.tokens"])
    merges = [tuple(m.split(" ", 1)) for m in meta.get("tokenizer.ggml.merges", [])]
    types: list[int] = list(meta.get("tokenizer.ggml.token_type", [1] * len(tokens)))
    vocab = {t: i for i, t in enumerate(tokens)}
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges, fuse_unk=False, byte_fallback=False))
    pre = str(meta.get("tokenizer.ggml.pre", "default"))
    if pre in _SPLIT_PATTERNS:
        tok.pre_tokenizer = pre_tokenizers.Sequence([
            pre_tokenizers.Split(Regex(_SPLIT_PATTERNS[pre]), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ])
    elif pre in _GPT2_STYLE:
        steps = [pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)]
        if pre in ("smollm", "starcoder", "refact"):
            steps.insert(0, pre_tokenizers.Digits(individual_digits=True))
        tok.pre_tokenizer = pre_tokenizers.Sequence(steps)
    else:
        raise UnsupportedModelError(
            f"GGUF pre-tokenizer {pre!r} is not supported; supported: {', '.join(SUPPORTED_GGUF_PRETOKENIZERS)}"
        )
    tok.decoder = decoders.ByteLevel()
    specials = [
        AddedToken(tokens[i], special=types[i] == _CONTROL, normalized=False)
        for i in range(len(tokens)) if types[i] in (_CONTROL, _USER_DEFINED)
    ]
    tok.add_tokens(specials)

    def special(name: str) -> tuple[int | None, str | None]:
        tid = meta.get(f"tokenizer.ggml.{name}_token_id")
        return (int(tid), tokens[int(tid)]) if tid is not None and int(tid) < len(tokens) else (None, None)

    bos_id, bos = special("bos")
    eos_id, eos = special("eos")
    if meta.get("tokenizer.ggml.add_bos_token", False) and bos is not None:
        tok.post_processor = processors.TemplateProcessing(
            single=f"{bos} $A", pair=f"{bos} $A {bos} $B", special_tokens=[(bos, bos_id)]
        )
    engine_tok = EngineTokenizer(tok, bos, eos, {eos_id} if eos_id is not None else set())
    engine_tok.add_end_of_turn_ids()
    return engine_tok
