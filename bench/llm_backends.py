"""The embedded planner's llama.cpp: xllamacpp (prebuilt wheel, what the project uses) against
llama-cpp-python 0.3.36 (built from source, what it used before), same GGUF, same prompts,
interleaved in one process.

    OMP_NUM_THREADS=1 python bench/llm_backends.py --threads 1 --repeats 3 --json out/llm_backends.json
    python bench/llm_backends.py --install        # fresh venvs, empty pip caches: install time of each

Per engine and repeat: model load time; one events-format plan request (the plan schema, seed 11,
temperature 0.8) with its tokens/s, whether the reply parses and is schema-valid, and whether the same
seed gives the same text again; the noisy-channel verb scores for three actions (all ten verbs), their
time, the chosen verb, and the largest score difference between the engines. llama-cpp-python is
optional: without it only xllamacpp is measured.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent.planner.backends.base import PlanRequest  # noqa: E402
from agent.planner.backends.llamacpp import LlamaCppBackend, packaged_model_path  # noqa: E402
from agent.planner.formats.plan import plan_json_schema  # noqa: E402
from agent.planner.formats.prompts import build_messages  # noqa: E402
from agent.planner.words.verbs import LABELS, PREFIX  # noqa: E402
from simulator.loader import load_scene  # noqa: E402
from simulator.world import World  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
ACTIONS = ("The ball vanishes.", "The mug becomes very heavy.", "Throw the ball.")
OLD = "llama-cpp-python==0.3.36"
OLD_CMAKE = "-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON"
NEW = "xllamacpp==2026.10.11549"


class LlamaCppPython:
    """The previous embedded backend's calls (llama-cpp-python's public API), for comparison only."""

    name = "llama-cpp-python"

    def __init__(self, path: Path, threads: int, seed: int):
        from llama_cpp import Llama

        self.path, self.threads, self.seed = path, threads, seed
        self.llm = Llama(model_path=str(path), n_ctx=4096, n_threads=threads, seed=seed, verbose=False)
        self.scorer = None

    def chat(self, request: PlanRequest) -> tuple[str, int, str]:
        from llama_cpp import LlamaGrammar

        grammar = LlamaGrammar.from_json_schema(json.dumps(request.schema), verbose=False)
        out = self.llm.create_chat_completion(messages=request.messages, grammar=grammar, max_tokens=request.max_tokens,
                                              temperature=request.temperature, seed=request.seed)
        choice = out["choices"][0]
        return choice["message"]["content"] or "", out["usage"]["completion_tokens"], choice["finish_reason"]

    def score(self, prefix: str, options) -> list[float]:
        import numpy as np
        from llama_cpp import Llama

        if self.scorer is None:
            self.scorer = Llama(model_path=str(self.path), n_ctx=1024, n_batch=1024, n_threads=self.threads,
                                seed=self.seed, logits_all=True, verbose=False)
        llm = self.scorer
        head = llm.tokenize(prefix.encode(), add_bos=True, special=False)
        out = []
        for context, continuation in options or [("", "")]:
            ctx = llm.tokenize(context.encode(), add_bos=False, special=False)
            cont = llm.tokenize(continuation.encode(), add_bos=False, special=False)
            gen = llm.generate(head + ctx + cont, top_k=1, temp=0.0, reset=True)
            next(gen)
            gen.close()
            first = len(head) + len(ctx) - 1
            rows = np.asarray(llm.scores[first: first + len(cont)], dtype=np.float64)
            peak = rows.max(axis=1, keepdims=True)
            log_z = (peak + np.log(np.exp(rows - peak).sum(axis=1, keepdims=True)))[:, 0]
            out.append(float(sum(rows[j, t] - log_z[j] for j, t in enumerate(cont))))
        return out if options else []

    def close(self) -> None:
        self.llm.close()
        if self.scorer is not None:
            self.scorer.close()


class XLlamaCpp:
    """The project's embedded backend (xllamacpp)."""

    name = "xllamacpp"

    def __init__(self, path: Path, threads: int, seed: int):
        self.backend = LlamaCppBackend(str(path), seed=seed, n_threads=threads)

    def chat(self, request: PlanRequest) -> tuple[str, int, str]:
        reply = self.backend.complete(request)
        return reply.text, reply.completion_tokens, reply.finish_reason

    def score(self, prefix: str, options) -> list[float]:
        return self.backend.score(prefix, options)

    def close(self) -> None:
        self.backend.close()


