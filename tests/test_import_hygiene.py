"""``import edgesr`` and ``edgesr --help`` must not load heavy modules (a Jetson runtime has no torch)."""

import json
import subprocess
import sys

HEAVY = ("torch", "tensorrt", "cv2", "onnxruntime", "polygraphy", "streamlit")

SCRIPT = """
import json, sys
import edgesr
from edgesr.cli import main
try:
    main(["--help"])
except SystemExit:
    pass
for name in edgesr.cli.COMMANDS:
    try:
        main([name, "--help"])
    except SystemExit:
        pass
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in HEAVY)))
"""


def test_import_and_help_load_no_heavy_module():
    code = f"HEAVY = {HEAVY!r}\n" + SCRIPT
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = json.loads(out.stdout.strip().splitlines()[-1])
    assert loaded == [], f"heavy modules loaded by import/--help: {loaded}"


def test_python_dash_m_runs():
    out = subprocess.run([sys.executable, "-m", "edgesr", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.startswith("edgesr ")
