"""Video segments on a local Ray Serve deployment (one CPU, loopback) of a tiny real pipeline: the
same segments, bit for bit, as the in-process renderer; a clear error when no worker is deployed, and
when the worker dies mid-segment (never a wrong frame)."""

from __future__ import annotations

import os
import signal
import threading

import numpy as np
import pytest

pytest.importorskip("diffusers")
ray = pytest.importorskip("ray", reason="the ray extra is not installed (pip install 'callosum[ray]')")

from renderer.video import Anchor, load_video_renderer  # noqa: E402
from renderer.video.ray_serve import RayVideoRenderer, VideoWorkerError, deploy  # noqa: E402
from renderer.video.tiny import synthetic_geometry  # noqa: E402



@pytest.fixture(scope="module")
def local_ray():
    from ray import serve

    ray.init(num_cpus=1, include_dashboard=False, logging_level="ERROR", log_to_driver=False,
             _node_ip_address="127.0.0.1")
    try:
        yield ray.get_runtime_context().gcs_address
    finally:
        serve.shutdown()
        ray.shutdown()


def _segments(renderer, seed: int = 7) -> list[list[np.ndarray]]:
    renderer.start(seed, 24)
    geo = synthetic_geometry(18, width=64, height=64)
    first = renderer.render_segment("a red ball slides", geo[:9], step=0).frames
    anchor = Anchor(frame=first[-1], geometry=geo[8])
    return [first, renderer.render_segment("the ball stops", geo[9:], step=1, anchor=anchor).frames]


def test_no_worker_is_a_clear_error(local_ray):
    with pytest.raises(VideoWorkerError, match=r"no video workers on the Ray cluster .* deploy them: python -m "
                                               r"renderer.video.ray_serve MODEL_DIR"):
        RayVideoRenderer(local_ray, steps=2, size=(64, 64))


def test_a_segment_through_ray_equals_the_local_one_bit_for_bit(local_ray, tiny_ltx):
    import torch

    torch.set_num_threads(1)
    deploy(str(tiny_ltx), local_ray)
    remote = _segments(RayVideoRenderer(local_ray, steps=2, size=(64, 64)))
    local = _segments(load_video_renderer(tiny_ltx, steps=2, size=(64, 64)))
    assert [len(s) for s in remote] == [len(s) for s in local] == [9, 9]
    for r_seg, l_seg in zip(remote, local):
        for r, l in zip(r_seg, l_seg):
            assert r.dtype == np.uint8 and np.array_equal(r, l)
    assert not np.array_equal(remote[0][0], remote[1][-1])  # (the frames are not all one image)


def test_a_worker_killed_mid_segment_is_a_clear_error(local_ray, tiny_ltx):
    deploy(str(tiny_ltx), local_ray)
    renderer = RayVideoRenderer(local_ray, steps=400, size=(64, 64))  # far longer than the 1 s before the kill
    pid = renderer.handle.pid.remote().result(timeout_s=60)
    renderer.start(3, 24)
    geo = synthetic_geometry(9, width=64, height=64)
    threading.Timer(1.0, os.kill, (pid, signal.SIGKILL)).start()
    with pytest.raises(VideoWorkerError, match="failed mid-segment .* the segment was not rendered"):
        renderer.render_segment("doomed", geo, step=0)
    assert renderer.records == []  # nothing half-made is kept


def test_the_cli_option_names_the_workers(local_ray, tiny_ltx):
    from agent.cli.options import make_video

    deploy(str(tiny_ltx), local_ray)
    renderer = make_video(f"ray:{local_ray}", 2, "64x64", "cpu", "fp32", None, False)
    assert isinstance(renderer, RayVideoRenderer) and renderer.family == "ltx" and renderer.size == (64, 64)
