"""The planner against real models: llama.cpp's OpenAI-compatible server (llama-server, run by
`python -m agent.planner.backends.llamacpp` in a child process) and the embedded backend."""

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager

import pytest

pytest.importorskip("xllamacpp", reason="llama.cpp (xllamacpp) is not installed (the [llm] extra)")

from agent.planner.backends import BackendError, BackendUnavailable, ModelNotFound, make_backend, default_planner
from agent.planner.backends.base import Backend, Completion, PlanRequest
from agent.planner.backends.llamacpp import packaged_model_path
from agent.planner.formats.plan import pinned_plan
from agent.planner.formats.plan import TurnPlan, plan_json_schema
from agent.planner import Planner
from agent.planner.formats.prompts import build_messages
from simulator.loader import parse_scene
from simulator.world import World

SCENE = """
name: planner-server-test
seed: 11
entities:
  - {id: table, shape: box, size: [1.2, 0.8, 0.05], position: [0, 0, 0.75], fixed: true, color: "#8b5a2b",
     description: a worn oak table top}
  - {id: ball, shape: sphere, size: [0.06], position: [-0.3, 0, 0.835], mass: 0.2, color: "#d62828",
     description: a glossy red rubber ball}
steps:
  - {action: Someone flicks the ball toward the edge., duration: 0.5}
"""
ALIAS = "smollm2"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve_llama(threads: int = 1):
    """A real llama.cpp HTTP server (llama-server, `python -m agent.planner.backends.llamacpp`) with the
    packaged model on a free local port; yields (base URL, process). Stopped at the end."""
    port = free_port()
    cmd = [sys.executable, "-m", "agent.planner.backends.llamacpp", "--model", str(packaged_model_path()),
           "--alias", ALIAS, "--host", "127.0.0.1", "--port", str(port), "--threads", str(threads), "--ctx", "4096"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"the llama.cpp server exited with {proc.returncode}: {proc.stderr.read()[-2000:]}")
            try:  # the port opens before the model is loaded; /health answers 503 until then
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("the llama.cpp server was not ready within 60 s")
        yield f"http://127.0.0.1:{port}/v1", proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="session")
def llama_server():
    """A real llama.cpp HTTP server with the packaged model, on a free local port."""
    with serve_llama() as (url, _proc):
        yield url


@pytest.fixture
def world():
    return World(parse_scene(SCENE))


def openai_backend(url, **kw):
    # One thread is faster than two on a loaded 2-core machine; a 900-token prompt may then take a minute.
    return make_backend("openai", base_url=url, model=ALIAS, seed=11, timeout_s=180, **kw)


def test_openai_backend_plans_a_real_turn_that_applies(llama_server, world):
    backend = openai_backend(llama_server)
    outcome = Planner(backend, plan_format="events").plan_turn(world.state(), "Someone flicks the ball toward the edge.", [])
    record = outcome.record.model_dump(mode="json")
    json.dumps(record, allow_nan=False)
    assert backend.inner.structured == "auto"  # llama-server took json_schema: no switch to json_object
    assert record["backend"] == "openai" and record["model"] == ALIAS and record["seed"] == 11
    assert record["tokens"]["completion"] > 0 and record["model_s"] > 0
    for attempt in record["attempts"]:
        if attempt["finish_reason"] == "stop":  # decoding was constrained: every closed reply is a plan
            TurnPlan.model_validate_json(attempt["raw"])
    assert outcome.plan.narration and outcome.plan.caption
    before = world.state()
    world.apply(outcome.plan.events)
    world.advance(0.5, 24)
    assert world.state().time > before.time
    if not record["fell_back"]:
        assert record["attempts"][-1]["issues"] == [] or record["repairs"]


def test_tiny_max_tokens_exercises_retries_then_falls_back(llama_server, world):
    before = world.snapshot()
    outcome = Planner(openai_backend(llama_server), max_retries=2, max_tokens=6, plan_format="events").plan_turn(
        world.state(), "The ball rolls to the right.", ["The ball sits on the table."])
    attempts = outcome.record.model_dump(mode="json")["attempts"]
    assert len(attempts) == 3 and outcome.record.model_dump(mode="json")["fell_back"] is True
    assert all(a["finish_reason"] == "length" for a in attempts)
    assert all(a["issues"][0]["code"] == "cut_off" for a in attempts)
    assert outcome.plan.events == [] and outcome.plan.narration and outcome.plan.caption
    assert world.snapshot() == before


