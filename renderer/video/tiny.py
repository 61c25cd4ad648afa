"""Tiny random-weight pipelines: THE test fixture builder (the video tests) and the bench's ``--tiny`` mode.

Every builder returns a real diffusers pipeline whose modules have 1-2 layers and a few channels,
with a T5 tokenizer made in memory, so nothing is ever downloaded. Cost does not depend on the
weights, so the bench's full-size builders (``full=True``) use the published model configs with
random weights.
"""

from __future__ import annotations

import string

import torch

FAMILIES = ("ltx", "wan", "wan-vace", "cogvideox")


def tiny_tokenizer(model_max_length: int = 512):
    """A sentencepiece-style T5 tokenizer over lowercase letters, digits and punctuation."""
    from transformers import T5Tokenizer

    pieces = ["<pad>", "</s>", "<unk>", "\u2581"] + list(string.ascii_letters + string.digits + string.punctuation)
    vocab = [(p, 0.0) for p in pieces[:4]] + [(p, -float(i + 1)) for i, p in enumerate(pieces[4:])]
    vocab += [("\u2581" + c, -0.5) for c in string.ascii_lowercase]
    return T5Tokenizer(vocab=vocab, extra_ids=0, model_max_length=model_max_length)


def _t5_encoder(umt5: bool = False, d_model: int = 32):
    from transformers import T5Config, T5EncoderModel, UMT5Config, UMT5EncoderModel

    kw = dict(vocab_size=256, d_model=d_model, d_kv=8, d_ff=37, num_layers=2, num_heads=4)
    if umt5:
        return UMT5EncoderModel(UMT5Config(**kw))
    return T5EncoderModel(T5Config(**kw))


def build_ltx(seed: int = 0):
    """LTXConditionPipeline: VAE compresses 4x in space and time, transformer has one layer."""
    from diffusers import AutoencoderKLLTXVideo, FlowMatchEulerDiscreteScheduler, LTXConditionPipeline
    from diffusers import LTXVideoTransformer3DModel

    torch.manual_seed(seed)
    transformer = LTXVideoTransformer3DModel(
        in_channels=8, out_channels=8, patch_size=1, patch_size_t=1, num_attention_heads=4,
        attention_head_dim=8, cross_attention_dim=32, num_layers=1, caption_channels=32,
    )
    vae = AutoencoderKLLTXVideo(
        in_channels=3, out_channels=3, latent_channels=8, block_out_channels=(8, 8, 8, 8),
        decoder_block_out_channels=(8, 8, 8, 8), layers_per_block=(1, 1, 1, 1, 1),
        decoder_layers_per_block=(1, 1, 1, 1, 1), spatio_temporal_scaling=(True, True, False, False),
        decoder_spatio_temporal_scaling=(True, True, False, False),
        decoder_inject_noise=(False, False, False, False, False), upsample_residual=(False, False, False, False),
        upsample_factor=(1, 1, 1, 1), timestep_conditioning=False, patch_size=1, patch_size_t=1,
        encoder_causal=True, decoder_causal=False,
    )
    vae.use_framewise_encoding = False
    vae.use_framewise_decoding = False
    return LTXConditionPipeline(
        transformer=transformer, vae=vae, scheduler=FlowMatchEulerDiscreteScheduler(),
        text_encoder=_t5_encoder(), tokenizer=tiny_tokenizer(128),
    )


def _wan_vae():
    from diffusers import AutoencoderKLWan

    return AutoencoderKLWan(base_dim=3, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1,
                            temperal_downsample=[False, True, True])


def _wan_scheduler():
    from diffusers import UniPCMultistepScheduler

    return UniPCMultistepScheduler(prediction_type="flow_prediction", use_flow_sigmas=True, flow_shift=3.0)


_WAN_DIT = dict(patch_size=(1, 2, 2), num_attention_heads=2, attention_head_dim=12, out_channels=16,
                text_dim=32, freq_dim=256, ffn_dim=32, num_layers=2, cross_attn_norm=True,
                qk_norm="rms_norm_across_heads", rope_max_seq_len=32)


