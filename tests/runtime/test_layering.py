"""The runtime stands alone: running a model pulls in neither torch nor the export/model/build code."""

import json
import subprocess
import sys

SCRIPT = """
import json, sys
from edgesr.runtime.jobs import upscale
upscale("test://40x30?frames=3", sys.argv[2], sys.argv[1], progress=False)
print(json.dumps(sorted(m for m in sys.modules
                        if m.split(".")[0] in ("torch", "tensorrt", "polygraphy")
                        or m.startswith(("edgesr.models", "edgesr.export", "edgesr.engine", "edgesr.quantize")))))
"""


def test_runtime_imports_no_torch_and_no_build_stages(models, tmp_path):
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(models["dynamic"]), str(tmp_path / "frames")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_engine_runner_imports_no_build_stage_and_no_tensorrt_until_activated():
    script = (
        "import json, sys\n"
        "from edgesr.runtime.runners import runner_class\n"
        "runner_class('m.engine')\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'tensorrt', 'polygraphy')"
        " or m.startswith(('edgesr.engine', 'edgesr.export', 'edgesr.models', 'edgesr.quantize')))))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
