"""Fingerprints of fixed-seed students: evidence that a refactor changed no arithmetic.

    .venv/bin/python bench/fixed_seed_exports.py [--json out.json]

Each case distils the digits MLP teacher (models.examples, 10 epochs) into a 64-64 MLP student with
``worker.engine.pipeline.run_experiment``, one per method and automatic setting (kd, kd with logit
standardisation, logit matching, dkd, dist, temperature "auto", soft_weight "auto"), 3 epochs, seed 0, and
exports the student as safetensors. It prints the sha256 of each file. Run it before and after a change
that should not alter training (a move of code, a registry): the two lists must be equal, byte for byte.
"""

import argparse
import hashlib
import json
import sys
import tempfile
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from models.distill_config import DistillConfig  # noqa: E402
from models.examples import digits_teacher  # noqa: E402
from models.export import export  # noqa: E402
from models.transfer_sets import load_builtin  # noqa: E402
from models.zoo import build_student  # noqa: E402
from worker.engine.pipeline import Experiment, run_experiment  # noqa: E402

STUDENT = {"arch": "mlp", "hidden_sizes": [64, 64]}
CASES = {
    "kd": {"loss": "kd", "temperature": 4.0},
    "kd, logit standardisation": {"loss": "kd", "temperature": 4.0, "logit_standardization": True},
    "logit_matching": {"loss": "logit_matching"},
    "dkd": {"loss": "dkd", "learning_rate": 0.01},
    "dist": {"loss": "dist"},
    "kd, temperature auto": {"loss": "kd", "temperature": "auto"},
    "kd, soft_weight auto": {"loss": "kd", "soft_weight": "auto"},
}


def fingerprints() -> dict[str, str]:
    torch.set_num_threads(1)  # one thread: the same reduction order on every run
    teacher = digits_teacher(epochs=10)
    data = load_builtin("digits")
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, hp in CASES.items():
            cfg = DistillConfig(**{"epochs": 3, "batch_size": 64, "learning_rate": 0.05, "seed": 0,
                                   "device": "cpu", **hp})
            outcome = run_experiment(Experiment(teachers=[teacher], data=data, num_classes=10, config=cfg,
                                                make_student=lambda: build_student(STUDENT, [64], 10)))
            path = Path(tmp) / "student.safetensors"
            export("safetensors", outcome.students["distilled"], [64], path, student_spec=STUDENT)
            out[name] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    prints = fingerprints()
    for name, digest in prints.items():
        print(f"{digest}  {name}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(prints, indent=2))


if __name__ == "__main__":
    main()