def test_same_seed_same_plan(llama_server, world):
    state = world.state()
    request = PlanRequest(messages=build_messages(state, "The ball rolls to the right.", []),
                          schema=plan_json_schema(list(state.entities), ["ball"]), max_tokens=48, temperature=0.8)
    backend = openai_backend(llama_server)
    first = backend.complete(request).text
    assert backend.complete(request).text == first
    other = backend.complete(PlanRequest(**{**request.__dict__, "seed": 12345})).text
    assert isinstance(other, str)


def test_server_down_is_a_clear_error():
    url = f"http://127.0.0.1:{free_port()}/v1"
    backend = make_backend("openai", base_url=url, model=ALIAS, retries=2, backoff_s=0.01)
    start = time.monotonic()
    with pytest.raises(BackendUnavailable, match="cannot reach the planner server") as err:
        backend.complete(PlanRequest(messages=[{"role": "user", "content": "hi"}], schema={"type": "object"}))
    assert url in str(err.value) and time.monotonic() - start < 10


def test_wrong_model_name_is_a_clear_error(llama_server):
    backend = make_backend("openai", base_url=llama_server, model="no-such-model")
    with pytest.raises(ModelNotFound, match=f"'no-such-model' is not served .* {ALIAS}"):
        backend.complete(PlanRequest(messages=[{"role": "user", "content": "hi"}], schema={"type": "object"}))


def test_embedded_llamacpp_backend_plans_with_the_scene_seed(world):
    assert default_planner() == ("llamacpp", None)
    backend = make_backend("llamacpp", seed=world.scene.seed, n_threads=1)
    try:
        outcome = Planner(backend, max_retries=1, plan_format="events").plan_turn(world.state(), "Someone flicks the ball.", [])
        assert outcome.record.model_dump(mode="json")["seed"] == 11 and outcome.record.model_dump(mode="json")["backend"] == "llamacpp"
        first = outcome.record.model_dump(mode="json")["attempts"][0]
        if first["finish_reason"] == "stop":
            TurnPlan.model_validate_json(first["raw"])
        world.apply(outcome.plan.events)
        world.advance(0.2, 24)
    finally:
        backend.close()


class Hostile(Backend):
    """A fake model, only to test our own handling of broken replies."""

    name = model = "hostile"

    def __init__(self, replies):
        self.replies = list(replies)

    def complete(self, request):
        return Completion(text=self.replies.pop(0), finish_reason="stop", latency_s=0.001)


def test_broken_replies_fall_back_without_touching_the_world(world):
    before = world.snapshot()
    replies = ['{"narration": "The ball explodes.", "events": [{"type": "apply_impulse", "entity": "ball", '
               '"impulse": [1e9, 0, 0]}], "caption": "boom"}', "not json at all", "[]"]
    outcome = Planner(Hostile(replies), max_retries=2, plan_format="events").plan_turn(world.state(), "Blow it up.", [])
    assert outcome.record.model_dump(mode="json")["fell_back"] and outcome.plan.events == []
    assert outcome.plan.narration == "The ball explodes."
    codes = [[i["code"] for i in a["issues"]] for a in outcome.record.model_dump(mode="json")["attempts"]]
    assert codes == [["too_strong"], ["not_json"], ["not_object"]]
    assert world.snapshot() == before


def test_repairs_are_applied_and_recorded(world):
    reply = '{"narration": "A flick.", "events": [{"type": "apply_impulse", "entity": "red_ball", "impulse": [0.3, 0, 0]}], "caption": ""}'
    outcome = Planner(Hostile([reply]), plan_format="events").plan_turn(world.state(), "Flick it.", [])
    assert outcome.plan.events[0].entity == "ball" and outcome.plan.caption
    assert outcome.record.model_dump(mode="json")["repairs"][0]["fix"] == "ball" and not outcome.record.model_dump(mode="json")["fell_back"]
    world.apply(outcome.plan.events)


def test_scripted_backend_and_plan(world):
    step = world.scene.steps[0]
    plan = pinned_plan(world.state(), step.action or "", step.events or [])
    assert plan.narration == step.action and plan.events == [] and "red rubber ball" in plan.caption
    outcome = Planner(make_backend("scripted")).plan_turn(world.state(), "Nothing happens.", [])
    assert outcome.plan.narration == "Nothing happens." and not outcome.record.model_dump(mode="json")["fell_back"]


def test_unknown_backend_name_is_a_clear_error():
    with pytest.raises(BackendError, match="unknown planner 'gpt'; choose one of llamacpp, openai, vllm, scripted"):
        make_backend("gpt")


