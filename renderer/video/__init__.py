"""Diffusion video renderers: load a local diffusers folder and render one segment per step."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from renderer.video.base import Anchor, FrameRules, SegmentOutput, SegmentStats, VideoRenderer

__all__ = ["Anchor", "FrameRules", "SegmentOutput", "SegmentStats", "VideoRenderer", "load_video_renderer",
           "detect_family", "parse_size"]

# model_index.json `_class_name` -> (family, pipeline class we load it with)
PIPELINE_FAMILIES = {
    "LTXConditionPipeline": ("ltx", "LTXConditionPipeline"),
    "LTXPipeline": ("ltx", "LTXConditionPipeline"),
    "LTXImageToVideoPipeline": ("ltx", "LTXConditionPipeline"),
    "WanImageToVideoPipeline": ("wan", "WanImageToVideoPipeline"),
    "WanVACEPipeline": ("wan-vace", "WanVACEPipeline"),
    "CogVideoXImageToVideoPipeline": ("cogvideox", "CogVideoXImageToVideoPipeline"),
}
TEXT_ONLY = {
    "WanPipeline": "a Wan image-to-video (Wan2.1-I2V / Wan2.2-I2V) or VACE folder",
    "CogVideoXPipeline": "a CogVideoX image-to-video folder (e.g. CogVideoX-5b-I2V)",
}
REQUIRED = {
    "ltx": ("transformer", "vae", "text_encoder", "tokenizer", "scheduler"),
    "wan": ("transformer", "vae", "text_encoder", "tokenizer", "scheduler"),
    "wan-vace": ("transformer", "vae", "text_encoder", "tokenizer", "scheduler"),
    "cogvideox": ("transformer", "vae", "text_encoder", "tokenizer", "scheduler"),
}
DTYPES = {"fp32": torch.float32, "float32": torch.float32, "bf16": torch.bfloat16, "bfloat16": torch.bfloat16,
          "fp16": torch.float16, "float16": torch.float16}


def parse_size(text: str | None) -> tuple[int, int] | None:
    """'768x512' -> (768, 512); None stays None."""
    if text is None:
        return None
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise ValueError(f"video size: expected WIDTHxHEIGHT such as 768x512, got {text!r}") from None
    if w < 1 or h < 1:
        raise ValueError(f"video size: width and height must be positive, got {text!r}")
    return w, h


def detect_family(path: str | Path) -> tuple[str, str, dict]:
    """Read ``model_index.json``; return (family, pipeline class name, index). Raises on a bad folder."""
    folder = Path(path)
    if not folder.is_dir():
        raise FileNotFoundError(f"video model: {str(folder)!r} is not a folder; pass --video-model the local "
                                f"diffusers folder that holds model_index.json")
    index_file = folder / "model_index.json"
    if not index_file.is_file():
        raise FileNotFoundError(f"video model: {str(folder)!r} has no model_index.json; pass the diffusers-format "
                                f"folder (the one with model_index.json, transformer/, vae/, ...)")
    index = json.loads(index_file.read_text())
    name = index.get("_class_name")
    if name in TEXT_ONLY:
        raise ValueError(f"video model: {name} is text-to-video only; segments need image conditioning, "
                         f"use {TEXT_ONLY[name]}")
    if name not in PIPELINE_FAMILIES:
        raise ValueError(f"video model: unknown pipeline {name!r} in {index_file}; supported: "
                         f"{', '.join(sorted(PIPELINE_FAMILIES))}")
    family, cls = PIPELINE_FAMILIES[name]
    listed = {k for k, v in index.items() if not k.startswith("_") and isinstance(v, list) and v[0] is not None}
    missing_listed = sorted(set(REQUIRED[family]) - listed)
    missing_dirs = sorted(k for k in listed if not (folder / k).is_dir() or not any((folder / k).iterdir()))
    missing = sorted(set(missing_listed) | set(missing_dirs))
    if missing:
        raise FileNotFoundError(f"video model: {str(folder)!r} is incomplete, missing component(s): "
                                f"{', '.join(missing)}; download the full {name} folder")
    return family, cls, index


def _renderer_class(family: str) -> type[VideoRenderer]:
    if family == "ltx":
        from renderer.video.ltx import LTXRenderer
        return LTXRenderer
    if family in ("wan", "wan-vace"):
        from renderer.video.wan import WanRenderer
        return WanRenderer
    from renderer.video.cogvideox import CogVideoXRenderer
    return CogVideoXRenderer


def load_video_renderer(path, *, device: str = "cpu", dtype: str = "fp32", offload: bool = False,
                        steps: int | None = None, size: tuple[int, int] | str | None = None,
                        strength: float | None = None, control: str | None = None) -> VideoRenderer:
    """Load a local diffusers video folder onto ``device`` in ``dtype`` and wrap it in its adapter."""
    import diffusers

    family, cls_name, _ = detect_family(path)
    if dtype not in DTYPES:
        raise ValueError(f"dtype: expected one of bf16, fp16, fp32, got {dtype!r}")
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"device: {device!r} requested but torch.cuda.is_available() is False; use --device cpu")
    if offload and dev.type != "cuda":
        raise ValueError("offload: model CPU offload needs --device cuda")
    if isinstance(size, str):
        size = parse_size(size)
    cls = getattr(diffusers, cls_name, None)
    if cls is None:
        raise ImportError(f"video model: diffusers {diffusers.__version__} has no {cls_name}; upgrade diffusers")
    pipe = cls.from_pretrained(str(path), dtype=DTYPES[dtype], local_files_only=True)
    pipe.set_progress_bar_config(disable=True)
    if offload:
        pipe.enable_model_cpu_offload(device=dev)
    else:
        pipe.to(dev)
    return _renderer_class(family)(pipe, device=str(dev), dtype=DTYPES[dtype], steps=steps, size=size,
                                   strength=strength, control=control)
