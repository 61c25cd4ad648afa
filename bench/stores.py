"""Session stores side by side: SQLite vs Postgres turn and commit latency, the SQLite default before
and after the store interface (old vs new in one run), and how fast a session comes back after its
driver is killed (SIGKILL) or frozen (SIGSTOP: only the lease TTL frees it).

    OMP_NUM_THREADS=1 .venv/bin/python bench/stores.py --turns 40 --base c60b115

Postgres is started here as in the tests (tests/pg_util.py: Debian's server as the postgres user in a
temporary folder, fsync off). --base is the commit whose bench/turn.py and code give the "old" SQLite
figures (extracted with `git archive`).
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.pg_util import fresh_database, postgres_server  # noqa: E402

FIELDS = {"wall": r"turn wall\s+([\d.]+) ms", "ckpt": r"checkpoint writes\s+([\d.]+) ms/turn",
          "overhead": r"overhead \(all but model \+ render\)\s+([\d.]+) ms"}


def turn_bench(tree: Path, turns: int, db: str | None = None) -> dict[str, float]:
    args = [sys.executable, str(tree / "bench" / "turn.py"), "--turns", str(turns), "--no-mp4"]
    if db:
        args += ["--db", db]
    out = subprocess.run(args, cwd=tree, capture_output=True, text=True, timeout=1800,
                         env={**os.environ, "PYTHONPATH": str(tree)})
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{out.stderr[-3000:]}")
    return {k: float(re.search(rx, out.stdout).group(1)) for k, rx in FIELDS.items()}


def comeback(url: str, how: str, ttl: float) -> float:
    """Seconds from killing (or freezing) a driving `callosum interact` to another driver's open."""
    from agent.turns.sessions import Session, SessionBusy, SessionDB
    from simulator.loader import load_scene

    scene = ROOT / "scenes" / "ball-off-table.yaml"
    with SessionDB(url) as db:
        name = db.unique_name(f"comeback-{how}")
        db.create(name, load_scene(scene), str(scene))
    env = {**os.environ, "CALLOSUM_LEASE_TTL_S": str(ttl), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "agent", "interact", "--session", name, "--db", url, "--planner",
                             "scripted", "--duration", "0.25"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, text=True, cwd=ROOT, env=env)
    try:
        proc.stdin.write("one turn\n")
        proc.stdin.flush()
        with SessionDB(url) as db:
            while db.head(name).values.get("step") != 1:
                time.sleep(0.05)
            os.kill(proc.pid, signal.SIGKILL if how == "sigkill" else signal.SIGSTOP)
            t0 = time.monotonic()
            while True:
                try:
                    Session(db, name, driver="bench").close()
                    return time.monotonic() - t0
                except SessionBusy:
                    time.sleep(0.02)
    finally:
        if how == "sigstop":
            os.kill(proc.pid, signal.SIGCONT)
        proc.kill()
        proc.wait()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--turns", type=int, default=40)
    p.add_argument("--rounds", type=int, default=2, help="alternating old/new/postgres rounds")
    p.add_argument("--base", default="c60b115", help="the commit before the store interface")
    p.add_argument("--ttl", type=float, default=3.0, help="lease TTL for the come-back runs")
    a = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp, postgres_server() as pg:
        old = Path(tmp) / "old"
        old.mkdir()
        archive = subprocess.run(["git", "archive", a.base], cwd=ROOT, capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(old)], input=archive, check=True)
        runs: dict[str, list[dict[str, float]]] = {"sqlite old": [], "sqlite new": [], "postgres": []}
        for _ in range(a.rounds):
            runs["sqlite old"].append(turn_bench(old, a.turns))
            runs["sqlite new"].append(turn_bench(ROOT, a.turns))
            runs["postgres"].append(turn_bench(ROOT, a.turns, fresh_database(pg)))
        print(f"{a.turns} turns of 0.25 s (6 frames, scripted planner, no MP4), {a.rounds} alternating rounds; "
              "median of the rounds' means (ms/turn)")
        print(f"{'store':<12} {'turn wall':>10} {'ckpt writes':>12} {'overhead':>10}")
        for store, rows in runs.items():
            med = {k: statistics.median(r[k] for r in rows) for k in FIELDS}
            print(f"{store:<12} {med['wall']:10.1f} {med['ckpt']:12.1f} {med['overhead']:10.1f}")
        url = fresh_database(pg)
        kill = [comeback(url, "sigkill", a.ttl) for _ in range(3)]
        stop = [comeback(url, "sigstop", a.ttl) for _ in range(2)]
        print(f"\nsession back after its driver was SIGKILLed: {', '.join(f'{x:.2f}' for x in kill)} s "
              f"(Postgres sees the connection close)")
        print(f"session back after its driver was frozen (SIGSTOP), lease TTL {a.ttl:g} s: "
              f"{', '.join(f'{x:.2f}' for x in stop)} s")


if __name__ == "__main__":
    main()
