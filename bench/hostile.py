"""Hostile-input benchmark for issue 11's targets (figures in docs/reliability.md), loopback only.

    python bench/hostile.py scenes --count 500     # mutated scene files: check, then play
    python bench/hostile.py drivers --turns 6      # two drivers on one session: turns lost without an error
    python bench/hostile.py post                   # 1 GiB unauthenticated POSTs: server RSS growth

``scenes`` runs each mutation (tests/scene_mutations.py, seeds 0..N-1) through the real ``check``
and ``play`` commands in a worker process watched for time (--timeout s per file: a hang) and memory
(--max-rss MiB: a blow-up); ``--cli N`` also runs the first N through the ``callosum`` executable.
"""

from __future__ import annotations

import argparse
import collections
import json
import multiprocessing as mp
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("OMP_NUM_THREADS", "1")


# ---- scenes ------------------------------------------------------------------------------------


def _worker(conn, workdir: str) -> None:
    from tests.scene_mutations import check_then_play, mutate, random_mutation

    while True:
        seed = conn.recv()
        if seed is None:
            return
        m = random_mutation(seed)
        path = Path(workdir) / f"m{seed}.yaml"
        path.write_bytes(mutate(m))
        o = check_then_play(path, Path(workdir))
        conn.send({"seed": seed, "mutation": m.describe(), "kind": m.kind, "check_rc": o.check_rc,
                   "play_rc": o.play_rc, "problems": o.problems(), "tracebacks": len(o.tracebacks),
                   "non_finite": o.non_finite, "seconds": round(o.seconds, 3),
                   "message": (o.check_out if o.check_rc else o.play_out).strip().splitlines()[-1:]})
        path.unlink(missing_ok=True)


class Watched:
    """A worker process; each file gets `timeout` seconds and `max_rss` MiB, else it is killed."""

    def __init__(self, workdir: str):
        ctx = mp.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker, args=(child, workdir), daemon=True)
        self.proc.start()
        self.peak = 0

    def run(self, seed: int, timeout: float, max_rss: int) -> dict:
        import psutil

        self.conn.send(seed)
        deadline = time.monotonic() + timeout
        proc = psutil.Process(self.proc.pid)
        while not self.conn.poll(0.05):
            rss = proc.memory_info().rss >> 20
            self.peak = max(self.peak, rss)
            if rss > max_rss:
                return {"seed": seed, "killed": f"memory {rss} MiB"}
            if time.monotonic() > deadline:
                return {"seed": seed, "killed": f"hang (> {timeout:g} s)"}
        return self.conn.recv()

    def stop(self) -> None:
        if self.proc.is_alive():
            self.proc.kill()
        self.proc.join(5)


def _cli_sample(seeds: range, workdir: Path) -> list[dict]:
    from tests.scene_mutations import first_non_finite, mutate, random_mutation

    out = []
    for seed in seeds:
        path = workdir / f"cli{seed}.yaml"
        path.write_bytes(mutate(random_mutation(seed)))
        run = lambda *a: subprocess.run([sys.executable, "-m", "agent", *a], capture_output=True, text=True,  # noqa: E731
                                        cwd=ROOT, timeout=300)
        check = run("check", str(path))
        row = {"seed": seed, "check_rc": check.returncode, "traceback": "Traceback" in check.stderr}
        if check.returncode == 0:
            states = workdir / f"cli{seed}.jsonl"
            play = run("play", str(path), "--planner", "scripted", "--preset", "fast", "--out",
                       str(workdir / f"cli{seed}.mp4"), "--state-out", str(states))
            row.update(play_rc=play.returncode, traceback=row["traceback"] or "Traceback" in play.stderr,
                       non_finite=first_non_finite(states) if states.exists() else None)
        out.append(row)
    return out


