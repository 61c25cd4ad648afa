"""What the vLLM tests share: the converted model, and `callosum llm serve` as a managed process.

The server is started once per test session by the fixture in tests/test_planner_vllm.py, with its
own deadline (CALLOSUM_VLLM_START_S, default 600 s): `make test-vllm` runs pytest with
``-o timeout_func_only=true``, so starting vLLM does not count against a test's timeout. When vLLM
does not come up, the failure names the log file holding its output.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
START_S = float(os.environ.get("CALLOSUM_VLLM_START_S", "600"))


def require_vllm() -> None:
    """Skip (a failure under CALLOSUM_STRICT=1) when vLLM is not installed here."""
    pytest.importorskip("vllm", reason="vLLM is not installed here; run the vLLM tests with `make test-vllm`")


def model_dir() -> Path:
    """The embedded model as an HF folder: $CALLOSUM_VLLM_MODEL, else where `make setup-vllm` puts it."""
    from agent.llm.vllm_server import default_model_dir

    path = Path(os.environ.get("CALLOSUM_VLLM_MODEL") or default_model_dir())
    if not (path / "config.json").is_file():
        pytest.skip(f"no HF model folder at {path}; run `make setup-vllm` (or "
                    f"`callosum models export-hf --out {path}`), or set CALLOSUM_VLLM_MODEL")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def child_env(**extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1", "COLUMNS": "200", **extra}


def log_tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def without_shutdown_race(text: str) -> str:
    """The log minus vLLM's spurious shutdown traceback (vllm-project/vllm#48745, fix in PR #49000, open).

    On a clean drain, AsyncLLM tears the engine down before cancelling its output handler, which may then
    log ``AsyncLLM output_handler failed`` with an ``EngineDeadError`` traceback. Only that block, and only
    after the shutdown was triggered and ending in EngineDeadError, is removed; any other traceback stays.
    """
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if "[shutdown] API server: shutdown triggered" in line), None)
    if start is None:
        return text
    kept, i = lines[:start], start
    while i < len(lines):
        if "AsyncLLM output_handler failed" in lines[i]:
            tag = lines[i].split("]", 1)[0]  # "(APIServer pid=N) ERROR <date> <time> [async_llm.py:LINE"
            j = i + 1
            while j < len(lines) and lines[j].startswith(tag.split(" ERROR ")[0]) and "[async_llm.py:" in lines[j]:
                j += 1
            if "EngineDeadError" in lines[j - 1]:
                i = j
                continue
        kept.append(lines[i])
        i += 1
    return "\n".join(kept)


class ServeProcess:
    """`callosum llm serve` in a child process: stdout collected, stderr (vLLM's log) in a file."""

    def __init__(self, model: Path, log_path: Path, port: int | None = None, name: str = "planner"):
        self.model, self.log_path, self.name = model, log_path, name
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self.stdout: list[str] = []
        self.stopped_by: str | None = None
        self._log = log_path.open("w")
        cmd = [sys.executable, "-m", "agent", "llm", "serve", "--model", str(model), "--port", str(self.port),
               "--name", name, "--ready-timeout", str(START_S)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self._log, text=True, cwd=ROOT,
                                     env=child_env())
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.stdout.append(line)

    def wait_ready(self, deadline_s: float = START_S + 30) -> None:
        """Until the planner line is printed; pytest.fail naming the log when that does not happen."""
        deadline = time.monotonic() + deadline_s
        while not any("--planner openai" in line for line in self.stdout):
            if self.proc.poll() is not None:
                self._log.flush()
                pytest.fail(f"`callosum llm serve` exited with code {self.proc.returncode} before serving; "
                            f"its log is {self.log_path}:\n{log_tail(self.log_path)}")
            if time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"vLLM did not come up within {deadline_s:.0f} s; its log is {self.log_path}:\n"
                            f"{log_tail(self.log_path)}")
            time.sleep(0.5)

    def interrupt(self, timeout_s: float = 90) -> int:
        """SIGINT, as Ctrl-C would send; the exit code (pytest.fail if it does not stop in time)."""
        self.proc.send_signal(signal.SIGINT)
        try:
            return self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.stop()
            pytest.fail(f"`callosum llm serve` did not stop within {timeout_s:.0f} s of SIGINT; "
                        f"its log is {self.log_path}")
        finally:
            self._log.flush()

    def stop(self) -> None:
        """Make sure it is gone (SIGINT, then SIGKILL to its group)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._reader.join(timeout=5)
        self._log.close()


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


def pids_alive(pids: list[int]) -> list[int]:
    alive = []
    for pid in pids:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            continue
        except PermissionError:
            pass
        try:  # a zombie is dead for our purposes
            if Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].startswith("Z"):
                continue
        except (OSError, IndexError):
            pass
        alive.append(pid)
    return alive
