"""What the student buys: the deployment report's latency against an independent timing of the same files.

    .venv/bin/python bench/deployment.py [--json out.json]

It starts the API and one worker (tests/integration/stack.py) and runs two jobs, each exporting onnx,
onnx_int8 and safetensors:

- the walkthrough's job: the digits MLP teacher (TorchScript, 64-256-256-10) into a 64-64 MLP student, 20 epochs;
- a CNN job: digits as 1x8x8 images, a 64-128 CNN teacher (TorchScript, trained here) into a 32-64 CNN
  student, 6 epochs.

Then it downloads each job's files and times them again here, independently of models/deployment.py: the
teacher file in torch (torch.jit.load), the ONNX files in their own ONNX Runtime sessions, the safetensors
student rebuilt in torch, each on the report's thread count, as the lowest median of 5 rounds of single calls
at batch 1 (each at least 100 calls and 50 ms) timed by ``timeit`` (the report's statistic). It prints both
figures and how far apart they are, and the "what the student buys" table. A benchmark: it asserts nothing about time.
"""

import argparse
import io
import json
import statistics
import sys
import tempfile
import timeit
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.integration.stack import running_stack  # noqa: E402

FORMATS = {"onnx": "student.onnx", "onnx_int8": "student.int8.onnx", "safetensors": "student.safetensors"}


def independent_ms(call, x, rounds: int = 5, calls: int = 100, seconds: float = 0.05) -> float:
    """The report's statistic (the lowest of 5 rounds' medians of single calls, each round at least 100 calls
    and 50 ms), timed by timeit rather than by the report's code."""
    for _ in range(50):
        call(x)
    medians, timer = [], timeit.Timer(lambda: call(x))  # one Timer: making one compiles its template
    for _ in range(rounds):
        times, started = [], timeit.default_timer()
        while len(times) < calls or timeit.default_timer() - started < seconds:
            times.append(timer.timeit(number=1))
        medians.append(statistics.median(times))
    return min(medians) * 1e3


def cnn_teacher(path: Path, epochs: int = 5) -> None:
    """A 64-128 CNN teacher on digits as 1x8x8 images, saved as TorchScript."""
    import torch

    from models.examples import save_torchscript
    from models.transfer_sets import load_builtin
    from models.zoo import build_student

    torch.manual_seed(0)
    digits = load_builtin("digits")
    x, y = torch.from_numpy(digits.x_train.reshape(-1, 1, 8, 8)), torch.from_numpy(digits.y_train)
    net = build_student({"arch": "cnn", "channels": [64, 128]}, [1, 8, 8], 10)
    opt = torch.optim.Adam(net.parameters(), 1e-3)
    for _ in range(epochs):
        net.train()
        for idx in torch.randperm(len(x)).split(64):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(net(x[idx]), y[idx]).backward()
            opt.step()
    save_torchscript(net.eval(), path)


def _ort(path: Path, threads: int):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return lambda x: session.run(None, {name: x})


def _torch(module):
    import torch

    def call(x):
        with torch.inference_mode():
            return module(torch.from_numpy(x))

    return call


def run_job(client, stack, teacher_path: Path, input_shape, ts_id: str, student: dict, epochs: int, out: Path) -> dict:
    with open(teacher_path, "rb") as f:
        teacher = client.post("/v1/teachers", files={"file": ("t.pt", f)},
                              data={"name": "digits mlp", "input_shape": json.dumps(input_shape)}).json()["id"]
    job_id = client.post("/v1/jobs", json={"teacher_ids": [teacher], "transfer_set_id": ts_id, "student": student,
                                           "hyperparameters": {"epochs": epochs}, "export_formats": list(FORMATS)}
                         ).json()["id"]
    job = stack.wait_for_job(client, job_id, timeout=1800)
    if job["status"] != "succeeded":
        raise SystemExit(f"{job_id} {job['status']}: {job['error']}")
    out.mkdir(parents=True, exist_ok=True)
    for fmt, name in FORMATS.items():
        (out / name).write_bytes(client.get(f"/v1/jobs/{job_id}/student", params={"format": fmt}).content)
    return job


