"""The vLLM shutdown test forgives exactly one known vLLM log race, and nothing else."""
from pathlib import Path

from tests.vllm_util import without_shutdown_race

RACE_LOG = (Path(__file__).parent / "data" / "vllm_shutdown_race.log").read_text()


def test_the_known_shutdown_race_is_removed():
    """The log CI printed on a clean SIGINT (exit 0): its output_handler traceback goes, the rest stays."""
    assert "Traceback" in RACE_LOG
    cleaned = without_shutdown_race(RACE_LOG)
    assert "Traceback" not in cleaned and "EngineDeadError" not in cleaned
    assert "[shutdown] API server: engine client stopped" in cleaned
    assert "Application shutdown complete." in cleaned


def test_a_crash_before_shutdown_is_kept():
    crash = ("(APIServer pid=7) ERROR 12-06 03:58:20 [async_llm.py:906] AsyncLLM output_handler failed.\n"
             "(APIServer pid=7) ERROR 12-06 03:58:20 [async_llm.py:906] Traceback (most recent call last):\n"
             "(APIServer pid=7) ERROR 12-06 03:58:20 [async_llm.py:906] vllm.v1.engine.exceptions.EngineDeadError: x\n")
    assert "Traceback" in without_shutdown_race(crash + RACE_LOG)


def test_another_error_during_shutdown_is_kept():
    other = RACE_LOG.replace("EngineDeadError: EngineCore encountered an issue", "RuntimeError: boom")
    assert "Traceback" in without_shutdown_race(other)
    worker = RACE_LOG + "(Worker pid=9) ERROR 12-06 03:58:40 [worker.py:1] Traceback (most recent call last):\n"
    assert "Traceback" in without_shutdown_race(worker)
