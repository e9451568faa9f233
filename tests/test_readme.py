"""The README's set-up commands are the ones CI runs, so the README stays true."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ci_runs_the_readme_setup():
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"## Set up and run\s+```bash\n(.*?)```", readme, re.S).group(1).strip().splitlines()
    assert len(block) == 2, "the set-up is two commands"
    ci = (ROOT / ".ci" / "run").read_text()
    install, tests = block
    for part in install.split(" && "):
        if part.startswith(". .venv") or part.startswith("python3 -m venv"):
            continue
        assert part in ci, f"CI does not run the README step: {part}"
    assert tests in ci
