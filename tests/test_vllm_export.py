"""`callosum models export-hf`: the embedded GGUF as an HF folder (what vLLM loads), and its errors."""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.vllm_util import ROOT, child_env, require_vllm

EXPORT_PACKAGES = ("gguf", "accelerate")


def export_hf(*args, env=None, timeout=600):
    return subprocess.run([sys.executable, "-m", "agent", "models", "export-hf", *args], capture_output=True,
                          text=True, cwd=ROOT, env=env or child_env(), timeout=timeout)


def test_export_hf_names_the_missing_packages(tmp_path):
    """In an environment without gguf (the main .venv), a one-line error with the pip command."""
    missing = [p for p in EXPORT_PACKAGES if importlib.util.find_spec(p) is None]
    env = child_env()
    if not missing:  # both installed here: hide them, as an environment without them would
        stubs = tmp_path / "hidden"
        for name in EXPORT_PACKAGES:
            (stubs / name).mkdir(parents=True)
            (stubs / name / "__init__.py").write_text("raise ImportError(%r)\n" % f"No module named {name!r}")
        env["PYTHONPATH"] = f"{stubs}:{env.get('PYTHONPATH', '')}"
        missing = list(EXPORT_PACKAGES)
    out = tmp_path / "hf"
    run = export_hf("--out", str(out), env=env, timeout=120)
    assert run.returncode == 1, run.stdout + run.stderr
    err = " ".join(run.stderr.split())
    assert f"export-hf needs the Python packages {', '.join(missing)}" in err, err
    assert f"pip install {' '.join(missing)}" in err and "Traceback" not in err
    assert not out.exists() and run.stdout == ""


def test_llm_serve_errors_name_the_fix(tmp_path):
    """Without vLLM: how to get it. With vLLM: a --model that is not an HF folder is named, nothing starts."""
    def serve(*args):
        return subprocess.run([sys.executable, "-m", "agent", "llm", "serve", *args], capture_output=True,
                              text=True, cwd=ROOT, env=child_env(), timeout=120)

    if importlib.util.find_spec("vllm") is None:
        run = serve()
        assert run.returncode == 1 and "vLLM is not installed in this environment" in " ".join(run.stderr.split())
        assert "make setup-vllm" in run.stderr and run.stdout == ""
    else:
        run = serve("--model", str(tmp_path))
        err = " ".join(run.stderr.split())
        assert run.returncode == 2 and f"--model '{tmp_path}' is not an HF model folder (no config.json there)" in err
        run = serve("--port", "70000")
        assert run.returncode == 2 and "--port 70000 is not a TCP port" in " ".join(run.stderr.split())


@pytest.mark.vllm
def test_export_hf_converts_the_embedded_gguf(tmp_path):
    require_vllm()
    import gguf
    import numpy as np
    from safetensors import safe_open
    from transformers import AutoTokenizer

    from agent.planner.backends.llamacpp import packaged_model_path
    from agent.llm.hf_export import MANIFEST, sha256_file

    out = tmp_path / "smollm2"
    run = export_hf("--out", str(out))
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.strip() == str(out.resolve())
    source = packaged_model_path()
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["source"] == str(source) and manifest["source_sha256"] == sha256_file(source)
    assert manifest["dtype"] == "float32" and manifest["schema_version"] == 1
    config = json.loads((out / "config.json").read_text())
    assert config["model_type"] == "llama" and "quantization_config" not in config
    # The weights are the GGUF's, dequantized: equal to gguf's own dequantization, value for value.
    reader = gguf.GGUFReader(str(source))
    tensors = {t.name: t for t in reader.tensors}
    with safe_open(str(out / "model.safetensors"), "pt") as f:
        for gguf_name, hf_name in (("token_embd.weight", "model.embed_tokens.weight"),
                                   ("blk.3.ffn_down.weight", "model.layers.3.mlp.down_proj.weight")):
            t = tensors[gguf_name]
            expected = gguf.quants.dequantize(t.data, t.tensor_type)
            got = f.get_tensor(hf_name).numpy()
            assert got.dtype == np.float32 and np.array_equal(got, expected), hf_name
    tokenizer = AutoTokenizer.from_pretrained(str(out))
    prompt = tokenizer.apply_chat_template([{"role": "user", "content": "hi"}], tokenize=False)
    assert "<|im_start|>user\nhi<|im_end|>" in prompt  # the chat template came along

    again = export_hf("--out", str(out))
    assert again.returncode == 0 and "nothing to do" in " ".join(again.stderr.split())
    stranger = tmp_path / "stranger"
    stranger.mkdir()
    (stranger / "notes.txt").write_text("mine")
    refused = export_hf("--out", str(stranger))
    assert refused.returncode == 2 and "is a non-empty folder that is not an export" in " ".join(refused.stderr.split())
    assert (stranger / "notes.txt").read_text() == "mine"


@pytest.mark.vllm
def test_export_hf_rejects_a_file_that_is_not_gguf(tmp_path):
    require_vllm()
    bad = tmp_path / "model.bin"
    bad.write_bytes(b"not a model")
    run = export_hf("--gguf", str(bad), "--out", str(tmp_path / "hf"))
    assert run.returncode == 2 and f"--gguf '{bad}' does not end in .gguf" in " ".join(run.stderr.split())
    assert not (tmp_path / "hf").exists() and not Path(tmp_path / ".hf.partial").exists()
