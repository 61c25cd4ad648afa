"""Video segments on Ray Serve: the diffusers pipeline lives in a Ray Serve deployment (on its own
GPU hosts); a session's renderer only sends each segment's pipeline call there.

Everything stateful stays with the session: ``RayVideoRenderer`` is a :class:`VideoRenderer` whose
``render_segment`` runs here (anchor, resampling, seams) and whose one pipeline call goes to a worker
with the caption, the anchor frame, the resampled geometry, the settings and the state of the
segment's generator (seeded from the session seed and the step); the worker sends the frames back. So a
segment through Ray equals the in-process one bit for bit (same pipeline, inputs and noise), and any
replica can serve any segment. Back-pressure: each replica takes one segment at a time
(``max_ongoing_requests=1``) and at most :data:`MAX_QUEUED` wait; beyond that a segment fails at once
with a clear error instead of queueing without bound.

Deploy (on a node of the Ray cluster, e.g. the head)::

    python -m renderer.video.ray_serve MODEL_DIR --address auto --replicas 2 --device cuda

and point sessions at it: ``--video-model ray://HEAD:10001`` (Ray Client) or ``--video-model ray:HOST:PORT``
(a GCS address, from a node of the cluster).
"""

from __future__ import annotations

import argparse
import contextlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from renderer.video.base import FrameRules, VideoRenderer

APP = "callosum-video"
DEPLOYMENT = "VideoWorker"
MAX_QUEUED = 8
"""Segments that may wait for a busy replica before new ones are refused."""
RESULT_TIMEOUT_S = 1800.0


class VideoWorkerError(RuntimeError):
    """No worker, all workers busy, or a worker failed mid-segment; the message says which and the fix."""


@dataclass
class SegmentJob:
    """One pipeline call: what a worker needs to draw exactly the frames the local renderer would."""

    caption: str
    anchor: np.ndarray
    geometry: list
    num_frames: int
    width: int
    height: int
    fps: int
    steps: int
    strength: float
    control: str | None
    generator_state: bytes
    """``torch.Generator.get_state()`` of the segment's generator before the call."""


class VideoWorker:
    """The deployment's body: one pipeline, loaded once per replica."""

    def __init__(self, path: str, device: str = "cpu", dtype: str = "fp32", threads: int = 1):
        from renderer.video import load_video_renderer

        torch.set_num_threads(threads)
        self.renderer = load_video_renderer(path, device=device, dtype=dtype)

    def pid(self) -> int:
        """This replica's process id (for drills that kill it)."""
        import os

        return os.getpid()

    def describe(self) -> dict[str, Any]:
        r = self.renderer
        return {"family": r.family, "rules": r.rules, "default_steps": r.default_steps}

    def generate(self, job: SegmentJob) -> tuple[np.ndarray, dict]:
        r = self.renderer
        r.fps, r.steps, r.strength, r.control = job.fps, job.steps, job.strength, job.control
        generator = torch.Generator(device="cpu")
        generator.set_state(torch.frombuffer(bytearray(job.generator_state), dtype=torch.uint8))
        raw, conditioning = r.denoise(job.caption, job.anchor, job.geometry, job.num_frames, job.width, job.height,
                                      generator)
        return np.asarray(raw), conditioning


def connect(address: str) -> None:
    """Join the Ray cluster at `address` (``ray://HOST:PORT``, ``HOST:PORT`` or ``auto``) once."""
    import ray

    if not ray.is_initialized():
        ray.init(address=address, logging_level="ERROR", log_to_driver=False)