REASONS = (("diverged", "simulation diverged"), ("does not compile", "MuJoCo compile error"),
           ("too much YAML", "YAML limits"), ("malformed YAML", "malformed YAML"),
           ("not a regular file", "not a file"), ("not UTF-8", "not UTF-8"), ("at most 1048576 bytes", "too big"),
           ("cannot apply", "events cannot apply (dry run)"), ("the limit is", "beyond a limit"),
           ("must lie between", "beyond a limit"), ("less than or equal", "beyond a limit"),
           ("greater than or equal", "beyond a limit"), ("at most", "beyond a limit"),
           ("outside the world", "beyond a limit"))


def _reason(message: str) -> str:
    return next((name for key, name in REASONS if key in message), "schema (type, key, shape)")


def scenes(args) -> dict:
    rows, worker = [], None
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="callosum-hostile-") as tmp:
        for seed in range(args.start, args.start + args.count):
            worker = worker or Watched(tmp)
            row = worker.run(seed, args.timeout, args.max_rss)
            if "killed" in row:
                worker.stop()
                worker = None
            rows.append(row)
            if args.verbose or row.get("problems") or "killed" in row:
                print(json.dumps(row), flush=True)
        peak = worker.peak if worker else None
        if worker:
            worker.conn.send(None)
            worker.stop()
        cli = _cli_sample(range(args.start, args.start + args.cli), Path(tmp)) if args.cli else []
    done = [r for r in rows if "killed" not in r]
    by_kind = collections.defaultdict(collections.Counter)
    for r in done:
        by_kind[r["kind"]]["check exit 2" if r["check_rc"] == 2 else f"play exit {r['play_rc']}"] += 1
    reasons = collections.Counter(_reason(" ".join(r["message"])) for r in done if r["check_rc"] == 2)
    return {
        "files": len(rows), "seconds": round(time.perf_counter() - t0, 1), "check_exit_2_reasons": dict(reasons),
        "tracebacks": sum(r["tracebacks"] for r in done),
        "hangs": sum("hang" in r.get("killed", "") for r in rows),
        "memory_blowups": sum("memory" in r.get("killed", "") for r in rows),
        "non_finite_states": sum(bool(r["non_finite"]) for r in done),
        "check_ok_then_play_failed": sum(r["check_rc"] == 0 and r["play_rc"] not in (0, None) for r in done),
        "other_problems": sum(bool(r["problems"]) for r in done),
        "check_exit_2": sum(r["check_rc"] == 2 for r in done), "played_ok": sum(r["play_rc"] == 0 for r in done),
        "slowest_file_s": max((r["seconds"] for r in done), default=None), "worker_peak_rss_mib": peak,
        "by_kind": {k: dict(v) for k, v in sorted(by_kind.items())},
        "cli_sample": {"files": len(cli), "tracebacks": sum(r["traceback"] for r in cli),
                       "check_exit_2": sum(r["check_rc"] == 2 for r in cli),
                       "played_ok": sum(r.get("play_rc") == 0 for r in cli),
                       "non_finite_states": sum(bool(r.get("non_finite")) for r in cli)},
    }


# ---- drivers -----------------------------------------------------------------------------------

COMMITTED = re.compile(r"^turn \d+: .*?\b((?:[A-D]|interact) turn \d+|interact \d+)\b", re.M)
"""A turn the REPL reports as committed ("turn 3: <narration> (0.9 s)"); the actions are unique words."""


def _interact(env, *args, stdin: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "agent", "interact", *args, "--planner", "scripted", "--duration",
                           "0.25"], input=stdin, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          cwd=ROOT, env=env, timeout=600)


def _branch(db_path: Path, name: str) -> list:
    from agent.turns.sessions import SessionDB

    with SessionDB(db_path, create=False) as db:
        return db.turns(name)


def _popen_interact(env, *args) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "agent", "interact", "--session", "pair", "--planner", "scripted",
                             "--duration", "0.25", *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, cwd=ROOT, env=env)


