#!/usr/bin/env bash
# The prepared GPU check of issue #5, for a session that is lent a GPU machine (`run` tool):
#   bash tools/gpu/check.sh            (from the repository root; results in $OUT or ./gpu-out)
# 1. builds dicekit with the `vulkan` feature (burn's wgpu backend),
# 2. times one training step of the step_bench U-Net (2D batch 8 x 128^2, 3D batch 2 x 64^3),
# 3. trains the demo config for its 200 steps on the GPU and keeps the log,
# 4. times the same U-Net step in PyTorch CUDA when torch with CUDA is installed.
# Each part reports and goes on when it fails: the point is to learn what works there.
set -u
out="${OUT:-gpu-out}"
mkdir -p "$out"
log() { echo "== $*" | tee -a "$out/summary.txt"; }
log "$(date -u) $(uname -a)"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv | tee -a "$out/summary.txt"
command -v vulkaninfo >/dev/null && vulkaninfo --summary 2>&1 | head -30 >"$out/vulkaninfo.txt"
if ! command -v cargo >/dev/null; then
    log "no cargo on this machine: nothing of dicekit can run here"
else
    log "cargo $(cargo --version)"
    if cargo build --release --features vulkan -p dicekit-train --example step_bench >"$out/build.txt" 2>&1 &&
        cargo build --release --features vulkan -p dicekit-cli >>"$out/build.txt" 2>&1; then
        for case in 2d 3d; do
            log "dicekit vulkan step $case: $(timeout 300 ./target/release/examples/step_bench "$case" 20 2>>"$out/step_$case.err")"
        done
        sed -e 's|output = "runs/demo"|output = "'"$out"'/demo"|' configs/demo_fundus.toml >"$out/demo.toml"
        start=$(date +%s)
        timeout 400 ./target/release/dicekit train --config "$out/demo.toml" --quiet --no-report >"$out/demo_train.txt" 2>&1
        log "dicekit vulkan demo training (200 steps): exit $? in $(($(date +%s) - start)) s; last line: $(tail -1 "$out/demo_train.txt")"
    else
        log "the vulkan build failed: see build.txt"
        tail -20 "$out/build.txt"
    fi
fi
for case in 2d 3d; do
    log "PyTorch CUDA step $case: $(DEVICE=cuda TORCH_ONLY=1 timeout 300 python3 crates/dicekit-train/benches/peers/unet_step.py "$case" 20 2>&1 | tail -1)"
done
cat "$out/summary.txt"
