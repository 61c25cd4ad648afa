"""The planner on several real llama.cpp OpenAI-compatible servers: failover when one is stopped
mid-run, the same seed (and plan) from each, a slow server told apart from an unreachable one, and no
retry onto a server still busy with an abandoned request."""

from __future__ import annotations

import threading
import time

import pytest

pytest.importorskip("xllamacpp", reason="llama.cpp (xllamacpp) is not installed (the [llm] extra)")

from agent.planner.backends import BackendError, BackendSlow, BackendUnavailable, make_backend
from agent.planner.backends.base import PlanRequest
from agent.planner.backends.openai_compat import OpenAICompatBackend
from agent.planner.backends.replicas import ReplicaSet
from agent.planner.formats.plan import plan_json_schema
from agent.planner.formats.prompts import build_messages
from simulator.loader import parse_scene
from simulator.world import World
from tests.test_planner_server import ALIAS, SCENE, free_port, serve_llama


@pytest.fixture(scope="module")
def two_servers():
    with serve_llama(threads=1) as a, serve_llama(threads=1) as b:
        yield a, b


def _request(max_tokens: int = 24) -> PlanRequest:
    state = World(parse_scene(SCENE)).state()
    return PlanRequest(messages=build_messages(state, "The ball rolls to the right.", []),
                       schema=plan_json_schema(list(state.entities), ["ball"]), max_tokens=max_tokens,
                       temperature=0.8)


def _one(url: str, **kw) -> OpenAICompatBackend:
    return OpenAICompatBackend(url, ALIAS, seed=11, **{"timeout_s": 600, **kw})  # a loaded 2-core machine


def test_each_replica_gets_the_same_seed_and_gives_the_same_plan(two_servers):
    (a, _), (b, _) = two_servers
    request = _request()
    ra, rb = _one(a), _one(b)
    assert ra.seed_for(request) == rb.seed_for(request)
    assert ra.complete(request).text == rb.complete(request).text


def test_a_replica_stopped_mid_run_costs_no_plan(two_servers):
    """Run last in this module: it stops replica A."""
    (a, proc_a), (b, _) = two_servers
    backend = make_backend("openai", base_url=f"{a},{b}", model=ALIAS, seed=11, timeout_s=600)
    replicas = backend.inner
    assert isinstance(replicas, ReplicaSet) and len(replicas.replicas) == 2
    served, errors = [], []

    def run():
        for _ in range(6):
            try:
                backend.complete(_request(max_tokens=16))
                served.append(replicas.served_by)
            except BackendError as exc:  # noqa: PERF203 (the test reads it)
                errors.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    deadline = time.monotonic() + 120
    while a not in served and time.monotonic() < deadline:
        time.sleep(0.02)
    assert a in served, served
    proc_a.kill()  # mid-run: maybe inside a request, maybe between two
    proc_a.wait(10)
    worker.join(300)
    assert errors == [] and len(served) == 6, (served, errors)
    stop = served.index(a) + 1
    assert all(url == b for url in served[stop + 1:]), served  # after A stopped, B answered every plan
    assert replicas.replicas[0].base_url == a and 0 in replicas._down_since


def test_slow_is_told_apart_from_unreachable_and_a_busy_replica_gets_nothing(two_servers):
    (a, _), (b, _) = two_servers
    live = b
    slow = _one(live, timeout_s=0.2)  # far too short for a 256-token plan on one CPU thread
    with pytest.raises(BackendSlow, match=r"is up \(it .*\) but did not finish the plan within 0\.2 s"):
        slow.complete(_request(max_tokens=256))
    with pytest.raises(BackendSlow, match="may still be generating a request abandoned after 0.2 s; not sending"):
        slow.complete(_request())
    nobody = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(BackendUnavailable, match="cannot reach the planner server") as info:
        _one(nobody, timeout_s=0.2).complete(_request())
    assert not isinstance(info.value, BackendSlow)
    retrying = make_backend("openai", base_url=live, model=ALIAS, seed=11, timeout_s=0.2, backoff_s=0.01)
    started = time.monotonic()
    with pytest.raises(BackendSlow):
        retrying.complete(_request(max_tokens=256))
    with pytest.raises(BackendSlow, match="not sending"):  # no retry queued behind the abandoned request
        retrying.complete(_request())
    assert time.monotonic() - started < 10
    time.sleep(1.0)  # let the server finish what was abandoned


def test_timeout_comes_from_the_environment_and_is_checked(monkeypatch):
    monkeypatch.setenv("CALLOSUM_PLANNER_TIMEOUT_S", "7.5")
    assert OpenAICompatBackend("http://127.0.0.1:9/v1", ALIAS).timeout_s == 7.5
    monkeypatch.setenv("CALLOSUM_PLANNER_TIMEOUT_S", "soon")
    with pytest.raises(BackendError, match="planner timeout 'soon' is not valid.*CALLOSUM_PLANNER_TIMEOUT_S"):
        OpenAICompatBackend("http://127.0.0.1:9/v1", ALIAS)
    with pytest.raises(BackendError, match="--base-url 'ftp://x' is not valid"):
        make_backend("openai", base_url="ftp://x", model=ALIAS)
