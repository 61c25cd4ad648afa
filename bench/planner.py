"""Planner benchmark: 20 fixed actions over the shipped scenes.

Reports the intent-match rate (does the plan do what the action asks? see bench/intent.py), plan
latency (median, p90), tokens/s, schema-valid rate, validation-pass rate, repairs, and the share
of turn time spent outside the model call (goal: <= 5 % and <= 20 ms).

    OMP_NUM_THREADS=1 CALLOSUM_LLAMA_THREADS=2 python bench/planner.py [--model gemma3-270m] [--prompt v1] [-v]
    python bench/planner.py --planner openai --base-url http://HOST:8000/v1 --model MODEL

Several OpenAI-compatible servers in one run (e.g. llama.cpp and vLLM serving the same model), on the
same actions and seeds, interleaved action by action, ending with a markdown table of all:

    python bench/planner.py --server llamacpp=http://127.0.0.1:8080/v1=json_object \
                            --server vllm=http://127.0.0.1:8001/v1=json_schema

(``NAME=URL[=STRUCTURED]``; the model is the one each server lists first unless --model is given).
Schema-valid means the raw reply validates against the JSON Schema the request carried (with the
``jsonschema`` package when installed, else against TurnPlan, which is that schema for event plans).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agent.planner.backends import Backend, make_backend  # noqa: E402
from agent.planner.formats.plan import TurnPlan  # noqa: E402
from agent.planner.planner import DEFAULT_TEMPERATURE, Planner  # noqa: E402
from agent.planner.formats.prompts import PROMPT_VERSION, PROMPTS  # noqa: E402
from bench.intent import EXPECT  # noqa: E402
from simulator.loader import load_scene  # noqa: E402
from simulator.world import World  # noqa: E402
from bench.stats import percentile  # noqa: E402

ACTIONS = [
    ("ball-off-table", "Someone flicks the ball toward the edge."),
    ("ball-off-table", "The red ball turns blue."),
    ("ball-off-table", "A small wooden cube is placed on the table next to the ball."),
    ("ball-off-table", "Someone removes the ball from the table."),
    ("box-drop", "A cardboard box drops onto the table."),
    ("box-drop", "Someone slides the mug off the table."),
    ("box-drop", "The mug becomes very heavy."),
    ("tower-knockover", "A child pushes the top block to the left."),
    ("tower-knockover", "A rubber ball is thrown at the middle of the tower."),
    ("tower-knockover", "The bottom block is painted red."),
    ("bowling", "The bowler releases the ball down the lane."),
    ("bowling", "A gust of wind knocks over the first pin."),
    ("bowling", "The ball is rolled gently toward the pins."),
    ("domino-chain", "The finger lets go of the first domino."),
    ("domino-chain", "Someone flicks the first domino forward."),
    ("domino-chain", "The last domino is removed."),
    ("apple-from-branch", "The apple's stem snaps and it falls."),
    ("apple-from-branch", "A bird knocks the apple sideways."),
    ("apple-from-branch", "The apple turns green."),
    ("apple-from-branch", "Nothing happens; the wind is calm."),
]



class Recorder(Backend):
    """Passes every call to the real backend and keeps (schema, raw reply) for the schema check."""

    def __init__(self, inner: Backend):
        self.inner, self.calls = inner, []
        self.name, self.model, self.seed = inner.name, inner.model, inner.seed
        self.can_score = getattr(inner, "can_score", False)

    def complete(self, request):
        reply = self.inner.complete(request)
        self.calls.append((request.schema, reply.text))
        self.model = self.inner.model
        return reply

    def score(self, prefix, options):
        return self.inner.score(prefix, options)

    def close(self) -> None:
        self.inner.close()


def schema_check():
    """(name, check(schema, raw) -> bool): jsonschema when installed, else TurnPlan validation."""
    try:
        import jsonschema
    except ImportError:
        def turnplan(schema, raw):
            try:
                TurnPlan.model_validate_json(raw)
                return True
            except ValueError:
                return False

        return "TurnPlan", turnplan

    def full(schema, raw):
        try:
            jsonschema.validate(json.loads(raw), schema)
            return True
        except (ValueError, jsonschema.ValidationError):
            return False

    return "jsonschema", full


def parse_server(spec: str) -> tuple[str, str, str]:
    """NAME=URL[=STRUCTURED] -> (name, url, structured)."""
    parts = spec.split("=", 2)
    if len(parts) < 2 or not parts[0] or not parts[1].startswith("http"):
        raise SystemExit(f"--server {spec!r}: expected NAME=URL[=STRUCTURED], e.g. vllm=http://127.0.0.1:8001/v1")
    return parts[0], parts[1], parts[2] if len(parts) == 3 else "auto"


def run_actions(planners: dict[str, Planner], limit: int, verbose: bool) -> dict[str, tuple[list[dict], int, float]]:
    """Plan every action on a fresh world with each planner in turn (interleaved, so a change in the
    machine's load hits every planner alike); per planner: (records, plans applied, seconds spent)."""
    results = {label: ([], 0, 0.0) for label in planners}
    for i, (scene_name, action) in enumerate(ACTIONS[:limit]):
        for label, planner in planners.items():
            records, applied_ok, spent = results[label]
            started = time.perf_counter()
            world = World(load_scene(ROOT / "scenes" / f"{scene_name}.yaml"))
            state = world.state()
            outcome = planner.plan_turn(state, action, [])
            world.apply(outcome.plan.events)  # raises if a validated plan could not apply
            r = outcome.record.model_dump(mode="json")
            events = r["plan"]["events"]
            r["intent_match"] = not r["fell_back"] and EXPECT[action].matches(events, state)
            records.append(r)
            results[label] = (records, applied_ok + 1, spent + time.perf_counter() - started)
            print(f"{i + 1:2d} {label[:10]:10s} {scene_name:18s} {r['latency_s']:6.2f}s attempts={len(r['attempts'])} "
                  f"fell_back={r['fell_back']!s:5s} intent={'ok ' if r['intent_match'] else 'NO '}"
                  f"events={[e['type'] for e in events]} | {action}", flush=True)
            if verbose:
                print(f"     expected: {EXPECT[action].text}\n"
                      f"     narration: {r['plan']['narration']}")
                for e in events:
                    e = {k: v for k, v in e.items() if v is not None}
                    print(f"     event: {json.dumps(e, separators=(',', ':'))[:200]}")
    return results


def summarize(label: str, recorder: Recorder, args, records: list[dict], applied_ok: int, wall: float) -> dict:
    attempts = [a for r in records for a in r["attempts"]]
    lat = [r["latency_s"] for r in records]
    model_s = sum(r["model_s"] for r in records)
    overhead = [r["overhead_s"] for r in records]
    tokens = sum(r["tokens"]["completion"] for r in records)
    check_name, check = schema_check()
    valid = [check(schema, raw) for schema, raw in recorder.calls]
    return {
        "planner": label,
        "model": recorder.model,
        "plan_format": records[0].get("plan_format", "events") if records else None,
        "prompt_version": args.prompt,
        "temperature": args.temperature,
        "turns": len(records),
        "model_calls": len(recorder.calls),
        "intent_match_rate": round(sum(r["intent_match"] for r in records) / len(records), 3),
        "latency_median_s": round(statistics.median(lat), 3),
        "latency_p90_s": round(percentile(lat, 90), 3),
        "tokens_per_s": round(tokens / model_s, 1) if model_s else None,
        "schema_valid_rate": round(sum(valid) / len(valid), 3) if valid else None,
        "schema_check": check_name,
        "first_attempt_pass_rate": round(sum(not r["attempts"][0]["issues"] for r in records if r["attempts"])
                                         / len(records), 3),
        "validation_pass_rate": round(sum(not r["fell_back"] for r in records) / len(records), 3),
        "turns_with_repairs": sum(bool(r["repairs"]) for r in records),
        "attempts_per_turn": round(len(attempts) / len(records), 2),
        "turns_with_events": sum(bool(r["plan"]["events"]) for r in records),
        "applied_without_error": applied_ok,
        "overhead_share": round(sum(overhead) / sum(lat), 4),
        "overhead_median_ms": round(1000 * statistics.median(overhead), 2),
        "overhead_max_ms": round(1000 * max(overhead), 2),
        "wall_s": round(wall, 1),  # this planner's share of the run (worlds, plans, applying)
    }


def markdown_table(summaries: list[dict]) -> str:
    """Servers side by side: the figures docs/benchmarks.md reports."""
    pct = lambda v: "n/a" if v is None else f"{100 * v:.0f} %"
    rows = [("model", lambda s: f"`{s['model']}`"),
            ("plan latency median / p90", lambda s: f"{s['latency_median_s']:.2f} s / {s['latency_p90_s']:.2f} s"),
            ("tokens/s (constrained decoding)", lambda s: f"{s['tokens_per_s']}"),
            ("schema-valid replies", lambda s: f"{pct(s['schema_valid_rate'])} of {s['model_calls']}"),
            ("validation pass / first-attempt pass", lambda s: f"{pct(s['validation_pass_rate'])} / "
                                                               f"{pct(s['first_attempt_pass_rate'])}"),
            ("intent match", lambda s: f"{pct(s['intent_match_rate'])} ({round(s['intent_match_rate'] * s['turns'])}"
                                       f" / {s['turns']})"),
            ("wall time", lambda s: f"{s['wall_s']:.1f} s")]
    lines = ["| | " + " | ".join(s["planner"] for s in summaries) + " |",
             "|---|" + "---|" * len(summaries)]
    lines += [f"| {name} | " + " | ".join(fmt(s) for s in summaries) + " |" for name, fmt in rows]
    return "\n".join(lines)


def bench(backends: dict[str, Backend], args) -> list[tuple[dict, list[dict]]]:
    """Run the actions on every backend (interleaved); per backend, its summary and records."""
    extra = {"plan_format": args.plan_format} if args.plan_format else {}
    recorders = {label: Recorder(b) for label, b in backends.items()}
    planners = {label: Planner(r, max_retries=args.max_retries, prompt_version=args.prompt,
                               temperature=args.temperature, **extra) for label, r in recorders.items()}
    try:
        results = run_actions(planners, args.limit, args.verbose)
    finally:
        for r in recorders.values():
            r.close()
    out = []
    for label, (records, applied_ok, spent) in results.items():
        summary = summarize(label, recorders[label], args, records, applied_ok, spent)
        print(json.dumps(summary, indent=2), flush=True)
        out.append((summary, records))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--planner", default="llamacpp")
    ap.add_argument("--base-url")
    ap.add_argument("--model")
    ap.add_argument("--api-key")
    ap.add_argument("--server", action="append", default=[], metavar="NAME=URL[=STRUCTURED]",
                    help="an OpenAI-compatible server to bench (repeat to compare; replaces --planner)")
    ap.add_argument("--limit", type=int, default=len(ACTIONS))
    ap.add_argument("--max-retries", type=int, default=2)
    ap.add_argument("--prompt", choices=sorted(PROMPTS), default=PROMPT_VERSION)
    ap.add_argument("--plan-format", help="the planner's plan format (default: the planner's own)")
    ap.add_argument("--temperature", type=float, default=DEFAULT_TEMPERATURE)
    ap.add_argument("--json", type=Path, help="also write every record here")
    ap.add_argument("-v", "--verbose", action="store_true", help="per action: expectation, events, narration")
    args = ap.parse_args()

    if args.server:
        servers = [parse_server(spec) for spec in args.server]
        backends = {}
        for name, url, structured in servers:
            print(f"== {name}: {url} (structured {structured})", flush=True)
            backends[name] = make_backend("openai", base_url=url, model=args.model, api_key=args.api_key, seed=0,
                                          structured=structured)
        runs = bench(backends, args)
        print(markdown_table([summary for summary, _ in runs]))
        out = [{"summary": s, "url": url, "structured": mode, "records": r}
               for (s, r), (_, url, mode) in zip(runs, servers)]
    else:
        backend = make_backend(args.planner, base_url=args.base_url, model=args.model, api_key=args.api_key, seed=0)
        [(summary, records)] = bench({args.planner: backend}, args)
        out = {"summary": summary, "records": records}
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
