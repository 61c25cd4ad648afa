"""World bench: prompts built by `callosum new`, judged by predicates on the built, settled world.

    OMP_NUM_THREADS=1 python bench/world_bench.py                     # the grammar (embedded default)
    python bench/world_bench.py --planner openai --base-url http://127.0.0.1:8080/v1 --model M
    python bench/world_bench.py --png out/worlds --png-count 10       # first + mid-clip frame strips

Cases: bench/world_cases.yaml (the held-out part is reported apart). Prints a JSON report.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import yaml  # noqa: E402

from agent.worlds import NothingToBuild, new_world  # noqa: E402
from agent.worlds.framing import MIN_PIXELS, visible_pixels  # noqa: E402
from bench import world_checks as C  # noqa: E402
from simulator.world import World  # noqa: E402

CASES = Path(__file__).with_name("world_cases.yaml")


def judge(case: dict, built) -> dict[str, bool]:
    """Each predicate's verdict on the built world."""
    scene = built.scene
    world = World(scene)
    s0 = world.state()
    out: dict[str, bool] = {"penetration": C.interpenetration(world) <= 0.005}
    ids = {t: C.by_template(scene, s0, t) for t in case.get("things", {})}
    out["things"] = all(len(ids[t]) == n for t, n in case.get("things", {}).items())
    out["sizes"] = all(C.plausible_size(scene, s0, e) for e in s0.entities)
    pixels = visible_pixels(scene, world)
    out["visible"] = all(pixels.get(e, 0) >= MIN_PIXELS for e in s0.entities)
    still = 0.5 if case.get("action") else 1.0
    world.advance(still, 12)
    s1 = world.state()
    out["rest"] = all(C.moved(s0, s1, e) <= C.REST for e in s0.entities if e in s1.entities)
    for kind, subj, obj in case.get("relations", []):
        holds = C.relation_holds(kind, C.by_template(scene, s1, subj), C.by_template(scene, s1, obj) if obj else [],
                                 s1, scene.camera)
        out[f"relation:{kind}"] = out.get(f"relation:{kind}", True) and holds
    for key in ("ground", "lighting"):
        if key in case:
            out[key] = getattr(built.intent, key) == case[key]
    if "renderer_only" in case:
        out["renderer_only"] = set(case["renderer_only"]) <= set(built.renderer_only)
    if case.get("action"):
        out["action"] = _action(case["action"], scene, world, s1)
    return out


def _action(expect: list, scene, world, s1) -> bool:
    verb, target, third = expect
    targets = C.by_template(scene, s1, target)
    if len(scene.steps) < 2 or not targets:
        return False
    world.apply(scene.steps[1].events or [], step=1)
    world.advance(scene.steps[1].duration, 12)
    s2 = world.state()
    toward = C.by_template(scene, s1, third) if third and third not in ("left", "right", "forward", "back") else []
    direction = third if not toward else None
    return any(C.action_holds(verb, t, toward[0] if toward else None, direction, s1, s2) for t in targets[:1]) and \
        (not toward or any(C.action_holds(verb, targets[0], o, None, s1, s2) for o in toward))


def run(cases: list[dict], backend=None) -> dict:
    rows = []
    for case in cases:
        t0 = time.perf_counter()
        try:
            built = new_world(case["prompt"], backend=backend)
        except NothingToBuild as exc:  # right only where the case expects nothing buildable
            refused = case.get("things") == {}
            rows.append({"prompt": case["prompt"], "set": case["set"], "ok": refused, "error": str(exc)[:120],
                         "verdicts": {"refusal": refused}})
            continue
        seconds = time.perf_counter() - t0
        verdicts = judge(case, built) if case.get("things") != {} else {"refusal": False}
        rows.append({"prompt": case["prompt"], "set": case["set"], "ok": all(verdicts.values()),
                     "build_s": round(seconds, 3), "failed": sorted(k for k, v in verdicts.items() if not v),
                     "verdicts": verdicts})
    return summarise(rows)


def summarise(rows: list[dict]) -> dict:
    report: dict = {"cases": len(rows)}
    for part in ("heldout", "tuning", "all"):
        sel = [r for r in rows if part == "all" or r["set"] == part]
        if not sel:
            continue
        per = defaultdict(lambda: [0, 0])
        for r in sel:
            for k, v in r.get("verdicts", {}).items():
                per[k][0] += int(v)
                per[k][1] += 1
        times = [r["build_s"] for r in sel if "build_s" in r]
        report[part] = {
            "match": round(sum(r["ok"] for r in sel) / len(sel), 3), "n": len(sel),
            "per_predicate": {k: f"{a}/{n}" for k, (a, n) in sorted(per.items())},
            "build_s_median": round(statistics.median(times), 3) if times else None,
            "build_s_p90": round(sorted(times)[int(0.9 * (len(times) - 1))], 3) if times else None,
        }
    report["failures"] = [{"prompt": r["prompt"], "set": r["set"], "failed": r.get("failed") or r.get("error")}
                          for r in rows if not r["ok"]]
    return report


def strips(cases: list[dict], folder: Path, count: int) -> list[Path]:
    """First frame | mid-clip frame of the first `count` worlds, as PNGs."""
    import numpy as np
    from PIL import Image

    from renderer.geometry import GeometryRenderer

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, case in enumerate(cases[:count]):
        built = new_world(case["prompt"])
        world = World(built.scene)
        with GeometryRenderer(built.scene, preset="quality") as r:
            first = r.render(world).rgb
            for k, step in enumerate(built.scene.steps):
                world.apply(step.events or [], step=k)
                world.advance(step.duration / (2 if k == len(built.scene.steps) - 1 else 1), 12)
            mid = r.render(world).rgb
        path = folder / f"{i:02d}-{built.scene.name}.png"
        Image.fromarray(np.concatenate([first, mid], axis=1)).save(path)
        paths.append(path)
    return paths


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--set", default="all", choices=["all", "heldout", "tuning"])
    ap.add_argument("--planner", default=None, choices=[None, "openai"])
    ap.add_argument("--base-url")
    ap.add_argument("--model")
    ap.add_argument("--png", type=Path, help="Write first/mid-clip frame strips here.")
    ap.add_argument("--png-count", type=int, default=10)
    ap.add_argument("--only", help="Run only cases whose prompt contains this text.")
    args = ap.parse_args()
    cases = [c for c in yaml.safe_load(CASES.read_text()) if args.set in ("all", c["set"])]
    if args.only:
        cases = [c for c in cases if args.only in c["prompt"]]
    if args.png:
        print("\n".join(str(p) for p in strips(cases, args.png, args.png_count)))
        return
    backend = None
    if args.planner == "openai":
        from agent.planner import make_backend

        backend = make_backend("openai", base_url=args.base_url, model=args.model, timeout_s=600.0)
    print(json.dumps(run(cases, backend), indent=1))


if __name__ == "__main__":
    main()