def _two_interacts(tmp: Path, turns: int) -> dict:
    """A and B start on one session at once; then D drives while C takes over half-way through D's turns."""
    env = {**os.environ, "CALLOSUM_HOME": str(tmp), "COLUMNS": "200", "PYTHONUNBUFFERED": "1"}
    _interact(env, str(ROOT / "scenes" / "ball-off-table.yaml"), "--session", "pair", stdin=":quit\n")
    script = lambda who: "".join(f"{who} turn {i}\n" for i in range(turns)) + ":quit\n"  # noqa: E731
    procs = {who: _popen_interact(env) for who in ("A", "B")}
    for who, p in procs.items():
        p.stdin.write(script(who))
        p.stdin.close()
    outs = {who: p.stdout.read() for who, p in procs.items()}
    for p in procs.values():
        p.wait(600)
    holder = _popen_interact(env)

    def feed():
        try:
            for i in range(3 * turns):  # still going when C takes over
                holder.stdin.write(f"D turn {i}\n")
                holder.stdin.flush()
                time.sleep(1.0)
            holder.stdin.write(":quit\n")
            holder.stdin.close()
        except OSError:  # D ended (its session was taken over)
            pass

    feeder = threading.Thread(target=feed)
    feeder.start()
    start = len(_branch(tmp / "sessions.db", "pair"))
    while len(_branch(tmp / "sessions.db", "pair")) < start + max(1, turns // 2) and holder.poll() is None:
        time.sleep(0.3)
    outs["C (takes over)"] = _interact(env, "--session", "pair", "--take-over", stdin=script("C")).stdout
    feeder.join()
    outs["D (taken over)"] = holder.stdout.read()
    holder.wait(600)
    return _account(outs, [t.action for t in _branch(tmp / "sessions.db", "pair")])


def _account(outs: dict[str, str], branch: list[str]) -> dict:
    rows = {}
    for who, text in outs.items():
        reported = COMMITTED.findall(text)
        lost = [s for s in reported if s not in branch]
        errors = [line.strip() for line in text.splitlines() if "error" in line.lower()]
        rows[who] = {"reported_commits": len(reported), "on_branch": len(reported) - len(lost),
                     "lost": len(lost), "errors": errors[:2], "lost_without_error": len(lost) if not errors else 0}
    return {"drivers": rows, "branch_turns": len(branch), "branch": branch,
            "turns_lost_without_an_error": sum(r["lost_without_error"] for r in rows.values())}


def _interact_and_server(tmp: Path, turns: int) -> dict:
    from websockets.sync.client import connect

    from tests.server_util import auth, live_server

    env = {**os.environ, "COLUMNS": "200", "PYTHONUNBUFFERED": "1"}
    db = tmp / "served.db"
    reported, errors = [], []
    with live_server(db=db) as srv:
        sess = srv.create("ball-off-table")
        name = sess["session"]
        with connect(srv.ws_base + sess["ws_url"]) as ws:
            auth(ws, sess["player_token"])

            def server_turns(k0: int, count: int, pause: float = 0.0) -> None:
                for i in range(k0, k0 + count):
                    time.sleep(pause)
                    ws.send(json.dumps({"type": "action", "action": f"served {i}", "events": [], "duration": 0.25}))
                    deadline = time.monotonic() + 60
                    while time.monotonic() < deadline:
                        msg = ws.recv(timeout=60)
                        if isinstance(msg, str) and json.loads(msg)["type"] == "narration":
                            reported.append(json.loads(msg)["action"])
                            break
                        if isinstance(msg, str) and json.loads(msg)["type"] == "error":
                            errors.append(json.loads(msg)["message"])
                            break

            server_turns(0, turns)
            refused = _interact(env, "--session", name, "--db", str(db), stdin="x\n:quit\n")
            thread = threading.Thread(target=server_turns, args=(turns, 3 * turns, 1.0))  # still going at take-over
            thread.start()
            took = _interact(env, "--session", name, "--db", str(db), "--take-over",
                             stdin="".join(f"interact {i}\n" for i in range(turns)) + ":quit\n")
            thread.join()
    branch = [t.action for t in _branch(db, name)]
    lost_server = [a for a in reported if a not in branch]
    lost_interact = [a for a in COMMITTED.findall(took.stdout) if a not in branch]
    return {"second_driver_refused": refused.returncode == 1 and "driven by callosum serve" in refused.stdout,
            "refusal": refused.stdout.strip()[-300:], "server_reported": len(reported), "server_errors": errors[:2],
            "interact_reported": len(COMMITTED.findall(took.stdout)), "branch_turns": len(branch),
            "turns_lost_without_an_error": (0 if errors else len(lost_server)) + len(lost_interact)}


def drivers(args) -> dict:
    with tempfile.TemporaryDirectory(prefix="callosum-drivers-") as tmp:
        return {"two_interacts": _two_interacts(Path(tmp), args.turns),
                "interact_and_server": _interact_and_server(Path(tmp), args.turns)}


# ---- post ------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _flood(port: int, head: bytes, total: int, chunk: int = 1 << 20) -> dict:
    sent, t0, status = 0, time.perf_counter(), None
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head)
        zeros = b"\0" * chunk
        try:
            while sent < total:
                sock.sendall(zeros)
                sent += chunk
        except OSError:
            pass
        try:
            status = sock.recv(200).split(b"\r\n")[0].decode("latin-1")
        except OSError:
            status = "connection closed"
    return {"bytes_sent": sent, "seconds": round(time.perf_counter() - t0, 2), "answer": status}


