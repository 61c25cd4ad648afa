"""bench/vr.py runs end to end (a few trials): every head turn is seen drawn, and most come back as
server frames rendered for that pose. No speed is asserted here; figures are in docs/benchmarks.md."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.browser_util import CHROMIUM
from tests.conftest import ROOT

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed (apt-get install -y chromium)")
pytest.importorskip("playwright.sync_api", reason="pip install playwright (it drives /usr/bin/chromium)")
pytest.importorskip("fastapi")


def test_vr_bench_measures_every_head_turn(tmp_path):
    out = tmp_path / "vr.json"
    result = subprocess.run([sys.executable, "bench/vr.py", "--trials", "8", "--size", "160x120", "--viewport",
                             "640x400", "--json", str(out)], capture_output=True, text=True, cwd=ROOT, timeout=240)
    assert result.returncode == 0, result.stdout + result.stderr
    figures = json.loads(out.read_text())
    assert figures["pose_to_reprojected_frame"]["n"] == 8  # each turn of the head was drawn
    assert figures["round_trip_to_server_frame"]["n"] >= 6  # and came back from the server
    for name in ("pose_to_reprojected_frame", "change_to_reprojected_frame", "round_trip_to_server_frame"):
        s = figures[name]
        assert 0 < s["p50_ms"] <= s["p99_ms"] <= s["max_ms"]
    assert figures["round_trip_to_server_frame"]["p50_ms"] < figures["round_trip_to_drawn_server_frame"]["p99_ms"]
    assert "pose_to_reprojected_frame" in result.stdout
