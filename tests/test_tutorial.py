"""examples/tutorial.py, the README's tour of the public API, runs as a user runs it: in a
fresh folder, from a separate interpreter, writing its figure there (so it cannot rot)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[1]
TUTORIAL = REPOSITORY / "examples" / "tutorial.py"


@pytest.mark.slow
def test_the_tutorial_runs_and_draws_its_figure(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(REPOSITORY))
    done = subprocess.run([sys.executable, str(TUTORIAL), "out"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert re.search(r"^sampled 3000 configurations: <E>/N = -[\d.]+, exact -[\d.]+", out,
                     flags=re.MULTILINE), out
    assert "finite-size limited: False" in out  # L = 32 holds the spins' xi
    layers = re.findall(r"^(paper|density) +layer (\d) \(b = (\d)\): locality ([\d.]+) "
                        r"\(chance ([\d.]+)\)", out, flags=re.MULTILINE)
    assert [(name, layer, b) for name, layer, b, *_ in layers] == [
        ("paper", "1", "2"), ("paper", "2", "4"), ("density", "1", "2"), ("density", "2", "4")]
    figure = tmp_path / "out" / "tutorial.png"
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "tutorial.png" in out.splitlines()[-1]


@pytest.mark.parametrize("path", [TUTORIAL, REPOSITORY / "README.md"])
def test_the_tutorial_and_the_readme_example_use_only_the_public_api(path):
    from ising_rg import __all__ as public

    text = path.read_text()
    imported = re.search(r"from ising_rg import \((.*?)\)", text, flags=re.DOTALL).group(1)
    names = [name.strip() for name in imported.replace("# noqa: E402", "").split(",")
             if name.strip()]
    assert names and set(names) <= set(public)
    assert not re.search(r"^(from|import) ising_rg\.", text, flags=re.MULTILINE)
