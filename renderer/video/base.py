"""The video-renderer interface: one segment per simulation step, chained for consistency.

A session is ``start(seed, fps)`` followed by one ``render_segment(caption, geometry, step=n,
anchor=...)`` per step. The caller says what each segment continues from: an :class:`Anchor` (the
last generated frame of the segment that ended where this step starts, and the geometry frame it was
made from), or None to start on the geometry pass's first RGB frame. The renderer keeps no frames of
its own between segments, and draws each segment's noise from (seed, step) alone, so a step rendered
again with the same inputs (after a rewind, in another process) gives the same frames. The adapters
differ only in how they hand anchor, caption and geometry to their diffusers pipeline (``_generate``).
"""

from __future__ import annotations

import copy
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np
import torch

from renderer.video import frames as fr

if TYPE_CHECKING:
    from renderer.geometry import GeometryFrame

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Anchor:
    """What a segment continues from: the end of the segment before it on the session's timeline."""

    frame: np.ndarray
    """That segment's last generated frame, HxWx3 uint8 (resized to the model's size when it differs)."""
    geometry: GeometryFrame
    """The geometry-pass frame `frame` was generated from (the world where this step starts, with the
    same maps and stereo layout as the step's own geometry): it leads the segment's geometry timeline."""


def segment_generator(seed: int, step: int) -> torch.Generator:
    """The generator that draws step `step`'s noise: a function of the session seed and the step only."""
    entropy = np.random.SeedSequence([int(seed) % 2**64, int(step)]).generate_state(2, np.uint32)
    return torch.Generator(device="cpu").manual_seed(int(entropy[0]) << 32 | int(entropy[1]))


@dataclass(frozen=True)
class SegmentStats:
    """What a renderer keeps of a segment it rendered, for :meth:`VideoRenderer.summary`: numbers, no frames."""

    step: int
    """The step the segment rendered."""
    frames: int
    """Frames in the segment."""
    duration_s: float
    """Length of the segment at the session's fps."""
    seconds: float
    """Time it took to render (prepare and generate)."""
    seam_psnr: float | None
    """PSNR (dB) of its first frame against its anchor frame; None without an anchor."""
    seam_ssim: float | None
    """SSIM of the same pair of frames; None without an anchor."""
    inner_psnr: float | None
    """Mean PSNR between consecutive frames inside the segment; None for a one-frame segment."""


@dataclass
class SegmentOutput:
    """One rendered step."""

    frames: list[np.ndarray]
    """Generated frames, HxWx3 uint8, one per geometry frame of the step."""
    fps: int
    """Playback rate of the session (the scene's fps)."""
    seed: int
    """The session seed; the segment's noise comes from (seed, step) (:func:`segment_generator`)."""
    step: int
    """0-based index of the step (the turn) the segment renders."""
    caption: str
    """The prompt this segment was generated from."""
    timings: dict[str, float] = field(default_factory=dict)
    """Seconds per phase: prepare, generate, total."""
    conditioning: dict[str, Any] = field(default_factory=dict)
    """What the pipeline was given: anchor source, geometry use, strength, model frame count, size."""
    seam_psnr: float | None = None
    """PSNR (dB) of this segment's first frame against its anchor frame; None without an anchor."""
    seam_ssim: float | None = None
    """SSIM of the same pair of frames; None for the first segment."""
    inner_psnr: float | None = None
    """Mean PSNR between consecutive frames inside this segment: the baseline a seam should match."""

    @property
    def duration_s(self) -> float:
        """Length of the segment when played at ``fps``."""
        return len(self.frames) / self.fps

    def stats(self) -> SegmentStats:
        """The numbers a renderer keeps of this segment."""
        return SegmentStats(step=self.step, frames=len(self.frames), duration_s=self.duration_s,
                            seconds=self.timings["total"], seam_psnr=self.seam_psnr, seam_ssim=self.seam_ssim,
                            inner_psnr=self.inner_psnr)


