"""bench/diffusion.py --tiny runs every family on CPU and reports the real-time ratio."""

import importlib.util
import json

import pytest

pytest.importorskip("diffusers")

from tests.conftest import ROOT  # noqa: E402


def test_bench_tiny_reports_rows(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("bench_diffusion", ROOT / "bench" / "diffusion.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    out = tmp_path / "b.json"
    assert bench.main(["--tiny", "--family", "cogvideox", "--family", "wan-vace", "--json", str(out)]) == 0
    rows = json.loads(out.read_text())
    assert [r["family"] for r in rows] == ["cogvideox", "wan-vace"]
    for r in rows:
        assert r["segment_seconds"] > 0 and r["realtime_ratio"] == pytest.approx(r["segment_seconds"] / r["video_seconds"])
        assert r["first_segment_seconds"] >= r["segment_seconds"] * 0.5 and r["seam_psnr"] is not None
    assert "x RT" in capsys.readouterr().out