def post(args) -> dict:
    import psutil

    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="callosum-post-") as tmp:
        server = subprocess.Popen([sys.executable, "-m", "agent", "serve", "--port", str(port), "--db",
                                   str(Path(tmp) / "s.db"), "--planner", "scripted"], cwd=ROOT,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(300):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    time.sleep(0.1)
            proc = psutil.Process(server.pid)
            time.sleep(1)
            base = proc.memory_info().rss
            peak = {"rss": base}
            stop = threading.Event()

            def sample():
                while not stop.wait(0.05):
                    peak["rss"] = max(peak["rss"], proc.memory_info().rss)

            threading.Thread(target=sample, daemon=True).start()
            total = args.gib << 30
            host = f"127.0.0.1:{port}"
            runs = {
                "content_length": _flood(port, f"POST /api/sessions HTTP/1.1\r\nHost: {host}\r\nContent-Type: "
                                         f"application/json\r\nContent-Length: {total}\r\n\r\n".encode(), total),
                "chunked": _flood(port, f"POST /api/sessions HTTP/1.1\r\nHost: {host}\r\nContent-Type: "
                                  "application/json\r\nTransfer-Encoding: chunked\r\n\r\n".encode() +
                                  b"%x\r\n" % total, total),
            }
            time.sleep(1)
            stop.set()
            after = proc.memory_info().rss
        finally:
            server.terminate()
            server.wait(20)
    mib = lambda b: round(b / 2 ** 20, 1)  # noqa: E731
    return {"requests": runs, "rss_before_mib": mib(base), "rss_peak_mib": mib(peak["rss"]),
            "rss_after_mib": mib(after), "growth_peak_mib": mib(peak["rss"] - base)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="what", required=True)
    s = sub.add_parser("scenes")
    s.add_argument("--count", type=int, default=500)
    s.add_argument("--start", type=int, default=0)
    s.add_argument("--timeout", type=float, default=120.0)
    s.add_argument("--max-rss", type=int, default=3072, help="MiB")
    s.add_argument("--cli", type=int, default=0, help="also run the first N through the callosum executable")
    s.add_argument("--verbose", action="store_true")
    d = sub.add_parser("drivers")
    d.add_argument("--turns", type=int, default=6)
    p = sub.add_parser("post")
    p.add_argument("--gib", type=int, default=1)
    args = ap.parse_args()
    result = {"scenes": scenes, "drivers": drivers, "post": post}[args.what](args)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
