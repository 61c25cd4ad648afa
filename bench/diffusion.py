"""Time one video segment per family at realistic settings, with random weights.

    python bench/diffusion.py --family ltx --device cuda --dtype bf16 --json out.json
    python bench/diffusion.py --tiny            # every family, tiny configs, CPU, seconds

Full size builds each family at its published config (LTX-Video 2B, Wan2.1-VACE-1.3B and a 1.3B
Wan image-to-video, CogVideoX-5b-I2V) with random weights: the cost of a denoising step does not
depend on weight values. The text encoders keep their output width but only one layer, since they
run once per segment. Reported per family: time to first segment (build + first segment), the
steady seconds per segment (second segment, chained on the first), and the real-time ratio.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from renderer.video.base import Anchor  # noqa: E402
from renderer.video.tiny import BUILDERS, synthetic_geometry, tiny_tokenizer  # noqa: E402

# family -> (width, height, model frames, fps, steps)
FULL = {"ltx": (768, 512, 121, 24, 30), "wan-vace": (832, 480, 81, 16, 30), "wan": (832, 480, 81, 16, 30),
        "cogvideox": (720, 480, 49, 8, 50)}
TINY = {"ltx": (32, 32, 9, 8, 2), "wan-vace": (32, 32, 9, 8, 2), "wan": (32, 32, 9, 8, 2),
        "cogvideox": (32, 32, 9, 8, 2)}


def _text_encoder(umt5: bool = False):
    from transformers import T5Config, T5EncoderModel, UMT5Config, UMT5EncoderModel

    kw = dict(vocab_size=256, d_model=4096, d_kv=64, d_ff=10240, num_layers=1, num_heads=64)
    return UMT5EncoderModel(UMT5Config(**kw)) if umt5 else T5EncoderModel(T5Config(**kw))


def build_full(family: str):
    import diffusers as d

    if family == "ltx":
        return d.LTXConditionPipeline(
            transformer=d.LTXVideoTransformer3DModel(), vae=d.AutoencoderKLLTXVideo(),
            scheduler=d.FlowMatchEulerDiscreteScheduler(), text_encoder=_text_encoder(),
            tokenizer=tiny_tokenizer(128))
    wan_dit = dict(patch_size=(1, 2, 2), num_attention_heads=12, attention_head_dim=128, out_channels=16,
                   text_dim=4096, freq_dim=256, ffn_dim=8960, num_layers=30, cross_attn_norm=True,
                   qk_norm="rms_norm_across_heads", eps=1e-6, rope_max_seq_len=1024)
    wan_parts = dict(tokenizer=tiny_tokenizer(), text_encoder=_text_encoder(umt5=True), vae=d.AutoencoderKLWan(),
                     scheduler=d.UniPCMultistepScheduler(prediction_type="flow_prediction", use_flow_sigmas=True,
                                                         flow_shift=3.0))
    if family == "wan-vace":
        return d.WanVACEPipeline(transformer=d.WanVACETransformer3DModel(
            in_channels=16, vace_layers=list(range(0, 30, 2)), vace_in_channels=96, **wan_dit), **wan_parts)
    if family == "wan":
        return d.WanImageToVideoPipeline(transformer=d.WanTransformer3DModel(in_channels=36, **wan_dit), **wan_parts)
    if family == "cogvideox":
        transformer = d.CogVideoXTransformer3DModel(
            num_attention_heads=48, attention_head_dim=64, in_channels=32, out_channels=16, text_embed_dim=4096,
            num_layers=42, sample_width=90, sample_height=60, sample_frames=49, patch_size=2,
            use_rotary_positional_embeddings=True, use_learned_positional_embeddings=True)
        return d.CogVideoXImageToVideoPipeline(
            transformer=transformer, vae=d.AutoencoderKLCogVideoX(scaling_factor=0.7),
            scheduler=d.CogVideoXDPMScheduler(timestep_spacing="trailing"), text_encoder=_text_encoder(),
            tokenizer=tiny_tokenizer(226))
    raise ValueError(f"family: unknown {family!r}; choose one of {', '.join(FULL)}")


def renderer_for(family: str, pipe, device: str, dtype: torch.dtype, steps: int, size):
    from renderer.video import _renderer_class

    pipe.set_progress_bar_config(disable=True)
    return _renderer_class("wan" if family.startswith("wan") else family)(
        pipe, device=device, dtype=dtype, steps=steps, size=size)


def bench(family: str, *, tiny: bool, device: str, dtype: str, steps: int | None) -> dict:
    from renderer.video import DTYPES

    width, height, frames, fps, default_steps = (TINY if tiny else FULL)[family]
    steps = steps or default_steps
    torch_dtype = DTYPES[dtype]
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    t0 = time.perf_counter()
    torch.manual_seed(0)
    if tiny:
        pipe = BUILDERS[family]()
    else:
        with torch.device(device):
            pipe = build_full(family)
    pipe.to(device, torch_dtype)
    vr = renderer_for(family, pipe, device, torch_dtype, steps, (width, height))
    vr.start(seed=0, fps=fps)
    geo = lambda n, s: synthetic_geometry(n, s, width, height)
    opening = geo(frames, 0)
    out = vr.render_segment("a red ball rolls off a wooden table", opening, step=0)
    sync()
    first = time.perf_counter() - t0
    t1 = time.perf_counter()
    seg = vr.render_segment("the red ball bounces on the floor", geo(frames - 1, frames), step=1,
                            anchor=Anchor(frame=out.frames[-1], geometry=opening[-1]))
    sync()
    per_segment = time.perf_counter() - t1
    duration = frames / fps
    return {
        "family": family, "size": f"{width}x{height}", "frames": frames, "fps": fps, "steps": steps,
        "device": device, "dtype": dtype, "tiny": tiny, "segment_seconds": per_segment,
        "video_seconds": duration, "realtime_ratio": per_segment / duration, "first_segment_seconds": first,
        "model_frames": seg.conditioning["model_frames"], "seam_psnr": seg.seam_psnr,
        "gpu_peak_gib": torch.cuda.max_memory_allocated() / 2**30 if device.startswith("cuda") else None,
    }


def table(rows: list[dict]) -> str:
    head = f"{'family':10} {'size':9} {'frames':>6} {'steps':>5} {'seg s':>8} {'video s':>7} {'x RT':>7} {'first s':>8}"
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(f"{r['family']:10} {r['size']:9} {r['frames']:6d} {r['steps']:5d} {r['segment_seconds']:8.2f} "
                     f"{r['video_seconds']:7.2f} {r['realtime_ratio']:7.2f} {r['first_segment_seconds']:8.2f}")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--family", action="append", choices=sorted(FULL), help="repeatable; default: all")
    ap.add_argument("--tiny", action="store_true", help="tiny configs on CPU (seconds), for tests")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--dtype", default="fp32", choices=["fp32", "bf16", "fp16"])
    ap.add_argument("--steps", type=int, default=None, help="denoising steps (default per family)")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    ap.add_argument("--json", type=Path, default=None, help="write the rows here")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    families = args.family or ["ltx", "wan-vace", "wan", "cogvideox"]
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        ap.error("--device cuda: torch.cuda.is_available() is False")
    rows = []
    for fam in families:
        rows.append(bench(fam, tiny=args.tiny, device=args.device, dtype=args.dtype, steps=args.steps))
        if args.device.startswith("cuda"):
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats()
        print(table(rows[-1:]).splitlines()[-1], flush=True)
    print(table(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
