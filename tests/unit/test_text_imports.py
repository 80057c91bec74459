"""Importing models.text, and each of its modules, does not import transformers: the API imports models at
start-up and must not pay for transformers (seconds, hundreds of MiB) until a text upload needs it. Checked in
a fresh interpreter, since this test session has imported transformers already."""

import pkgutil
import subprocess
import sys
from pathlib import Path

import models.text

ROOT = Path(__file__).resolve().parents[2]
MODULES = ["models.text"] + [f"models.text.{m.name}" for m in pkgutil.iter_modules(models.text.__path__)]


def test_every_text_module_is_listed():
    assert {"models.text.hf_folder", "models.text.hf_teacher", "models.text.tokens", "models.text.students",
            "models.text.exports", "models.text._bilstm"} <= set(MODULES)


def test_importing_the_text_modules_does_not_import_transformers():
    script = ("import sys, importlib\n"
              f"for name in {MODULES!r}:\n"
              "    importlib.import_module(name)\n"
              "    assert 'transformers' not in sys.modules, name\n"
              "print('ok')\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]


def test_the_specs_and_the_folder_check_need_neither_torch_nor_transformers():
    """What the API runs on an upload or a job request: the student specs and hf_folder's file checks."""
    script = ("import sys\n"
              "import models.text.students, models.text.hf_folder\n"
              "assert 'torch' not in sys.modules and 'transformers' not in sys.modules\n"
              "print('ok')\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]
