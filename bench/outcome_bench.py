"""Outcome bench: actions judged by what the simulated world does, not by the events planned.

Each case (bench/outcome/cases.yaml, and the held-out bench/outcome/heldout.yaml written before
tuning) names a scene, an action, a category and ``expect``: predicates over the simulated states
(bench/outcome/checks.py). The bench plans the action on a fresh world (after the case's
``setup`` events, if any), applies the plan to a real MuJoCo world, simulates ``seconds``
(2.5 s by default), reconciles the narration, and judges:

- outcome match: every predicate holds;
- harmful misread: an event acted on a body no predicate names or used a kind no predicate asks
  for (refusals and questions allow none);
- honest refusal: a case that must be refused changed nothing and said why;
- plan latency (median, p90) and imagined rollouts per plan (the record's ``imagined_rollouts``).

    OMP_NUM_THREADS=1 CALLOSUM_LLAMA_THREADS=2 python bench/outcome_bench.py            # main set
    OMP_NUM_THREADS=1 CALLOSUM_LLAMA_THREADS=2 python bench/outcome_bench.py --set heldout
    python bench/outcome_bench.py --scoring off --set all --json /tmp/outcome.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections import defaultdict
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agent.planner.backends import make_backend  # noqa: E402
from agent.planner.narration.reconcile import reconcile  # noqa: E402
from agent.planner.planner import Planner  # noqa: E402
from bench.outcome.checks import Run, check, harm  # noqa: E402
from agent.planner.cerebellum.imagination import Imagination  # noqa: E402
from simulator.imagine import Imaginer  # noqa: E402
from simulator.loader import load_scene  # noqa: E402
from simulator.scene import Scene  # noqa: E402
from simulator.world import World  # noqa: E402
from pydantic import TypeAdapter  # noqa: E402

from simulator.scene import Event  # noqa: E402
from bench.stats import percentile  # noqa: E402

FPS = 24
SECONDS = 2.5
SETS = {"main": [ROOT / "bench/outcome/cases.yaml"], "heldout": [ROOT / "bench/outcome/heldout.yaml"]}
SETS["all"] = SETS["main"] + SETS["heldout"]
_EVENTS = TypeAdapter(list[Event])


def load_cases(paths: list[Path]) -> list[dict]:
    out = []
    for path in paths:
        data = yaml.safe_load(path.read_text())
        for case in data["cases"]:
            case.setdefault("set", path.stem)
            case["expect"] = _on_key(case["expect"])
            out.append(case)
    return out


def _on_key(expect: dict) -> dict:
    """YAML 1.1 reads bare `on:` / `off:` keys as True / False; the checks call them "on" / "off"."""
    names = {True: "on", False: "off"}
    out = {names.get(k, k) if isinstance(k, bool) else k: v for k, v in expect.items()}
    if isinstance(out.get("new"), dict):
        out["new"] = {names.get(k, k) if isinstance(k, bool) else k: v for k, v in out["new"].items()}
    return out


def scene_for(name: str) -> Scene:
    for folder in (ROOT / "scenes", ROOT / "bench/outcome/scenes"):
        if (folder / f"{name}.yaml").exists():
            return load_scene(folder / f"{name}.yaml")
    raise FileNotFoundError(f"no scene {name!r} in scenes/ or bench/outcome/scenes/")


def prepared(scene: Scene, case: dict) -> World:
    world = World(scene)
    if case.get("setup"):
        world.apply(_EVENTS.validate_python(case["setup"]))
        world.advance(case.get("setup_seconds", 0.5), FPS)
    return world


def run_case(planner: Planner, case: dict) -> dict:
    scene = scene_for(case["scene"])
    seconds = case.get("seconds", SECONDS)
    base = prepared(scene, case)
    baseline = [base.state() for _ in base.run(seconds, FPS)]
    initial = World(scene).state()
    world = prepared(scene, case)
    before = world.state()
    imagination = Imagination(Imaginer(scene), world.snapshot()) if not args_exact_off() else None
    outcome = planner.plan_turn(before, case["action"], list(case.get("history", [])), camera=scene.camera,
                                imagination=imagination)
    plan, record = outcome.plan, outcome.record.model_dump(mode="json")
    events = [e.model_dump(mode="json", exclude_none=True) for e in plan.events]
    problems = world.check(plan.events)
    if not problems:
        world.apply(plan.events)
    frames = [before] + [world.state() for _ in world.run(seconds, FPS)]
    rec = reconcile(before, frames[-1], plan, scene.camera, frames)
    expect = case["expect"]
    run = Run(before, frames, [before] + baseline, rec.plan.narration, events, scene.camera,
              initial, tuple(expect.get("moved", ())))
    failed = [k for k, v in expect.items() if not check(k, v, run)]
    harmful = harm(expect, run)
    refuse = "refuse" in expect
    return {"set": case["set"], "scene": case["scene"], "category": case["cat"], "action": case["action"],
            "match": not failed and not problems, "failed": failed, "harmful": harmful, "must_refuse": refuse,
            "refused_honestly": refuse and "refuse" not in failed, "events": events, "rejected": problems,
            "narration": rec.plan.narration, "planned_narration": plan.narration,
            "latency_s": record["latency_s"], "imagined": record["imagined_rollouts"],
            "record": record}


EXACT = {"on": True}


def args_exact_off() -> bool:
    """--approximate: let the planner imagine from the state alone (as the REPL does without an engine)."""
    return not EXACT["on"]



def summarise(rows: list[dict]) -> dict:
    def block(rs: list[dict]) -> dict:
        lat = [r["latency_s"] for r in rs]
        refusals = [r for r in rs if r["must_refuse"]]
        return {"cases": len(rs), "outcome_match": f"{sum(r['match'] for r in rs)}/{len(rs)}",
                "rate": round(sum(r["match"] for r in rs) / len(rs), 3),
                "harmful": sum(bool(r["harmful"]) for r in rs),
                "honest_refusals": f"{sum(r['refused_honestly'] for r in refusals)}/{len(refusals)}",
                "latency_median_s": round(statistics.median(lat), 4), "latency_p90_s": round(percentile(lat, 90), 4),
                "imagined_per_plan": round(sum(r["imagined"] for r in rs) / len(rs), 2)}

    by_set, by_cat = defaultdict(list), defaultdict(list)
    for r in rows:
        by_set[r["set"]].append(r)
        by_cat[r["category"]].append(r)
    return {"overall": block(rows), "by_set": {k: block(v) for k, v in by_set.items()},
            "by_category": {k: block(v) for k, v in sorted(by_cat.items())}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--planner", default="llamacpp")
    ap.add_argument("--base-url")
    ap.add_argument("--model")
    ap.add_argument("--api-key")
    ap.add_argument("--scoring", choices=("unsure", "always", "off"), default="unsure")
    ap.add_argument("--set", choices=tuple(SETS), default="main")
    ap.add_argument("--category")
    ap.add_argument("--limit", type=int)
    ap.add_argument("--json", type=Path, help="also write every row here")
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("--approximate", action="store_true", help="imagine from the exported state (no snapshot)")
    args = ap.parse_args()
    EXACT["on"] = not args.approximate
    cases = [c for c in load_cases(SETS[args.set]) if not args.category or c["cat"] == args.category][: args.limit]
    backend = make_backend(args.planner, base_url=args.base_url, model=args.model, api_key=args.api_key, seed=0)
    planner = Planner(backend, plan_format="intents", scoring=args.scoring)
    rows = []
    for i, case in enumerate(cases):
        row = run_case(planner, case)
        rows.append(row)
        flag = "ok " if row["match"] else "NO "
        print(f"{i + 1:3d} {row['category']:11s} {row['latency_s']:6.3f}s {flag}{'HARM ' if row['harmful'] else ''}"
              f"{[e['type'] for e in row['events']]} | {case['scene']}: {case['action']}", flush=True)
        if args.verbose or not row["match"] or row["harmful"]:
            print(f"      failed: {row['failed']} harm: {row['harmful']} rejected: {row['rejected']}\n"
                  f"      narration: {row['narration']}")
    summary = summarise(rows)
    print(json.dumps(summary, indent=1))
    if args.json:
        args.json.write_text(json.dumps({"summary": summary, "rows": rows}, indent=1, default=str))
    backend.close()


if __name__ == "__main__":
    main()
