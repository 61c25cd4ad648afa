"""The Gymnasium facade: registration, check_env, pinned events in the action, determinism."""

import json
import os
import subprocess
import sys

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from simulator.limits import LIMITS
from tests._sessions_util import KICK, ROOT, SCENE_PATH


@pytest.fixture
def env():
    e = gym.make("agent.turns.gym_env:callosum/World-v0", scene=str(SCENE_PATH), duration=0.25, max_turns=2)
    yield e
    e.close()


def test_passes_check_env(env):
    check_env(env.unwrapped, skip_render_check=False)


def test_step_with_text_and_pinned_events(env):
    obs, info = env.reset(seed=3)
    assert obs["frames"].shape == (1, 240, 320, 3) and info["step"] == 0
    ball = info["entities"].index("ball")
    assert np.allclose(obs["state"][ball][3:7], [1, 0, 0, 0])
    obs, reward, terminated, truncated, info = env.step("the ball sits there")
    assert info["narration"] == "the ball sits there" and info["plan"]["events"] == []
    assert obs["frames"].shape == (6, 240, 320, 3) and reward == 0.0 and not terminated and not truncated
    assert np.array_equal(env.render(), obs["frame"]) and np.array_equal(obs["frame"], obs["frames"][-1])
    obs, _, _, truncated, info = env.step(json.dumps({"action": "flick", "events": KICK}))
    assert info["plan"]["events"][0]["entity"] == "ball" and obs["state"][ball][7] > 0.8
    assert truncated  # max_turns=2
    assert obs in env.observation_space



def test_a_rejected_action_changes_nothing_and_says_why(env):
    obs0, _ = env.reset(seed=1)
    obs, reward, terminated, truncated, info = env.step(
        json.dumps({"action": "x", "events": [{"type": "remove", "entity": "ghost"}]}))
    assert "ghost" in info["rejected"] and info["step"] == 0 and info["time"] == 0.0
    assert reward == 0.0 and not terminated and not truncated  # max_turns=2: one step taken
    assert np.array_equal(obs["frame"], obs0["frame"]) and np.array_equal(obs["state"], obs0["state"])
    assert obs["frames"].shape == (1, 240, 320, 3) and obs in env.observation_space
    _, _, _, _, info = env.step("the ball sits there")  # the env goes on from where it was
    assert info["step"] == 1 and "rejected" not in info


def test_the_action_space_takes_the_action_limit(env):
    limit = LIMITS.max_action_chars
    assert env.action_space.max_length == limit == 500
    env.reset(seed=0)
    _, _, _, _, info = env.step("a" * limit)
    assert "rejected" not in info and info["step"] == 1
    _, _, _, _, info = env.step("a" * (limit + 1))
    assert "rejected" in info and "action" in info["rejected"] and info["step"] == 1


def test_gymnasium_finds_the_env_without_an_import_by_hand(tmp_path):
    """In a fresh interpreter: ``make("module:id")`` imports the module that registers the id."""
    code = ("import gymnasium as gym, sys\n"
            "assert 'agent.turns.gym_env' not in sys.modules\n"
            f"env = gym.make('agent.turns.gym_env:callosum/World-v0', scene={str(SCENE_PATH)!r}, duration=0.25)\n"
            "obs, info = env.reset(seed=0)\n"
            "obs, r, term, trunc, info = env.step('the ball sits there')\n"
            "print(obs['frames'].shape[0], info['step'], gym.spec('callosum/World-v0').entry_point)\n"
            "env.close()\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["6", "1", "agent.turns.gym_env:WorldEnv"]


def test_same_actions_same_states(env):
    runs = []
    for _ in range(2):
        env.reset(seed=0)
        env.step(json.dumps({"action": "flick", "events": KICK}))
        _, _, _, _, info = env.step("watch")
        runs.append((info["snapshot_sha"], env.render().tobytes()))
    assert runs[0] == runs[1]


def test_reset_options_scene_and_bad_options(env):
    obs, info = env.reset(options={"scene": str(SCENE_PATH)})
    assert info["time"] == 0.0
    with pytest.raises(ValueError, match="not known"):
        env.reset(options={"level": 2})


def test_episodes_are_durable_sessions_with_db(db_target):
    from agent.turns.sessions import SessionDB

    env = gym.make("callosum/World-v0", scene=str(SCENE_PATH), duration=0.25, db=db_target).unwrapped
    try:
        _, info = env.reset(seed=1)
        first = info["session"]
        env.step("the ball sits there")
        env.step(json.dumps({"action": "kick", "events": KICK}))
        _, info = env.reset(seed=1)  # the next episode is a new session; the first stays saved
        assert info["session"] != first
        env.step("again")
    finally:
        env.close()
    with SessionDB(db_target, create=False) as db:
        assert [t.action for t in db.turns(first)] == ["the ball sits there", "kick"]
        assert [t.action for t in db.turns(info["session"])] == ["again"]
        assert db.leases.holder(first) is None  # closed: nobody drives it
