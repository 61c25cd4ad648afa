"""LTX-Video adapter: ``LTXConditionPipeline``.

Conditioning: the anchor frame is a hard frame condition at index 0 (strength 1); the geometry RGB
video is VAE-encoded into the init latents and denoised from ``denoise_strength = strength``
(video-to-video). LTX has no depth/segmentation control in diffusers, so geometry enters as RGB.
"""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from renderer.video import frames as fr
from renderer.video.base import FrameRules, VideoRenderer


class LTXRenderer(VideoRenderer):
    family = "ltx"
    default_steps = 30

    @property
    def rules(self) -> FrameRules:
        p = self.pipe
        # LTXConditionPipeline.check_inputs demands multiples of 32 whatever the VAE's stride
        stride = p.vae_spatial_compression_ratio * p.transformer_spatial_patch_size
        return FrameRules("LTX-Video", frame_step=p.vae_temporal_compression_ratio,
                          size_multiple=max(32, stride), max_frames=257)

    def init_latents(self, video: list[np.ndarray], width: int, height: int) -> torch.Tensor:
        """Normalised VAE latents of the geometry RGB video, shape (1, C, F', H', W')."""
        p = self.pipe
        pixels = p.video_processor.preprocess_video([Image.fromarray(f) for f in video], height, width)
        pixels = pixels.to(self.device, p.vae.dtype)
        with torch.no_grad():
            latents = p.vae.encode(pixels).latent_dist.mode()
        return p._normalize_latents(latents, p.vae.latents_mean, p.vae.latents_std).float()

    def _generate(self, caption, anchor, geometry, num_frames, width, height, generator, callback):
        from diffusers.pipelines.ltx.pipeline_ltx_condition import LTXVideoCondition

        rgb = [fr.resize(g.rgb, width, height) for g in geometry]
        latents = self.init_latents(rgb, width, height) if self.strength < 1.0 else None
        vae_cfg = self.pipe.vae.config
        out = self.pipe(
            conditions=[LTXVideoCondition(image=Image.fromarray(anchor), frame_index=0, strength=1.0)],
            prompt=caption, height=height, width=width, num_frames=num_frames, frame_rate=self.fps,
            num_inference_steps=self.steps, denoise_strength=self.strength, latents=latents,
            decode_timestep=0.05 if vae_cfg.timestep_conditioning else 0.0,
            decode_noise_scale=0.025 if vae_cfg.timestep_conditioning else None,
            generator=generator, output_type="np", callback_on_step_end=callback,
        )
        return out.frames[0], {"pipeline": type(self.pipe).__name__, "geometry": "init_video:rgb",
                               "strength": self.strength}
