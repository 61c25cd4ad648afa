"""Hypothesis-driven hostile mutations of the shipped scenes: every file ends with exit 2 and a message,
or exit 0 and a finite state, within a time and memory bound, with no traceback, and ``check``
passing means ``play`` plays it.

Most run in-process (typer's runner: the real commands without an interpreter start per file); a
handful go through the real ``callosum`` executable. ``CALLOSUM_FUZZ_EXAMPLES`` sets how many
(default 200); ``bench/hostile.py scenes`` runs the seeded 500-file sweep for docs/reliability.md.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import ROOT
from tests.scene_mutations import (
    HOSTILE_NUMBERS,
    HOSTILE_VALUES,
    KINDS,
    SCENE_FILES,
    Mutation,
    check_then_play,
    first_non_finite,
    mutate,
)

EXAMPLES = int(os.environ.get("CALLOSUM_FUZZ_EXAMPLES", "200"))
SECONDS_PER_FILE = 60.0
MUTATIONS = st.builds(
    Mutation,
    scene=st.integers(0, len(SCENE_FILES) - 1),
    kind=st.sampled_from(KINDS),
    value=st.sampled_from(HOSTILE_VALUES) | st.sampled_from(HOSTILE_NUMBERS),
    seed=st.integers(0, 2 ** 31 - 1),
)


def _rss_kib() -> int:
    with open("/proc/self/status", encoding="ascii") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))


@pytest.fixture(scope="module")
def workdir():
    with tempfile.TemporaryDirectory(prefix="callosum-fuzz-") as tmp:
        yield Path(tmp)


def test_hostile_scene_mutations_end_cleanly(workdir):
    seen = {"files": 0, "played": 0, "rss": []}

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(MUTATIONS)
    def one(m: Mutation):
        path = workdir / f"m{seen['files']}.yaml"
        path.write_bytes(mutate(m))
        outcome = check_then_play(path, workdir)
        seen["files"] += 1
        seen["played"] += outcome.play_rc == 0
        seen["rss"].append(_rss_kib())
        assert not outcome.problems(), (m.describe(), outcome.problems())
        assert outcome.check_rc in (0, 2)
        assert outcome.seconds < SECONDS_PER_FILE, (m.describe(), outcome.seconds)
        path.unlink()

    one()
    assert seen["files"] >= min(EXAMPLES, 100)
    assert seen["played"] >= 5  # the sweep does reach play, not only the loader's refusals
    # a bounded process: what the later files cost in memory stays near what the early ones did
    assert max(seen["rss"]) - seen["rss"][len(seen["rss"]) // 4] < 400_000  # KiB


def _cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    limit = lambda: resource.setrlimit(resource.RLIMIT_CPU, (int(timeout), int(timeout)))  # noqa: E731
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "agent", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=timeout, env=env, preexec_fn=limit)


@pytest.mark.parametrize("mutation", [
    Mutation(1, "alias_bomb", 0, 1), Mutation(0, "deep", 0, 7), Mutation(1, "value", float("nan"), 11),
    Mutation(2, "extreme_event", 1e20, 3), Mutation(3, "mass_ratio", 0, 5), Mutation(5, "fixed_release", 0, 2),
], ids=lambda m: m.describe())
def test_through_the_real_cli(mutation, tmp_path):
    path = tmp_path / "hostile.yaml"
    path.write_bytes(mutate(mutation))
    check = _cli("check", str(path))
    assert check.returncode in (0, 2) and "Traceback" not in check.stderr + check.stdout, check.stderr
    if check.returncode == 2:
        assert "error:" in check.stderr
        return
    states = tmp_path / "s.jsonl"
    play = _cli("play", str(path), "--planner", "scripted", "--preset", "fast", "--out", str(tmp_path / "o.mp4"),
                "--state-out", str(states))
    assert play.returncode == 0, play.stderr
    assert "Traceback" not in play.stderr and first_non_finite(states) is None