class RayVideoRenderer(VideoRenderer):
    """A :class:`VideoRenderer` whose pipeline calls run on the Ray Serve deployment at `address`."""

    parallel_segments = MAX_QUEUED
    """The deployment queues and refuses (back-pressure) by itself: no local lock."""

    def __init__(self, address: str, *, steps: int | None = None, size: tuple[int, int] | None = None,
                 strength: float | None = None, control: str | None = None, timeout_s: float = RESULT_TIMEOUT_S):
        from ray import serve

        self.address, self.timeout_s = address, timeout_s
        try:
            connect(address)
        except Exception as exc:  # noqa: BLE001 (ray raises ConnectionError, RuntimeError, ...)
            raise VideoWorkerError(f"--video-model ray:{address}: cannot join the Ray cluster ({exc}); start it "
                                   "(`ray start --head`) or fix the address") from None
        try:
            self.handle = serve.get_deployment_handle(DEPLOYMENT, app_name=APP)
            info = self.handle.describe.remote().result(timeout_s=60)
        except Exception as exc:  # noqa: BLE001
            raise VideoWorkerError(f"no video workers on the Ray cluster at {address} (no Serve app {APP!r}: "
                                   f"{type(exc).__name__}); deploy them: python -m renderer.video.ray_serve "
                                   f"MODEL_DIR --address {address}") from None
        self.family, self._rules = info["family"], info["rules"]
        self.default_steps = info["default_steps"]
        super().__init__(None, steps=steps, size=size, strength=strength, control=control)
        self.pipe_lock = contextlib.nullcontext()

    @property
    def rules(self) -> FrameRules:
        return self._rules

    def _generate(self, caption, anchor, geometry, num_frames, width, height, generator, callback):
        from ray.serve.exceptions import BackPressureError

        job = SegmentJob(caption, np.asarray(anchor), list(geometry), num_frames, width, height, self.fps,
                         self.steps, self.strength, self.control, bytes(generator.get_state().numpy().tobytes()))
        try:
            raw, conditioning = self.handle.generate.remote(job).result(timeout_s=self.timeout_s)
        except BackPressureError:
            raise VideoWorkerError(f"every video worker at {self.address} is busy and {MAX_QUEUED} segments wait "
                                   "already; add replicas (--replicas) or try again") from None
        except Exception as exc:  # noqa: BLE001 (a replica that died, a timeout: never a wrong frame)
            raise VideoWorkerError(f"the video worker at {self.address} failed mid-segment ({type(exc).__name__}: "
                                   f"{' '.join(str(exc).split())[:200]}); the segment was not rendered") from None
        return raw, {**conditioning, "worker": "ray"}


def deploy(path: str, address: str, *, replicas: int = 1, device: str = "cpu", dtype: str = "fp32",
           num_cpus: float = 1, num_gpus: float = 0, threads: int = 1) -> None:
    """Start (or update) the video deployment on the cluster at `address`."""
    from ray import serve

    connect(address)
    app = serve.deployment(VideoWorker, name=DEPLOYMENT, num_replicas=replicas, max_ongoing_requests=1,
                           max_queued_requests=MAX_QUEUED,
                           ray_actor_options={"num_cpus": num_cpus, "num_gpus": num_gpus}).bind(
        path, device=device, dtype=dtype, threads=threads)
    serve.run(app, name=APP, route_prefix=None, blocking=False)


def main() -> None:
    p = argparse.ArgumentParser(description="Deploy Callosum's video workers on Ray Serve.")
    p.add_argument("model", help="local diffusers video folder (on the worker hosts)")
    p.add_argument("--address", default="auto", help="Ray cluster: auto, HOST:PORT or ray://HOST:PORT")
    p.add_argument("--replicas", type=int, default=1)
    p.add_argument("--device", default="cpu")
    p.add_argument("--dtype", default="fp32")
    p.add_argument("--num-gpus", type=float, default=0, help="GPUs per replica (e.g. 1)")
    p.add_argument("--num-cpus", type=float, default=1, help="CPUs per replica")
    a = p.parse_args()
    deploy(a.model, a.address, replicas=a.replicas, device=a.device, dtype=a.dtype, num_cpus=a.num_cpus,
           num_gpus=a.num_gpus)
    print(f"video workers deployed: app {APP!r}, {a.replicas} replica(s) of {a.model}")


if __name__ == "__main__":
    main()
