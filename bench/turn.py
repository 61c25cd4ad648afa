"""Benchmark the turn graph: time per node, checkpoint writes and sizes, orchestration overhead.

    OMP_NUM_THREADS=1 .venv/bin/python bench/turn.py --turns 100
    OMP_NUM_THREADS=1 .venv/bin/python bench/turn.py --turns 5 --planner llamacpp
    OMP_NUM_THREADS=1 .venv/bin/python bench/turn.py --turns 40 --db postgresql://postgres@127.0.0.1:5432/bench
    OMP_NUM_THREADS=1 .venv/bin/python bench/turn.py --turns 40 --root /tmp/old-turn   # another checkout's code

Overhead is everything in a turn except the model call and the render node (geometry pass plus
PNG/MP4 encoding), measured around ``Session.turn``; "framework" also leaves out the physics and
the reconcile node (the narration checked against the outcome, part of ``simulate`` before issue
18), which is what LangGraph, the SQLite checkpoints and the snapshot restore cost.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parent.parent
if "--root" in sys.argv:  # measure another checkout's code with this harness (old vs new in one run)
    ROOT = Path(sys.argv[sys.argv.index("--root") + 1]).resolve()
sys.path.insert(0, str(ROOT))

from agent.turns.sessions import Session, SessionDB  # noqa: E402
from agent.turns.turn import TurnRequest  # noqa: E402
from simulator.loader import load_scene  # noqa: E402

KICK = {"type": "apply_impulse", "entity": "ball", "impulse": [0.05, 0.0, 0.0]}
ACTIONS = ["the ball sits there", "someone nudges the ball", "the ball rolls on", "a pause"]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scene", default=str(ROOT / "scenes" / "ball-off-table.yaml"))
    p.add_argument("--turns", type=int, default=100)
    p.add_argument("--duration", type=float, default=0.25, help="seconds simulated per turn")
    p.add_argument("--planner", default="scripted",
                   help="scripted (no planner), scripted-backend (the planner, no model), or a backend (llamacpp, ...)")
    p.add_argument("--durability", default="sync", choices=["sync", "exit"],
                   help="sync: a checkpoint after every node; exit: one per turn")
    p.add_argument("--no-mp4", action="store_true", help="skip the per-segment MP4")
    p.add_argument("--db", default=None, help="session store (default: a SQLite file in a temporary folder); "
                   "a postgresql:// URL names an empty database to use")
    p.add_argument("--root", default=str(ROOT), help="the checkout whose code runs (default: this one)")
    a = p.parse_args()

    planner = None
    if a.planner != "scripted":  # "scripted": no planner (the action is the narration); "scripted-backend":
        from agent.planner.backends import make_backend  # the planner on its model-free scripted backend
        from agent.planner import Planner

        planner = Planner(make_backend(a.planner.removesuffix("-backend"), seed=0))
    scene = load_scene(a.scene)
    with tempfile.TemporaryDirectory() as tmp:
        db = SessionDB(a.db or Path(tmp) / "bench.db")
        db.saver.measure_size = True
        name = db.unique_name("bench")
        db.create(name, scene, a.scene, "fast")
        per_turn = []
        with Session(db, name, planner=planner, segment_mp4=not a.no_mp4, durability=a.durability) as s:
            for i in range(a.turns):
                s.ctx.timings.clear()
                db.saver.writes.clear()
                pinned = [KICK] if planner is None and i % 4 == 1 else None
                t0, c0 = time.perf_counter(), time.process_time()
                s.turn(TurnRequest(action=ACTIONS[i % len(ACTIONS)], events=pinned, duration=a.duration))
                wall, cpu = time.perf_counter() - t0, time.process_time() - c0
                nodes = defaultdict(float)
                for name, dt in s.ctx.timings:
                    nodes[name] += dt
                ck = [w for w in db.saver.writes if w[0] == "checkpoint"]
                wr = [w for w in db.saver.writes if w[0] == "writes"]
                per_turn.append({
                    "wall": wall, "cpu": cpu, **nodes,
                    "ckpt_write": sum(w[1] for w in ck) + sum(w[1] for w in wr), "ckpt_n": len(ck),
                    "ckpt_bytes": sum(w[2] for w in ck), "commit_ckpt_bytes": ck[-1][2] if ck else 0,
                })
        db_size = sum(f.stat().st_size for f in Path(tmp).glob("bench.db*") if f.is_file())
        store_size = sum(f.stat().st_size for f in (Path(tmp) / "bench.db.store").rglob("*") if f.is_file())
        if a.db:  # sizes in Postgres are not files here
            db_size = store_size = 0
        db.close()

    skip = 1 if len(per_turn) > 1 else 0  # the first turn warms the GL context and imports
    rows = per_turn[skip:]

    def mean_ms(key):
        return 1000 * statistics.mean(r.get(key, 0.0) for r in rows)

    print(f"code {ROOT}")
    print(f"scene {scene.name}, {a.turns} turns of {a.duration:g} s ({round(a.duration * scene.render.fps)} frames "
          f"each), planner {a.planner}, durability {a.durability}, mp4 {'off' if a.no_mp4 else 'on'}; means over turns {skip + 1}..{a.turns}")
    print("\nper node (ms/turn):")
    for key in ("observe", "plan", "model", "validate", "simulate", "reconcile", "restore", "render", "store",
                "commit"):
        print(f"  {key:<9} {mean_ms(key):8.2f}")
    wall = mean_ms("wall")
    nodes = sum(mean_ms(k) for k in ("observe", "plan", "validate", "simulate", "reconcile", "render", "commit"))
    overhead = wall - mean_ms("model") - mean_ms("render")
    framework = overhead - mean_ms("simulate") - mean_ms("reconcile")
    print(f"\nturn wall           {wall:8.2f} ms")
    print(f"  in nodes          {nodes:8.2f} ms   (graph dispatch + checkpointing outside nodes: {wall - nodes:.2f} ms)")
    print(f"checkpoint writes   {mean_ms('ckpt_write'):8.2f} ms/turn over {statistics.mean(r['ckpt_n'] for r in rows):.0f} "
          f"checkpoints")
    print(f"overhead (all but model + render)   {overhead:8.2f} ms = {100 * overhead / wall:5.1f}% of the turn")
    per = sorted(1000 * (r["wall"] - r.get("model", 0.0) - r.get("render", 0.0)) for r in rows)
    print(f"overhead per turn: median {statistics.median(per):.2f} ms, lower quartile {per[len(per) // 4]:.2f} ms "
          f"(robust to a loaded machine)")
    print(f"framework (also minus physics)      {framework:8.2f} ms = {100 * framework / wall:5.1f}% of the turn")
    cpu = sorted(1000 * r["cpu"] for r in rows)
    print(f"CPU time per turn (all threads of this process, render included; waits on a loaded machine are not "
          f"in it): median {statistics.median(cpu):.2f} ms, mean {statistics.mean(cpu):.2f} ms")
    sizes = [r["commit_ckpt_bytes"] for r in per_turn]
    per_turn_bytes = [r["ckpt_bytes"] for r in per_turn]
    k = min(10, len(sizes))
    print(f"\ncommit checkpoint size: first {k} turns mean {statistics.mean(sizes[:k]):.0f} B, last {k} "
          f"{statistics.mean(sizes[-k:]):.0f} B, max {max(sizes)} B")
    print(f"all checkpoints per turn: first {k} mean {statistics.mean(per_turn_bytes[:k]):.0f} B, last {k} "
          f"{statistics.mean(per_turn_bytes[-k:]):.0f} B")
    print(f"database {db_size / 1e6:.2f} MB ({db_size / a.turns / 1e3:.1f} kB/turn); blob store "
          f"{store_size / 1e6:.2f} MB ({store_size / a.turns / 1e3:.1f} kB/turn)")


if __name__ == "__main__":
    main()