def build_wan(seed: int = 0):
    """WanImageToVideoPipeline in the Wan 2.2 layout (no CLIP image encoder)."""
    from diffusers import WanImageToVideoPipeline, WanTransformer3DModel

    torch.manual_seed(seed)
    return WanImageToVideoPipeline(
        tokenizer=tiny_tokenizer(), text_encoder=_t5_encoder(umt5=True), vae=_wan_vae(),
        scheduler=_wan_scheduler(), transformer=WanTransformer3DModel(in_channels=36, **_WAN_DIT),
    )


def build_wan_vace(seed: int = 0):
    """WanVACEPipeline: control video (depth/segmentation) plus a kept first frame."""
    from diffusers import WanVACEPipeline, WanVACETransformer3DModel

    torch.manual_seed(seed)
    return WanVACEPipeline(
        tokenizer=tiny_tokenizer(), text_encoder=_t5_encoder(umt5=True), vae=_wan_vae(),
        scheduler=_wan_scheduler(),
        transformer=WanVACETransformer3DModel(in_channels=16, vace_layers=[0], vace_in_channels=96, **_WAN_DIT),
    )


def build_cogvideox(seed: int = 0, width: int = 32, height: int = 32, frames: int = 9):
    """CogVideoXImageToVideoPipeline; learned positional embeddings fix its size and frame count."""
    from diffusers import AutoencoderKLCogVideoX, CogVideoXDDIMScheduler, CogVideoXImageToVideoPipeline
    from diffusers import CogVideoXTransformer3DModel

    torch.manual_seed(seed)
    transformer = CogVideoXTransformer3DModel(
        num_attention_heads=2, attention_head_dim=16, in_channels=8, out_channels=4, time_embed_dim=2,
        text_embed_dim=32, num_layers=1, sample_width=width // 8, sample_height=height // 8,
        sample_frames=frames, patch_size=2, temporal_compression_ratio=4, max_text_seq_length=16,
        use_rotary_positional_embeddings=True, use_learned_positional_embeddings=True,
    )
    vae = AutoencoderKLCogVideoX(
        in_channels=3, out_channels=3, down_block_types=("CogVideoXDownBlock3D",) * 4,
        up_block_types=("CogVideoXUpBlock3D",) * 4, block_out_channels=(8, 8, 8, 8), latent_channels=4,
        layers_per_block=1, norm_num_groups=2, temporal_compression_ratio=4,
    )
    return CogVideoXImageToVideoPipeline(
        tokenizer=tiny_tokenizer(16), text_encoder=_t5_encoder(), vae=vae,
        scheduler=CogVideoXDDIMScheduler(), transformer=transformer,
    )


BUILDERS = {"ltx": build_ltx, "wan": build_wan, "wan-vace": build_wan_vace, "cogvideox": build_cogvideox}


def save_tiny(family: str, folder, **kwargs) -> None:
    """Build the tiny pipeline of ``family`` and ``save_pretrained`` it into ``folder``."""
    if family not in BUILDERS:
        raise ValueError(f"family: unknown {family!r}; choose one of {', '.join(BUILDERS)}")
    BUILDERS[family](**kwargs).save_pretrained(str(folder))


def synthetic_geometry(n: int, start: int = 0, width: int = 32, height: int = 32) -> list:
    """``n`` GeometryFrames of a red square sliding over a floor, frames ``start`` .. ``start + n - 1``."""
    import numpy as np

    from renderer.geometry import GeometryFrame

    out = []
    for i in range(start, start + n):
        x = (2 * i) % max(1, width - 6)
        rgb = np.zeros((height, width, 3), np.uint8)
        rgb[:] = (40, 80, 120)
        rgb[height // 2:] = (90, 90, 90)
        rgb[height // 4: height // 2, x: x + 6] = (230, 30, 30)
        depth = np.full((height, width), 8.0, np.float32)
        depth[height // 2:] = 4.0
        depth[height // 4: height // 2, x: x + 6] = 2.0
        seg = np.full((height, width), -1, np.int32)
        seg[height // 2:] = 0
        seg[height // 4: height // 2, x: x + 6] = 1
        out.append(GeometryFrame(rgb=rgb, depth=depth, segmentation=seg, labels=["ground", "ball"]))
    return out
