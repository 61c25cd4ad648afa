"""Planner benchmark: 20 fixed actions over the shipped scenes.

Reports the intent-match rate (does the plan do what the action asks? see bench/intent.py), plan
latency (median, p90), tokens/s, schema-valid rate, validation-pass rate, repairs, and the share
of turn time spent outside the model call (goal: <= 5 % and <= 20 ms).

    OMP_NUM_THREADS=1 CALLOSUM_LLAMA_THREADS=2 python bench/planner.py [--model gemma3-270m] [--prompt v1] [-v]
    python bench/planner.py --planner openai --base-url http://HOST:8000/v1 --model MODEL
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

from agent.planner.backends import make_backend  # noqa: E402
from agent.planner.plan import TurnPlan  # noqa: E402
from agent.planner.planner import DEFAULT_TEMPERATURE, Planner  # noqa: E402
from agent.planner.prompts import PROMPT_VERSION, PROMPTS  # noqa: E402
from bench.intent import EXPECT  # noqa: E402
from simulator.loader import load_scene  # noqa: E402
from simulator.world import World  # noqa: E402

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


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def schema_valid(raw: str) -> bool:
    try:
        TurnPlan.model_validate_json(raw)
        return True
    except ValueError:
        return False


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--planner", default="llamacpp")
    ap.add_argument("--base-url")
    ap.add_argument("--model")
    ap.add_argument("--api-key")
    ap.add_argument("--limit", type=int, default=len(ACTIONS))
    ap.add_argument("--max-retries", type=int, default=2)
    ap.add_argument("--prompt", choices=sorted(PROMPTS), default=PROMPT_VERSION)
    ap.add_argument("--temperature", type=float, default=DEFAULT_TEMPERATURE)
    ap.add_argument("--json", type=Path, help="also write every record here")
    ap.add_argument("-v", "--verbose", action="store_true", help="per action: expectation, events, narration")
    args = ap.parse_args()

    backend = make_backend(args.planner, base_url=args.base_url, model=args.model, api_key=args.api_key, seed=0)
    planner = Planner(backend, max_retries=args.max_retries, prompt_version=args.prompt, temperature=args.temperature)
    records, applied_ok, matched = [], 0, 0
    started = time.perf_counter()
    for i, (scene_name, action) in enumerate(ACTIONS[: args.limit]):
        world = World(load_scene(ROOT / "scenes" / f"{scene_name}.yaml"))
        state = world.state()
        outcome = planner.plan_turn(state, action, [])
        world.apply(outcome.plan.events)  # raises if a validated plan could not apply
        applied_ok += 1
        r = outcome.record
        events = r["plan"]["events"]
        r["intent_match"] = not r["fell_back"] and EXPECT[action].matches(events, state)
        matched += r["intent_match"]
        records.append(r)
        print(f"{i + 1:2d} {scene_name:18s} {r['latency_s']:6.2f}s attempts={len(r['attempts'])} "
              f"fell_back={r['fell_back']!s:5s} intent={'ok ' if r['intent_match'] else 'NO '}"
              f"events={[e['type'] for e in events]} | {action}", flush=True)
        if args.verbose:
            print(f"     expected: {EXPECT[action].text}\n"
                  f"     narration: {r['plan']['narration']}")
            for e in events:
                e = {k: v for k, v in e.items() if v is not None}
                print(f"     event: {json.dumps(e, separators=(',', ':'))[:200]}")
    wall = time.perf_counter() - started

    attempts = [a for r in records for a in r["attempts"]]
    lat = [r["latency_s"] for r in records]
    model_s = sum(r["model_s"] for r in records)
    overhead = [r["overhead_s"] for r in records]
    tokens = sum(r["tokens"]["completion"] for r in records)
    summary = {
        "planner": args.planner,
        "model": backend.model,
        "prompt_version": args.prompt,
        "temperature": args.temperature,
        "turns": len(records),
        "intent_match_rate": round(matched / len(records), 3),
        "latency_median_s": round(statistics.median(lat), 3),
        "latency_p90_s": round(percentile(lat, 0.9), 3),
        "tokens_per_s": round(tokens / model_s, 1) if model_s else None,
        "schema_valid_rate": round(sum(schema_valid(a["raw"]) for a in attempts) / len(attempts), 3),
        "first_attempt_pass_rate": round(sum(not r["attempts"][0]["issues"] for r in records) / len(records), 3),
        "validation_pass_rate": round(sum(not r["fell_back"] for r in records) / len(records), 3),
        "turns_with_repairs": sum(bool(r["repairs"]) for r in records),
        "attempts_per_turn": round(len(attempts) / len(records), 2),
        "turns_with_events": sum(bool(r["plan"]["events"]) for r in records),
        "applied_without_error": applied_ok,
        "overhead_share": round(sum(overhead) / sum(lat), 4),
        "overhead_median_ms": round(1000 * statistics.median(overhead), 2),
        "overhead_max_ms": round(1000 * max(overhead), 2),
        "wall_s": round(wall, 1),
    }
    print(json.dumps(summary, indent=2))
    if args.json:
        args.json.write_text(json.dumps({"summary": summary, "records": records}, indent=1))
    backend.close()


if __name__ == "__main__":
    main()
