"""Intent bench: 75 actions (and 20 held out) over all shipped scenes, planned, simulated, narrated.

For each action: plan it, check the plan is valid and matches a hand-written expectation
(bench/intent.py), apply it to a real MuJoCo world, simulate 1 s, reconcile the narration with
the outcome (agent/planner/narration/reconcile.py), and audit the committed narration against the states
with this file's own checks (not the planner's). Reports intent match overall and per category,
which component decided each slot, valid plans, faithful narrations, and plan latency.

    OMP_NUM_THREADS=1 CALLOSUM_LLAMA_THREADS=2 python bench/intent_bench.py                # embedded, intents
    OMP_NUM_THREADS=1 CALLOSUM_LLAMA_THREADS=2 python bench/intent_bench.py --scoring off     # lexicon only
    OMP_NUM_THREADS=1 CALLOSUM_LLAMA_THREADS=2 python bench/intent_bench.py --scoring always  # model picks every verb
    OMP_NUM_THREADS=1 CALLOSUM_LLAMA_THREADS=2 python bench/intent_bench.py --plan-format events
    python bench/intent_bench.py --set heldout          # the 20 actions never tuned on
"""

from __future__ import annotations

import argparse
import json
import math
import re
import statistics
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agent.planner.backends import make_backend  # noqa: E402
from agent.planner.narration.reconcile import reconcile  # noqa: E402
from agent.planner.planner import Planner  # noqa: E402
from agent.planner.validation import validate  # noqa: E402
from bench.intent import _NAMED, CASES, HELDOUT, Case  # noqa: E402
from simulator.loader import load_scene  # noqa: E402
from simulator.scene import SetVelocityEvent  # noqa: E402
from simulator.world import World  # noqa: E402
from bench.stats import percentile  # noqa: E402

DURATION, FPS = 1.0, 24
_MOTION = re.compile(r"\b(?:moves?|rolls?|slides?|falls?|drops?|pushed|kicked|knocked|tossed|thrown|flies|tips?|rises?|"
                     r"tumbles?|shoots?|bounces?)\b")
_SCREEN = {"to the left": -1, "to the right": 1}



def screen_axes(camera) -> tuple[tuple[float, float], tuple[float, float]]:
    """(right, away) on the floor for a camera, computed here independently of the planner."""
    fx, fy = camera.look_at[0] - camera.position[0], camera.look_at[1] - camera.position[1]
    n = math.hypot(fx, fy) or 1.0
    return (fy / n, -fx / n), (fx / n, fy / n)


def names(eid: str) -> list[str]:
    return [eid, eid.replace("-", " ")]


def audit(narration: str, before, after, frames, camera) -> list[str]:
    """Problems with a committed narration, judged from the states alone."""
    right, away = screen_axes(camera)
    text = narration.lower()
    peak = {eid: max([0.0] + [math.dist(f.entities[eid].position, b.position) for f in frames if eid in f.entities])
            for eid, b in before.entities.items()}
    changed = (any(p > 0.05 for p in peak.values()) or set(after.entities) != set(before.entities)
               or any(after.entities[i].color != e.color or abs(after.entities[i].mass - e.mass) > 1e-9
                      for i, e in before.entities.items() if i in after.entities))
    problems = []
    for sentence in re.split(r"(?<!\d)[.;](?!\d)", text):
        if re.search(r"\bnothing (?:happens|moves|changes)\b", sentence) and changed:
            problems.append(f"says nothing happens, but the world changed: {sentence.strip()!r}")
        if re.search(r"\b(?:no|not|nothing|never)\b", sentence):
            continue
        if re.search(r"\bappears?\b|\bis thrown\b|\bdrops onto\b", sentence) and set(after.entities) <= set(before.entities):
            problems.append(f"says something appears, but nothing new is there: {sentence.strip()!r}")
        named = [(m.start(), eid) for eid in {**before.entities, **after.entities} for n in names(eid)
                 if (m := re.search(rf"\b{re.escape(n)}\b(?! \d)", sentence))]
        subject = min(named)[1] if named else None  # claims are about the first body a sentence names
        if subject in before.entities:
            problems += _audit_body(subject, sentence, before, after, peak, right, away)
    return problems


def _audit_body(eid, sentence, before, after, peak, right, away) -> list[str]:
    out = []
    if eid in after.entities:
        d = [after.entities[eid].position[k] - before.entities[eid].position[k] for k in range(3)]
        if _MOTION.search(sentence) and peak[eid] < 0.02:
            out.append(f"says {eid} moves, but it did not")
        for phrase, sign in _SCREEN.items():
            if phrase in sentence and sign * (d[0] * right[0] + d[1] * right[1]) <= 0:
                out.append(f"says {eid} goes {phrase}, but it went the other way")
        for phrase, sign in (("toward the camera", -1), ("away from the camera", 1)):
            if phrase in sentence and sign * (d[0] * away[0] + d[1] * away[1]) <= 0:
                out.append(f"says {eid} goes {phrase}, but it did not")
        if re.search(r"\b(?:disappears|vanishes|is removed)\b", sentence):
            out.append(f"says {eid} disappears, but it is still there")
        m = re.search(r"\bturns (\w+)", sentence)
        if m and m.group(1) in _NAMED:
            c = after.entities[eid].color
            if not _NAMED[m.group(1)](*(int(c[i : i + 2], 16) for i in (1, 3, 5))):
                out.append(f"says {eid} turns {m.group(1)}, but it is {c}")
    return out