def plan_request() -> PlanRequest:
    world = World(load_scene(ROOT / "scenes" / "ball-off-table.yaml"))
    state = world.state()
    free = [e for e, spec in state.entities.items() if not spec.fixed]
    return PlanRequest(messages=build_messages(state, "Someone rolls the ball gently to the left.", []),
                       schema=plan_json_schema(list(state.entities), free), max_tokens=400, temperature=0.8, seed=11)


def schema_valid(text: str, schema: dict) -> bool:
    try:
        value = json.loads(text)
    except ValueError:
        return False
    try:
        import jsonschema
    except ImportError:
        return isinstance(value, dict)
    return jsonschema.Draft202012Validator(schema).is_valid(value)


def run_engine(cls, path: Path, threads: int, request: PlanRequest) -> dict:
    row: dict = {"engine": cls.name}
    start = time.perf_counter()
    engine = cls(path, threads, 0)
    row["load_s"] = time.perf_counter() - start
    try:
        start = time.perf_counter()
        text, tokens, finish = engine.chat(request)
        seconds = time.perf_counter() - start
        again, _, _ = engine.chat(request)
        row.update(plan_s=seconds, plan_tokens=tokens, tokens_per_s=tokens / seconds, finish=finish,
                   schema_valid=schema_valid(text, request.schema), same_seed_same_text=again == text, text=text)
        start = time.perf_counter()
        engine.score(PREFIX, [])
        row["score_warmup_s"] = time.perf_counter() - start
        row["scores"] = {}
        for action in ACTIONS:
            options = [(f"Verb: {LABELS[v]}\nAction:", " " + action) for v in LABELS]
            start = time.perf_counter()
            scores = engine.score(PREFIX, options)
            row["scores"][action] = {"s": time.perf_counter() - start, "verb": max(zip(scores, LABELS))[1],
                                     "scores": dict(zip(LABELS, scores))}
    finally:
        engine.close()
    return row


def install(spec: str, env: dict) -> float:
    """Seconds to pip install `spec` into a fresh venv with an empty pip cache."""
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "venv", f"{tmp}/venv"], check=True)
        env = {**os.environ, **env, "PIP_CACHE_DIR": f"{tmp}/cache"}
        start = time.perf_counter()
        subprocess.run([f"{tmp}/venv/bin/pip", "install", "-q", "--disable-pip-version-check", spec], check=True,
                       env=env)
        return time.perf_counter() - start


def show(row: dict) -> None:
    brief = {k: (round(v, 3) if isinstance(v, float) else v) for k, v in row.items() if k not in ("text", "scores")}
    brief.update({a: (round(s["s"], 2), s["verb"]) for a, s in row.get("scores", {}).items()})
    print(json.dumps(brief), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--install", action="store_true", help="time a fresh install of each engine instead")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    if args.install:
        rows = [{"engine": "xllamacpp", "install_s": install(NEW, {})},
                {"engine": "llama-cpp-python", "install_s": install(OLD, {"CMAKE_ARGS": OLD_CMAKE,
                                                                          "CMAKE_BUILD_PARALLEL_LEVEL": "2"})}]
    else:
        engines = [XLlamaCpp]
        try:
            import llama_cpp  # noqa: F401

            engines.append(LlamaCppPython)
        except ImportError:
            print("llama-cpp-python is not installed: measuring xllamacpp only", file=sys.stderr)
        path, request = packaged_model_path(), plan_request()
        rows = []
        for _ in range(args.repeats):
            for cls in engines:
                rows.append(run_engine(cls, path, args.threads, request))
                show(rows[-1])
    if args.install:
        for row in rows:
            show(row)
    if len({r["engine"] for r in rows if "scores" in r}) == 2:
        a, b = (next(r for r in rows if r["engine"] == e) for e in ("xllamacpp", "llama-cpp-python"))
        diff = max(abs(a["scores"][x]["scores"][v] - b["scores"][x]["scores"][v]) for x in ACTIONS for v in LABELS)
        print(json.dumps({"max_score_difference": round(diff, 3),
                          "same_verbs": all(a["scores"][x]["verb"] == b["scores"][x]["verb"] for x in ACTIONS)}))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