@dataclass(frozen=True)
class FrameRules:
    """Which frame counts and sizes a loaded model accepts."""

    family: str
    """Adapter family name, used in error messages."""
    frame_step: int
    """Temporal compression: frame counts are ``frame_step * k + 1``."""
    size_multiple: int
    """Width and height must be multiples of this (VAE stride x transformer patch)."""
    max_frames: int | None = None
    """Longest segment the model is meant for; longer steps are generated at this count and stretched."""
    fixed_frames: int | None = None
    """Set when the model only accepts one frame count (learned positional embeddings)."""
    fixed_size: tuple[int, int] | None = None
    """(width, height) when the model only accepts one size."""

    def allowed_frames(self, around: int) -> list[int]:
        if self.fixed_frames:
            return [self.fixed_frames]
        k = max(0, (around - 1) // self.frame_step)
        return [self.frame_step * j + 1 for j in range(max(0, k - 1), k + 3)]

    def check_frames(self, n: int) -> None:
        ok = n in self.allowed_frames(n) and (self.max_frames is None or n <= self.max_frames)
        if not ok:
            rule = f"exactly {self.fixed_frames}" if self.fixed_frames else f"{self.frame_step}k+1"
            raise ValueError(
                f"num_frames: {self.family} needs {rule} frames"
                + (f" (at most {self.max_frames})" if self.max_frames else "")
                + f", got {n}; allowed near it: {', '.join(map(str, self.allowed_frames(n)))}"
            )

    def frames_for(self, n: int) -> int:
        """Smallest allowed count that holds ``n`` frames (capped at ``max_frames``)."""
        if self.fixed_frames:
            return self.fixed_frames
        count = self.frame_step * max(0, -(-(n - 1) // self.frame_step)) + 1
        return min(count, self.max_frames) if self.max_frames else count

    def check_size(self, width: int, height: int) -> None:
        if self.fixed_size and (width, height) != self.fixed_size:
            w, h = self.fixed_size
            raise ValueError(f"video size: this {self.family} model only renders {w}x{h}, got {width}x{height}; "
                             f"pass --video-size {w}x{h} or leave it out")
        m = self.size_multiple
        bad = [f"{name} {v}" for name, v in (("width", width), ("height", height)) if v % m or v < m]
        if bad:
            hint = lambda v: f"{max(m, v // m * m)} or {max(m, v // m * m) + m}"
            raise ValueError(f"video size: {self.family} needs width and height divisible by {m}, got "
                             f"{width}x{height} ({', '.join(bad)}); try width {hint(width)}, height {hint(height)}")

    def size_for(self, width: int, height: int) -> tuple[int, int]:
        """The default size for geometry of ``width`` x ``height``: the fixed size or rounded down."""
        if self.fixed_size:
            return self.fixed_size
        m = self.size_multiple
        return max(m, width // m * m), max(m, height // m * m)


@contextmanager
def start_at_strength(scheduler, strength: float):
    """Make the pipeline's own ``set_timesteps`` drop the noisiest ``1 - strength`` of the schedule.

    This turns an image-to-video pipeline that has no ``strength`` argument into video-to-video:
    the caller passes init latents already noised to the first kept step (see ``noise_to_start``).
    """
    original = scheduler.set_timesteps

    def truncated(*args, **kwargs):
        original(*args, **kwargs)
        n = len(scheduler.timesteps)
        skip = n - max(1, int(round(n * strength)))
        sigmas = getattr(scheduler, "sigmas", None)
        if sigmas is not None and len(sigmas) == n + 1:
            scheduler.sigmas = sigmas[skip:]
        scheduler.timesteps = scheduler.timesteps[skip:]

    scheduler.set_timesteps = truncated
    try:
        yield
    finally:
        del scheduler.set_timesteps


def noise_to_start(scheduler, clean: torch.Tensor, steps: int, generator, device) -> torch.Tensor:
    """Noise ``clean`` latents to the first timestep of the (already truncated) schedule."""
    from diffusers.utils.torch_utils import randn_tensor

    scheduler.set_timesteps(steps, device=device)
    noise = randn_tensor(clean.shape, generator=generator, device=clean.device, dtype=clean.dtype)
    if getattr(scheduler.config, "use_flow_sigmas", False) or type(scheduler).__name__.startswith("FlowMatch"):
        sigma = scheduler.sigmas[0].to(clean.device, clean.dtype)
        return sigma * noise + (1.0 - sigma) * clean
    return scheduler.add_noise(clean, noise, scheduler.timesteps[:1].to(clean.device))


class VideoRenderer:
    """Base adapter. Subclasses set ``family`` and implement ``rules`` and ``_generate``."""

    family = "base"
    default_steps = 30
    parallel_segments = 1
    """How many segments may be asked of this renderer's pipeline at once (its forks included); more
    wait on its lock. One for an in-process pipeline (a call mutates its scheduler)."""

    def __init__(self, pipe, *, device: str = "cpu", dtype: torch.dtype = torch.float32, steps: int | None = None,
                 size: tuple[int, int] | None = None, strength: float | None = None, control: str | None = None):
        self.pipe = pipe
        self.device = torch.device(device)
        self.dtype = dtype
        self.steps = steps or self.default_steps
        self.strength = 0.8 if strength is None else strength
        self.control = control
        if not 0.0 < self.strength <= 1.0:
            raise ValueError(f"strength: must be in (0, 1] (1 = ignore the geometry RGB), got {self.strength}")
        if self.steps < 1:
            raise ValueError(f"video steps: must be at least 1, got {self.steps}")
        if size is not None:
            self.rules.check_size(*size)
        self.size = size
        self.seed: int | None = None
        """The session seed (set by :meth:`start`); None until then."""
        self.fps: int | None = None
        """The session's playback rate (set by :meth:`start`)."""
        self.records: list[SegmentStats] = []
        """One entry per segment rendered since :meth:`start` (numbers only: the frames are the caller's)."""
        self.pipe_lock = threading.Lock()
        """Held for each pipeline call; shared with every :meth:`for_session` copy."""

    @property
    def rules(self) -> FrameRules:
        raise NotImplementedError

    def start(self, seed: int, fps: int) -> None:
        """Begin a session: its seed and playback rate, nothing rendered yet."""
        if fps < 1:
            raise ValueError(f"fps: must be a positive integer, got {fps}")
        self.seed, self.fps = int(seed), int(fps)
        self.records = []

    def for_session(self) -> VideoRenderer:
        """A renderer for another session over the same loaded pipeline: its own seed and records (call
        :meth:`start`), the same settings; the pipeline calls of this renderer and all its copies take
        turns on one lock, so sessions on several threads can share it."""
        other = copy.copy(self)
        other.seed, other.fps, other.records = None, None, []
        return other

    def check_inputs(self, caption: str, geometry: Sequence, step: int, anchor: Anchor | None) -> None:
        if self.seed is None:
            raise RuntimeError("render_segment: call start(seed, fps) first")
        if not isinstance(caption, str):
            raise TypeError(f"caption: must be a string, got {type(caption).__name__}")
        if isinstance(step, bool) or not isinstance(step, int) or step < 0:
            raise ValueError(f"step: must be the step's index, an integer >= 0, got {step!r}")
        if len(geometry) == 0:
            raise ValueError("geometry: a segment needs at least one geometry frame, got an empty list")
        shape = geometry[0].rgb.shape
        for i, g in enumerate(geometry):
            if g.rgb.dtype != np.uint8 or g.rgb.ndim != 3 or g.rgb.shape[2] != 3 or g.rgb.shape != shape:
                raise ValueError(f"geometry[{i}].rgb: expected {shape} uint8 like frame 0, "
                                 f"got {g.rgb.shape} {g.rgb.dtype}")
        if anchor is None:
            return
        if not isinstance(anchor, Anchor):
            raise TypeError(f"anchor: must be an Anchor or None, got {type(anchor).__name__}")
        frame = np.asarray(anchor.frame)
        if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
            raise ValueError(f"anchor.frame: expected an HxWx3 uint8 image, got {frame.shape} {frame.dtype}")
        if anchor.geometry.rgb.shape != shape:
            raise ValueError(f"anchor.geometry.rgb: expected {shape} like the step's geometry, "
                             f"got {anchor.geometry.rgb.shape}")

    def render_segment(self, caption: str, geometry: Sequence, *, step: int, anchor: Anchor | None = None,
                       progress: Progress | None = None) -> SegmentOutput:
        """Generate the frames of step `step`, continuing from `anchor` (None: from the geometry pass)."""
        # 1. Check inputs
        self.check_inputs(caption, geometry, step, anchor)
        t0 = time.perf_counter()

        # 2. Size and frame count: a continuing segment starts one frame earlier, at the anchor
        h0, w0 = geometry[0].rgb.shape[:2]
        width, height = self.size or self.rules.size_for(w0, h0)
        timeline = ([anchor.geometry] if anchor else []) + list(geometry)
        num_frames = self.rules.frames_for(len(timeline))

        # 3. Anchor image: the anchor's frame, else the geometry pass's first RGB frame
        start = fr.resize(np.asarray(anchor.frame) if anchor else geometry[0].rgb, width, height)

        # 4. Geometry resampled to the model's frame count and size
        model_geometry = fr.resample(timeline, num_frames)

        # 5. Denoise, with noise drawn from (seed, step)
        t1 = time.perf_counter()
        with self.pipe_lock:
            raw, conditioning = self._generate(caption, start, model_geometry, num_frames, width, height,
                                               segment_generator(self.seed, step), self._callback(progress))
        t2 = time.perf_counter()

        # 6. Back to the step's timeline; drop the anchor frame of a continuing segment
        out = [fr.to_uint8(f) for f in fr.resample(list(raw), len(timeline))]
        out = out[1:] if anchor else out
        seg = SegmentOutput(
            frames=out, fps=self.fps, seed=self.seed, step=step, caption=caption,
            timings={"prepare": t1 - t0, "generate": t2 - t1, "total": time.perf_counter() - t0},
            conditioning={"anchor": "previous_segment" if anchor else "geometry_rgb", "model_frames": num_frames,
                          "size": (width, height), "steps": self.steps, **conditioning},
        )

        # 7. Consistency metric against the anchor frame
        if anchor:
            seg.seam_psnr = fr.psnr(start, seg.frames[0])
            seg.seam_ssim = fr.ssim(start, seg.frames[0])
        if len(out) > 1:
            seg.inner_psnr = float(np.mean([fr.psnr(a, b) for a, b in zip(out, out[1:])]))
        self.records.append(seg.stats())
        return seg

    def _generate(self, caption, anchor, geometry, num_frames, width, height, generator,
                  callback) -> tuple[np.ndarray, dict]:
        """Run the pipeline with `generator`; return (frames as float HxWx3 in [0, 1], conditioning description)."""
        raise NotImplementedError

    def denoise(self, caption, anchor, geometry, num_frames: int, width: int, height: int,
                generator: torch.Generator) -> tuple[np.ndarray, dict]:
        """One pipeline call, as ``render_segment`` makes it (for a remote worker that holds the
        pipeline: renderer.video.ray_serve)."""
        return self._generate(caption, anchor, geometry, num_frames, width, height, generator, None)

    def _callback(self, progress: Progress | None):
        if progress is None:
            return None

        def on_step_end(pipe, i, t, kwargs):
            progress(i + 1, getattr(pipe, "_num_timesteps", None) or self.steps)
            return kwargs

        return on_step_end

    def summary(self) -> dict[str, Any]:
        """Totals over the segments rendered since :meth:`start` (a rewound step's included): counts,
        seam metrics, timings and the real-time ratio."""
        segs = self.records
        seams = [s for s in segs if s.seam_psnr is not None]
        inner = [s.inner_psnr for s in segs if s.inner_psnr is not None]
        gen = sum(s.seconds for s in segs)
        dur = sum(s.duration_s for s in segs)
        mean = lambda xs: float(np.mean(xs)) if xs else None
        return {
            "family": self.family, "seed": self.seed, "fps": self.fps,
            "segments": len(segs), "frames": sum(s.frames for s in segs),
            "seam_psnr_mean": mean([s.seam_psnr for s in seams]),
            "seam_psnr_min": min((s.seam_psnr for s in seams), default=None),
            "seam_ssim_mean": mean([s.seam_ssim for s in seams]),
            "seam_ssim_min": min((s.seam_ssim for s in seams), default=None),
            "inner_psnr_mean": mean(inner),
            "seconds": gen, "video_seconds": dur, "realtime_ratio": (gen / dur) if dur else None,
            "first_segment_seconds": segs[0].seconds if segs else None,
        }

    def geometry_control(self, geometry: Sequence) -> tuple[list[np.ndarray], str]:
        """The control video: depth, segmentation or RGB, whichever ``control`` asks for and exists."""
        want = self.control or ("depth" if geometry[0].depth is not None else
                                "segmentation" if geometry[0].segmentation is not None else "rgb")
        if want == "depth" and all(g.depth is not None for g in geometry):
            return fr.depth_video([g.depth for g in geometry]), "depth"
        if want == "segmentation" and all(g.segmentation is not None for g in geometry):
            return fr.segmentation_video([g.segmentation for g in geometry], [g.labels for g in geometry]), "segmentation"
        if want not in ("depth", "segmentation", "rgb"):
            raise ValueError(f"control: expected depth, segmentation or rgb, got {want!r}")
        if self.control and want != "rgb":
            raise ValueError(f"control: {want!r} requested but the geometry frames carry no {want}; "
                             f"render geometry with {want}=True")
        return [g.rgb for g in geometry], "rgb"