def run_case(planner: Planner, case: Case) -> dict:
    scene = load_scene(ROOT / "scenes" / f"{case.scene}.yaml")
    world = World(scene)
    if case.setup:
        world.apply([SetVelocityEvent(type="set_velocity", entity=e, velocity=v) for e, v in case.setup])
        world.advance(0.25, FPS)
    state = world.state()
    outcome = planner.plan_turn(state, case.action, list(case.history), camera=scene.camera)
    plan, r = outcome.plan, outcome.record.model_dump(mode="json")
    events = [e.model_dump(mode="json") for e in plan.events]
    valid = not validate(state, plan) and not world.check(plan.events)
    match = valid and not r["fell_back"] and case.expect.matches(events, state)
    if case.unknown:
        listed = sum(1 for eid in state.entities if eid in plan.narration)
        said = re.search(rf"\bno\b[^.]*\b{case.unknown}\b", plan.narration.lower())
        match = match and bool(said) and listed >= 2
    world.apply(plan.events)
    frames = [world.state() for _ in world.run(DURATION, FPS)]
    after = frames[-1]
    t0 = time.perf_counter()
    rec = reconcile(state, after, plan, scene.camera, frames)
    reconcile_ms = 1000 * (time.perf_counter() - t0)
    problems = audit(rec.plan.narration, state, after, frames, scene.camera)
    return {"scene": case.scene, "action": case.action, "category": case.category, "valid": valid, "match": match,
            "faithful": not problems, "audit": problems, "disagreement": rec.disagreement,
            "narration": rec.plan.narration, "planned_narration": plan.narration, "events": events,
            "latency_s": r["latency_s"], "model_s": r.get("model_s", 0.0), "reconcile_ms": round(reconcile_ms, 2),
            "decided_by": r.get("decided_by", {}), "intent": r.get("intent"), "record": r}


def summarise(rows: list[dict], args, backend) -> dict:
    by_cat: dict[str, list[bool]] = defaultdict(list)
    for row in rows:
        by_cat[row["category"]].append(row["match"])
    slots: dict[str, Counter] = defaultdict(Counter)
    for row in rows:
        for slot, who in row["decided_by"].items():
            slots[slot][who] += 1
    lat = [row["latency_s"] for row in rows]
    return {
        "planner": args.planner, "model": backend.model, "plan_format": args.plan_format,
        "scoring": args.scoring, "set": args.set, "turns": len(rows),
        "intent_match_rate": round(sum(r["match"] for r in rows) / len(rows), 3),
        "per_category": {c: f"{sum(v)}/{len(v)}" for c, v in sorted(by_cat.items())},
        "worst_category_rate": round(min(sum(v) / len(v) for v in by_cat.values()), 3),
        "valid_plan_rate": round(sum(r["valid"] for r in rows) / len(rows), 3),
        "faithful_rate": round(sum(r["faithful"] for r in rows) / len(rows), 3),
        "narrations_replaced": sum(r["disagreement"] is not None for r in rows),
        "decided_by": {s: dict(c) for s, c in sorted(slots.items())},
        "latency_median_s": round(statistics.median(lat), 3),
        "latency_p90_s": round(percentile(lat, 90), 3),
        "model_s_total": round(sum(r["model_s"] for r in rows), 2),
        "reconcile_ms_max": max(r["reconcile_ms"] for r in rows),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--planner", default="llamacpp")
    ap.add_argument("--base-url")
    ap.add_argument("--model")
    ap.add_argument("--api-key")
    ap.add_argument("--plan-format", choices=("intents", "events"), default="intents")
    ap.add_argument("--scoring", choices=("unsure", "always", "off"), default="unsure",
                    help="when the model scores verbs: where the lexicon is unsure, always (the model alone), off")
    ap.add_argument("--set", choices=("main", "heldout", "all"), default="main")
    ap.add_argument("--limit", type=int)
    ap.add_argument("--json", type=Path, help="also write every row here")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    cases = {"main": CASES, "heldout": HELDOUT, "all": CASES + HELDOUT}[args.set][: args.limit]
    backend = make_backend(args.planner, base_url=args.base_url, model=args.model, api_key=args.api_key, seed=0)
    planner = Planner(backend, plan_format=args.plan_format, scoring=args.scoring)
    rows = []
    for i, case in enumerate(cases):
        row = run_case(planner, case)
        rows.append(row)
        verb = row["decided_by"].get("verb", "-")
        print(f"{i + 1:3d} {row['category']:9s} {row['latency_s']:6.3f}s verb={verb:8s} "
              f"{'ok ' if row['match'] else 'NO '}{'' if row['faithful'] else 'UNFAITHFUL '}"
              f"{[e['type'] for e in row['events']]} | {case.scene}: {case.action}", flush=True)
        if args.verbose or not row["match"] or not row["faithful"]:
            print(f"      intent: {json.dumps(row['intent'])}\n      planned: {row['planned_narration']}\n"
                  f"      committed: {row['narration']}" + (f"\n      audit: {row['audit']}" if row["audit"] else ""))
    summary = summarise(rows, args, backend)
    print(json.dumps(summary, indent=2))
    if args.json:
        args.json.write_text(json.dumps({"summary": summary, "rows": rows}, indent=1, default=str))
    backend.close()


if __name__ == "__main__":
    main()
