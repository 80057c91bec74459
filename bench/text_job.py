"""A text job through the service against training the same student alone on the same tokens.

    .venv/bin/python bench/text_job.py [--samples 3000] [--epochs 4] [--json out.json]

It starts the API and one worker on one thread (tests/integration/stack.py, DISTILLERY_WORKER_THREADS=1),
uploads the README's small BERT teacher and a JSON-lines set of ``--samples`` generated sentences
(models/text/examples.py), and runs the same job twice: a one-layer transformer student, distilled. The first
job fills the teacher-output cache; the second reads it, and its samples/s (the median over epochs after the
first, from GET /v1/jobs/{id}/metrics) is the service's figure. Then, in this process on one thread, the same
student (models.text.students.build_text_student, the same spec) trains alone on labels with a plain loop over
the same token ids (the teacher's tokenizer, its max_length), the same batch size and optimizer: the limit a
job cannot beat. It prints both and their ratio (the target: at least 0.9). A benchmark: it asserts nothing.
"""

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from models.text import examples  # noqa: E402
from tests.integration.stack import running_stack  # noqa: E402

STUDENT = {"arch": "transformer", "layers": 1, "hidden_size": 32, "heads": 2, "intermediate_size": 64,
           "dropout": 0.0}
BATCH, LR = 32, 0.003


def steady(values: list[float]) -> float:
    """The median over epochs after the first (warm-up)."""
    return statistics.median(values[1:] if len(values) > 1 else values)


def service_samples_per_second(client, stack, teacher: str, ts: str, epochs: int) -> tuple[float, dict]:
    spec = {"teacher_ids": [teacher], "transfer_set_id": ts, "student": STUDENT, "export_formats": ["safetensors"],
            "hyperparameters": {"epochs": epochs, "batch_size": BATCH, "learning_rate": LR, "optimizer": "adam",
                                "validation_fraction": 0.0}}
    figures, job = [], {}
    for _ in range(2):  # the first fills the teacher-output cache
        job = stack.wait_for_job(client, client.post("/v1/jobs", json=spec).json()["id"], timeout=1800)
        if job["status"] != "succeeded":
            raise SystemExit(f"{job['id']} {job['status']}: {job['error']}")
        runs = client.get(f"/v1/jobs/{job['id']}/metrics").json()["runs"]
        points = next(r for r in runs if r["name"] == "distilled")["metrics"]["samples_per_second"]
        figures.append(steady([p["value"] for p in sorted(points, key=lambda p: p["step"])]))
    return figures[-1], job


def alone_samples_per_second(folder: Path, texts_path: Path, text: dict, epochs: int) -> float:
    """``text``: the teacher's arch_config as the API reports it (vocabulary, pad id, max_length, positions)."""
    import torch
    import torch.nn.functional as F

    from models.text.students import TextTransformerSpec, build_text_student
    from models.text.tokens import encode_texts
    from models.zoo import text_positions

    rows = [json.loads(line) for line in texts_path.read_text().splitlines()]
    train = [r for r in rows if r["split"] == "train"]
    pad = text["pad_token_id"]
    x = torch.from_numpy(encode_texts(folder / "tokenizer.json", [r["text"] for r in train], text["max_length"],
                                      pad))
    y = torch.tensor([examples.CLASS_NAMES.index(r["label"]) for r in train])
    torch.manual_seed(0)
    student = build_text_student(TextTransformerSpec(**STUDENT), vocab_size=text["vocab_size"],
                                 num_labels=len(examples.CLASS_NAMES), pad_token_id=pad,
                                 max_positions=text_positions(text))
    optimizer = torch.optim.Adam(student.parameters(), lr=LR)
    per_epoch = []
    for _ in range(epochs):
        student.train()
        started = time.perf_counter()
        for idx in torch.randperm(len(x)).split(BATCH):
            optimizer.zero_grad()
            F.cross_entropy(student(x[idx]), y[idx]).backward()
            optimizer.step()
        per_epoch.append(len(x) / (time.perf_counter() - started))
    return steady(per_epoch)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=3000)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        folder = examples.train_teacher(tmp / "bert")
        examples.write_text_set(tmp / "texts.jsonl", args.samples)
        with running_stack("embedded", tmp / "stack", worker_env={"DISTILLERY_WORKER_THREADS": "1"}) as stack, \
                stack.client() as c:
            teacher = c.post("/v1/teachers", files={"file": ("bert.zip", examples.zipped(folder))},
                             data={"name": "bert", "format": "huggingface"}).json()
            ts = c.post("/v1/transfer-sets", files={"file": ("texts.jsonl", (tmp / "texts.jsonl").read_bytes())},
                        data={"name": "texts"}).json()["id"]
            service, job = service_samples_per_second(c, stack, teacher["id"], ts, args.epochs)
        alone = alone_samples_per_second(folder, tmp / "texts.jsonl", teacher["arch_config"], args.epochs)
    ratio = service / alone
    print("| run | samples/s |\n|---|---|")
    print(f"| student alone, plain loop | {alone:,.0f} |\n| text job through the service (cache warm) | "
          f"{service:,.0f} |\n\nservice / alone: {ratio:.2f} (target ≥ 0.9); "
          f"job {job['id']}, test accuracy {job['result']['student']['test_accuracy']:.4f}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"alone": alone, "service": service, "ratio": ratio}, indent=2))


if __name__ == "__main__":
    main()
