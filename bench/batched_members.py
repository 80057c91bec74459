"""Would sweep members train faster as one batched model? A measurement, not a feature.

    .venv/bin/python bench/batched_members.py [--device cpu|cuda] [--members 5] [--steps 60]

Issue 7's stretch goal: members of a temperature sweep share the student architecture and the data,
so they could train together as one model whose parameters are stacked along a member axis
(``torch.func.stack_module_state`` + ``functional_call`` under ``vmap``), each member with its own
temperature. This times a training step of that batched model (SGD with momentum, the stacked KD
loss of ``models/methods/stacked.py`` with one temperature per member) against the same step of one
member, for the benchmark's MLP and CNN students. The goal is M members in at most 2x one member's
time; training them one after another takes M x.
"""

import argparse
import copy
import json
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.func import functional_call, stack_module_state, vmap

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from models.zoo import build_student  # noqa: E402

BATCH, CLASSES, A, B = 256, 10, 0.5, 0.5
CASES = {
    "mlp 64 -> 128-128": ({"arch": "mlp", "hidden_sizes": [128, 128]}, [64]),
    "cnn 16-32 on 3x32x32": ({"arch": "cnn", "channels": [16, 32]}, [3, 32, 32]),
}


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def targets(temperatures, teacher_logits, labels):
    """w [members, 2, N, C]: each member's weighted soft targets at its temperature and the one-hot labels,
    divided by the batch size, as StackedCrossEntropy holds them; scales [members, 2, 1, 1]."""
    onehot = F.one_hot(labels, CLASSES).float()
    w = torch.stack([torch.stack([-A * t * t * F.softmax(teacher_logits / t, -1), -B * onehot]) / BATCH
                     for t in temperatures])
    scales = torch.tensor([[1 / t, 1.0] for t in temperatures]).view(len(temperatures), 2, 1, 1)
    return w, scales


def time_steps(step, batches, device) -> float:
    """Median seconds per step over the batches, after two warm-up steps."""
    for idx in batches[:2]:
        step(idx)
    times = []
    for idx in batches[2:]:
        sync(device)
        start = time.perf_counter()
        step(idx)
        sync(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run_case(name, spec, shape, members, steps, device) -> dict:
    n = BATCH * 8
    gen = torch.Generator().manual_seed(0)
    x = torch.rand((n, *shape), generator=gen).to(device)
    labels = torch.randint(0, CLASSES, (n,), generator=gen).to(device)
    teacher_logits = (torch.randn(n, CLASSES, generator=gen) * 3).to(device)
    temperatures = [1, 2, 5, 10, 20, 40, 80, 160][:members]
    w, scales = (t.to(device) for t in targets(temperatures, teacher_logits, labels))
    batches = [torch.randperm(n, generator=gen)[:BATCH].to(device) for _ in range(steps + 2)]

    def make():
        torch.manual_seed(0)
        return build_student(spec, shape, CLASSES).to(device).train()

    one = make()
    opt_one = torch.optim.SGD(one.parameters(), lr=0.05, momentum=0.9)

    def step_one(idx):
        log_p = torch.log_softmax(one(x[idx]).unsqueeze(0) * scales[0], -1)
        loss = (w[0][:, idx] * log_p).sum()
        opt_one.zero_grad(set_to_none=True)
        loss.backward()
        opt_one.step()

    params, buffers = stack_module_state([make() for _ in range(members)])
    skeleton = copy.deepcopy(one).to("meta")
    forward = vmap(lambda p, b, xb: functional_call(skeleton, (p, b), (xb,)), in_dims=(0, 0, None))
    opt_all = torch.optim.SGD(list(params.values()), lr=0.05, momentum=0.9)

    def step_all(idx):
        logits = forward(params, buffers, x[idx])  # [members, batch, classes]
        log_p = torch.log_softmax(logits.unsqueeze(1) * scales, -1)
        loss = (w[:, :, idx] * log_p).sum()  # members' gradients do not mix: each sees only its own loss
        opt_all.zero_grad(set_to_none=True)
        loss.backward()
        opt_all.step()

    one_s = time_steps(step_one, batches, device)
    all_s = time_steps(step_all, batches, device)
    return {"case": name, "members": members, "one_member_step_s": one_s, "batched_step_s": all_s,
            "batched_over_one": all_s / one_s}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--members", type=int, default=5)
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    device = torch.device(args.device)
    machine = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    rows = [run_case(name, spec, shape, args.members, args.steps, device) for name, (spec, shape) in CASES.items()]
    print(f"\nBatched sweep members on {machine}, torch {torch.__version__}, batch {BATCH}, median step time\n")
    print(f"| student | one member (ms) | {args.members} members batched (ms) | batched / one "
          f"| one after another / one | goal |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['case']} | {r['one_member_step_s'] * 1e3:.2f} | {r['batched_step_s'] * 1e3:.2f} | "
              f"{r['batched_over_one']:.1f}× | {args.members}× | ≤ 2× |")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"machine": machine, "torch": torch.__version__, "results": rows}, indent=2))


if __name__ == "__main__":
    main()
