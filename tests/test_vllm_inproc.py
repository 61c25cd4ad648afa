"""`--planner vllm`: vLLM inside the callosum process, planning one turn from the command line."""

import json
import subprocess
import sys

import pytest

from agent.planner.formats.plan import TurnPlan
from tests.vllm_util import ROOT, child_env, model_dir, require_vllm

pytestmark = pytest.mark.vllm


def test_plan_with_the_inprocess_backend_prints_only_json_and_shuts_down_cleanly():
    require_vllm()
    model = model_dir()
    run = subprocess.run(
        [sys.executable, "-m", "agent", "plan", str(ROOT / "scenes" / "ball-off-table.yaml"), "--action",
         "Someone flicks the ball toward the edge.", "--planner", "vllm", "--model", str(model), "--record"],
        capture_output=True, text=True, cwd=ROOT, env=child_env(), timeout=600,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    printed = json.loads(run.stdout)  # stdout is the plan and nothing else: vLLM's log went to stderr
    plan = TurnPlan.model_validate(printed["plan"])
    record = printed["record"]
    assert record["backend"] == "vllm" and record["model"] == str(model)
    assert record["attempts"] and record["attempts"][0]["finish_reason"] == "stop"
    assert record["attempts"][0]["completion_tokens"] > 0
    assert TurnPlan.model_validate_json(plan.model_dump_json()) == plan
    assert "Initializing a V1 LLM engine" in run.stderr  # it really ran vLLM, and logged to stderr
    assert "[shutdown] MPClient: complete" in run.stderr
    assert "force killing" not in run.stderr and "Traceback" not in run.stderr