def compare(job: dict, teacher_path: Path, files: Path, input_shape) -> dict:
    import torch

    from models.export import load_safetensors_student

    report = job["result"]["deployment"]
    threads = report["threads"]
    torch.set_num_threads(threads)
    x = np.random.default_rng(7).standard_normal((1, *input_shape)).astype(np.float32)
    calls = {"teacher": _torch(torch.jit.load(str(teacher_path)).eval()),
             "student": _ort(files / FORMATS["onnx"], threads),
             "student_int8": _ort(files / FORMATS["onnx_int8"], threads)}
    if "student_torch" in report:
        student = load_safetensors_student(files / FORMATS["safetensors"]).eval()
        if report["student_torch"].get("mode") == "torchscript":  # timed scripted, as the teacher runs
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", FutureWarning)
                student = torch.jit.script(student)
        calls["student_torch"] = _torch(student)
    rows = {}
    for who, call in calls.items():
        own = independent_ms(call, x)
        reported = report[who]["latency_ms_p50"]
        rows[who] = {"reported_ms_p50": reported, "independent_ms": own, "apart": abs(reported - own) / own}
    return rows


def buys_table(name: str, job: dict) -> list[str]:
    result, report = job["result"], job["result"]["deployment"]
    lines = [f"\n**{name}** (one thread; {report['teacher']['runtime']} for the teacher)\n",
             "| network | parameters | file | p50 ms | p90 ms | samples/s (batch 64) | test accuracy | runtime |",
             "|---|---|---|---|---|---|---|---|"]
    accuracy = {"teacher": result["teacher"]["test_accuracy"], "student": result["student"]["test_accuracy"],
                "student_torch": result["student"]["test_accuracy"],
                "student_int8": report["student_int8"].get("test_accuracy")}
    labels = {"teacher": "teacher", "student": "student (ONNX)", "student_torch": "student (torch)",
              "student_int8": "student INT8 (ONNX)"}
    for who in ("teacher", "student_torch", "student", "student_int8"):
        row = report.get(who)
        if not row:
            continue
        size = f"{row['size_bytes'] / 1000:.1f} KB" if row.get("size_bytes") else "—"
        lines.append(f"| {labels[who]} | {row['parameters']:,} | {size} | {row['latency_ms_p50']:.3f} | "
                     f"{row['latency_ms_p90']:.3f} | {row['samples_per_second']:,.0f} | {accuracy[who]:.4f} | "
                     f"{row['runtime']} |")
    lines.append(f"\nspeedup {report['speedup']:.1f}x ({report['speedup_runtime']}), compression "
                 f"{report['compression']:.1f}x; INT8: compression {report['compression_int8']:.1f}x, "
                 f"{report['student_int8']['agreement_with_fp32']:.2%} agreement with the fp32 student")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    from models.examples import digits_teacher, save_torchscript
    from models.transfer_sets import load_builtin

    out: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        save_torchscript(digits_teacher(epochs=30), tmp / "t.pt")
        cnn_teacher(tmp / "cnn_t.pt")
        digits = load_builtin("digits")
        buf = io.BytesIO()
        np.savez(buf, x=digits.x_train.reshape(-1, 1, 8, 8), y=digits.y_train,
                 x_test=digits.x_test.reshape(-1, 1, 8, 8), y_test=digits.y_test)
        with running_stack("embedded", tmp / "stack") as stack, stack.client() as c:
            flat = c.post("/v1/transfer-sets", json={"name": "digits", "builtin": "digits"}).json()["id"]
            images = c.post("/v1/transfer-sets", files={"file": ("digits_images.npz", buf.getvalue())},
                            data={"name": "digits images"}).json()["id"]
            jobs = {"walkthrough (MLP 64-64)": (run_job(c, stack, tmp / "t.pt", [64], flat,
                                                        {"arch": "mlp", "hidden_sizes": [64, 64]}, 20, tmp / "mlp"),
                                                tmp / "mlp", [64]),
                    "CNN 64-128 into CNN 32-64 on 1x8x8 digits": (
                        run_job(c, stack, tmp / "cnn_t.pt", [1, 8, 8], images, {"arch": "cnn", "channels": [32, 64]},
                                6, tmp / "cnn"), tmp / "cnn", [1, 8, 8])}
        teachers = {name: tmp / ("cnn_t.pt" if name.startswith("CNN") else "t.pt") for name in jobs}
        # timed here once the stack is down, so that nothing else runs beside the timing
        for name, (job, files, shape) in jobs.items():
            result = job["result"]
            out[name] = {"latency": compare(job, teachers[name], files, shape), "deployment": result["deployment"],
                         "teacher": result["teacher"], "student": result["student"]}
            for line in buys_table(name, job):
                print(line)
    print("\n| job | network | report p50 (ms) | independent (ms) | apart |\n|---|---|---|---|---|")
    for name, entry in out.items():
        for who, r in entry["latency"].items():
            print(f"| {name} | {who} | {r['reported_ms_p50']:.4f} | {r['independent_ms']:.4f} | {r['apart']:.1%} |")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