# ---- the intents format against the real model -----------------------------------------------------


def test_embedded_model_scores_verbs_through_the_public_api():
    from agent.planner.words.verbs import LABELS, PREFIX

    backend = make_backend("llamacpp", seed=0, n_threads=1)
    try:
        assert backend.can_score
        for action, verb in (("The ball vanishes.", "remove"), ("The mug becomes very heavy.", "heavier")):
            options = [(f"Verb: {LABELS[v]}\nAction:", " " + action) for v in LABELS]
            scores = backend.score(PREFIX, options)
            assert all(s < 0 for s in scores) and max(zip(scores, LABELS))[1] == verb
        again = backend.score(PREFIX, list(reversed(options)))  # the cached prefix is reused, never stale
        assert list(reversed(again)) == pytest.approx(scores, abs=1e-3)
    finally:
        backend.close()


def test_embedded_intents_path_asks_the_model_only_where_the_lexicon_is_unsure(world):
    backend = make_backend("llamacpp", seed=world.scene.seed, n_threads=1)
    try:
        planner = Planner(backend)
        assert planner.plan_format == "intents"
        sure = planner.plan_turn(world.state(), "Paint the ball red.", [])
        assert sure.record.model_dump(mode="json")["decided_by"]["verb"] == "lexicon" and sure.record.model_dump(mode="json")["understanding"]["verb_choice"]["scores"] is None
        assert sure.plan.events[0].color == "#d62828"
        unsure = planner.plan_turn(world.state(), "Throw the ball.", [])  # one weak cue: the lexicon is unsure
        r = unsure.record.model_dump(mode="json")
        assert r["intent_path"] == "scoring" and r["decided_by"]["verb"] == "scoring" and r["model_s"] > 0
        scores = r["understanding"]["verb_choice"]["scores"]
        assert len(scores) == 10 and r["intent"]["verb"] == max(scores, key=scores.get)
        if r["intent"]["verb"] not in ("spawn", "nothing"):
            assert r["intent"]["target"] == "ball" and r["decided_by"]["target"] == "lexicon"
        world.apply(unsure.plan.events)
        world.advance(0.2, 24)
    finally:
        backend.close()


def test_openai_backend_generates_an_intent_and_the_words_fill_what_they_state(llama_server, world):
    from agent.planner.words.intent import Intent

    outcome = Planner(openai_backend(llama_server)).plan_turn(world.state(), "Push the ball to the left.", [])
    r = outcome.record.model_dump(mode="json")
    assert r["plan_format"] == "intents" and r["intent_path"] == "generation" and len(r["attempts"]) >= 1
    json.dumps(r, allow_nan=False)
    if r["attempts"][-1]["issues"] == []:
        Intent.model_validate(r["intent"])
        assert r["decided_by"]["verb"] == "generation"
    if r["intent"]["verb"] == "push":  # the words said ball and left outright: the lexicon fills them
        assert r["intent"]["target"] == "ball" and r["intent"]["direction"] == "left"
        assert r["decided_by"]["target"] == r["decided_by"]["direction"] == "lexicon"
    world.apply(outcome.plan.events)
    world.advance(0.2, 24)


def test_a_real_model_never_guesses_an_unknown_referent(llama_server, world):
    outcome = Planner(openai_backend(llama_server)).plan_turn(world.state(), "Push the box to the left.", [])
    assert outcome.plan.events == [] and outcome.plan.narration.startswith("There is no box here")
    assert "ball" in outcome.plan.narration and "table" in outcome.plan.narration


def test_the_cli_says_it_is_loading_the_planner_model(tmp_path):
    from tests.conftest import ROOT

    out = subprocess.run([sys.executable, "-m", "agent", "plan", str(ROOT / "scenes" / "ball-off-table.yaml"),
                          "--action", "Paint the ball blue.", "--planner", "llamacpp"],
                         capture_output=True, text=True, timeout=240, cwd=ROOT,
                         env={**os.environ, "CALLOSUM_LLAMA_THREADS": "1"})
    assert out.returncode == 0, out.stderr
    lines = out.stderr.splitlines()
    assert lines[0] == "loading the planner model (llamacpp) …"  # no terminal: one line as it starts ...
    assert re.fullmatch(r"the planner model \(llamacpp\) ready in \d+\.\d s", lines[1])  # ... one when done
    json.loads(out.stdout)  # stdout stays the plan alone
