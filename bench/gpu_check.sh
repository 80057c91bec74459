#!/usr/bin/env bash
# The engine, batch-size and batched-members benchmarks on a CUDA machine, in under 10 minutes (each step
# has its own time limit; one that fails or runs out of time does not stop the others). From the repository
# root:
#   bash bench/gpu_check.sh
# It uses the project's .venv when one was carried along, else installs the pinned torch wheels (and the
# few packages the engine needs) into a fresh venv from what the machine's pip can reach. Results go to
# $OUT (default bench/results). DEVICE=cpu with small SCALE/EPOCHS/ROUNDS/STEPS is a dry run of the same
# steps on the CPU: the unit tests run it that way so that the script keeps working between GPU sessions.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-bench/results}
DEVICE=${DEVICE:-cuda}
SCALE=${SCALE:-4}
EPOCHS=${EPOCHS:-4}
ROUNDS=${ROUNDS:-3}
STEPS=${STEPS:-60}
mkdir -p "$OUT"
failed=()

if [[ -x .venv/bin/python ]] && .venv/bin/python -c "import torch, torchvision, pydantic, safetensors" 2>/dev/null; then
  PY=.venv/bin/python
else
  python3 -m venv /tmp/distillery-gpu-venv
  PY=/tmp/distillery-gpu-venv/bin/python
  "$PY" -m pip install --quiet torch==2.14.1 torchvision==0.29.1 pydantic pydantic-settings safetensors numpy \
    scikit-learn
fi

if [[ $DEVICE == cuda ]]; then
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
  "$PY" - <<'PY'
import torch
assert torch.cuda.is_available(), "no CUDA device visible to torch"
print("torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.get_device_name(0))
PY
fi
# Larger sets than on the CPU so that each epoch has enough steps to time.
timeout 200 "$PY" bench/engine.py --device "$DEVICE" --epochs "$EPOCHS" --scale "$SCALE" --rounds "$ROUNDS" \
  --json "$OUT/engine_$DEVICE.json" | tee "$OUT/engine_$DEVICE.md" || failed+=(engine)
# Per-step overhead over batch sizes (issue 17's sweep), in process: the service's worker is not on the GPU here.
SAMPLES=$("$PY" -c "print(max(256, int(16384 * $SCALE)))")
timeout 240 "$PY" bench/batch_sizes.py --device "$DEVICE" --no-service --batch-sizes 32,64,128,256 \
  --samples "$SAMPLES" --epochs "$EPOCHS" --rounds "$ROUNDS" --json "$OUT/batch_sizes_$DEVICE.json" \
  | tee "$OUT/batch_sizes_$DEVICE.md" || failed+=(batch_sizes)
# The stretch goal's question: do sweep members train faster stacked into one batched model?
timeout 120 "$PY" bench/batched_members.py --device "$DEVICE" --steps "$STEPS" \
  --json "$OUT/batched_members_$DEVICE.json" | tee "$OUT/batched_members_$DEVICE.md" || failed+=(batched_members)
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "failed or out of time: ${failed[*]}" >&2
  exit 1
fi
