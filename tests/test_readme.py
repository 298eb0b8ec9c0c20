"""The README's Python examples run as written.

Every ```python block of README.md runs in its own interpreter (this one), in a fresh
temporary folder, against this checkout, and must exit 0. A block whose first line says
it ``needs a running service`` is skipped: it talks to ``make serve``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SERVICE_MARKER = "needs a running service"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


def readme_blocks() -> list[tuple[int, str]]:
    """``(line number, code)`` of each ```python block of README.md."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return [(text.count("\n", 0, m.start()) + 1, m.group(1)) for m in BLOCK.finditer(text)]


BLOCKS = readme_blocks()


def test_readme_has_python_examples() -> None:
    assert len(BLOCKS) >= 4
    assert any(SERVICE_MARKER not in code.splitlines()[0] for _, code in BLOCKS)


@pytest.mark.parametrize("line, code", BLOCKS, ids=[f"README.md:{line}" for line, _ in BLOCKS])
def test_readme_python_block_runs(line: int, code: str, tmp_path: Path) -> None:
    if SERVICE_MARKER in code.splitlines()[0]:
        pytest.skip(f"README.md:{line} needs a running service (make serve)")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"README.md:{line}\n{proc.stderr}"
