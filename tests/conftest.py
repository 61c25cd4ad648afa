import os
import sys
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCENES = ROOT / "scenes"


@pytest.fixture
def scene_path():
    def get(name: str) -> Path:
        return SCENES / f"{name}.yaml"

    return get


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 120):
    """Run the real `callosum` entry point in a fresh interpreter."""
    import subprocess

    return subprocess.run(
        [sys.executable, "-m", "agent", *args], capture_output=True, text=True, cwd=cwd or ROOT, timeout=timeout,
    )
