"""Wan 2.x adapter: ``WanImageToVideoPipeline`` or, for VACE folders, ``WanVACEPipeline``.

Conditioning:
- image-to-video: the anchor is the pipeline's ``image``; the geometry RGB video is VAE-encoded,
  noised to the ``strength`` point of the schedule and passed as ``latents`` while the schedule is
  truncated to match (the pipeline has no ``strength`` argument of its own).
- VACE: the control video is the geometry pass's depth (or segmentation) with the anchor as frame 0
  under a keep-mask, so VACE extends the previous segment while following the geometry.
"""

from __future__ import annotations

import numpy as np
import torch
from diffusers import WanVACEPipeline
from PIL import Image

from renderer.video import frames as fr
from renderer.video.base import FrameRules, VideoRenderer, noise_to_start, start_at_strength


class WanRenderer(VideoRenderer):
    family = "wan"
    default_steps = 30

    def __init__(self, pipe, **kwargs):
        super().__init__(pipe, **kwargs)
        if self.is_vace:
            self.family = "wan-vace"

    @property
    def is_vace(self) -> bool:
        return isinstance(self.pipe, WanVACEPipeline)

    @property
    def rules(self) -> FrameRules:
        p = self.pipe
        patch = p.transformer.config.patch_size[1] if p.transformer is not None else 2
        return FrameRules("Wan" + (" VACE" if self.is_vace else ""), frame_step=p.vae_scale_factor_temporal,
                          size_multiple=p.vae_scale_factor_spatial * patch, max_frames=81)

    def init_latents(self, video: list[np.ndarray], width: int, height: int) -> torch.Tensor:
        """Normalised Wan VAE latents of an RGB video, shape (1, z, F', H', W')."""
        p = self.pipe
        pixels = p.video_processor.preprocess_video([Image.fromarray(f) for f in video], height, width)
        with torch.no_grad():
            latents = p.vae.encode(pixels.to(self.device, p.vae.dtype)).latent_dist.mode()
        cfg = p.vae.config
        mean = torch.tensor(cfg.latents_mean).view(1, cfg.z_dim, 1, 1, 1).to(latents)
        std = torch.tensor(cfg.latents_std).view(1, cfg.z_dim, 1, 1, 1).to(latents)
        return ((latents - mean) / std).float()

    def _generate(self, caption, anchor, geometry, num_frames, width, height, generator, callback):
        if self.is_vace:
            return self._generate_vace(caption, anchor, geometry, num_frames, width, height, generator, callback)
        common = dict(prompt=caption, height=height, width=width, num_frames=num_frames,
                      num_inference_steps=self.steps, generator=generator, output_type="np",
                      callback_on_step_end=callback)
        if self.strength >= 1.0:
            out = self.pipe(image=Image.fromarray(anchor), **common)
            return out.frames[0], {"pipeline": "WanImageToVideoPipeline", "geometry": "none", "strength": 1.0}
        rgb = [fr.resize(g.rgb, width, height) for g in geometry]
        clean = self.init_latents(rgb, width, height)
        with start_at_strength(self.pipe.scheduler, self.strength):
            latents = noise_to_start(self.pipe.scheduler, clean, self.steps, generator, self.device)
            out = self.pipe(image=Image.fromarray(anchor), latents=latents, **common)
        return out.frames[0], {"pipeline": "WanImageToVideoPipeline", "geometry": "init_video:rgb",
                               "strength": self.strength}

    def _generate_vace(self, caption, anchor, geometry, num_frames, width, height, generator, callback):
        control, kind = self.geometry_control(geometry)
        control = [fr.resize(f, width, height) for f in control]
        video = [Image.fromarray(anchor)] + [Image.fromarray(f) for f in control[1:]]
        keep, generate = Image.new("RGB", (width, height), 0), Image.new("RGB", (width, height), (255, 255, 255))
        mask = [keep] + [generate] * (num_frames - 1)
        out = self.pipe(
            video=video, mask=mask, prompt=caption, height=height, width=width, num_frames=num_frames,
            num_inference_steps=self.steps, generator=generator, output_type="np",
            callback_on_step_end=callback,
        )
        return out.frames[0], {"pipeline": "WanVACEPipeline", "geometry": f"control:{kind}", "strength": None}
