"""CogVideoX adapter: ``CogVideoXImageToVideoPipeline``.

Conditioning: the anchor is the pipeline's ``image``; the geometry RGB video is VAE-encoded, noised to
the ``strength`` point of the schedule and passed as ``latents`` with the schedule truncated to match.
Models with learned positional embeddings (CogVideoX-5b-I2V) accept exactly one size and frame count.
"""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from renderer.video import frames as fr
from renderer.video.base import FrameRules, VideoRenderer, noise_to_start, start_at_strength


class CogVideoXRenderer(VideoRenderer):
    family = "cogvideox"
    default_steps = 50

    @property
    def rules(self) -> FrameRules:
        p, cfg = self.pipe, self.pipe.transformer.config
        fixed = cfg.use_learned_positional_embeddings
        s = p.vae_scale_factor_spatial
        return FrameRules(
            "CogVideoX", frame_step=p.vae_scale_factor_temporal, size_multiple=s * cfg.patch_size,
            max_frames=cfg.sample_frames if not fixed else None,
            fixed_frames=cfg.sample_frames if fixed else None,
            fixed_size=(cfg.sample_width * s, cfg.sample_height * s) if fixed else None,
        )

    def init_latents(self, video: list[np.ndarray], width: int, height: int, num_frames: int) -> torch.Tensor:
        """Scaled VAE latents of an RGB video in the pipeline's (1, F', C, H', W') layout."""
        p = self.pipe
        pixels = p.video_processor.preprocess_video([Image.fromarray(f) for f in video], height, width)
        with torch.no_grad():
            latents = p.vae.encode(pixels.to(self.device, p.vae.dtype)).latent_dist.mode()
        latents = (latents * p.vae_scaling_factor_image).permute(0, 2, 1, 3, 4).float()
        want = (num_frames - 1) // p.vae_scale_factor_temporal + 1
        p_t = p.transformer.config.patch_size_t
        if p_t is not None:
            want += want % p_t
        if latents.shape[1] < want:
            pad = latents[:, :1].repeat(1, want - latents.shape[1], 1, 1, 1)
            latents = torch.cat([pad, latents], dim=1)
        return latents

    def _generate(self, caption, anchor, geometry, num_frames, width, height, generator, callback):
        common = dict(prompt=caption, height=height, width=width, num_frames=num_frames,
                      num_inference_steps=self.steps, generator=generator, output_type="np",
                      callback_on_step_end=callback,
                      max_sequence_length=self.pipe.transformer.config.max_text_seq_length)
        if self.strength >= 1.0:
            out = self.pipe(image=Image.fromarray(anchor), **common)
            return out.frames[0], {"pipeline": "CogVideoXImageToVideoPipeline", "geometry": "none",
                                   "strength": 1.0}
        rgb = [fr.resize(g.rgb, width, height) for g in geometry]
        clean = self.init_latents(rgb, width, height, num_frames)
        with start_at_strength(self.pipe.scheduler, self.strength):
            latents = noise_to_start(self.pipe.scheduler, clean, self.steps, generator, self.device)
            out = self.pipe(image=Image.fromarray(anchor), latents=latents, **common)
        return out.frames[0], {"pipeline": "CogVideoXImageToVideoPipeline", "geometry": "init_video:rgb",
                               "strength": self.strength}
