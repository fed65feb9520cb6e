#!/usr/bin/env python3
"""Times one U-Net training step in PyTorch (CPU, 2 threads) on the model and shapes of
dicekit's `step_bench` example, runs dicekit's, and prints the ratio. Exits 0 without torch.

Run from the repository root: python3 crates/dicekit-train/benches/peers/unet_step.py [2d|3d|3dpool] [steps]
(3dpool: the 3D network with 2x2x2 max pooling instead of strided convolutions.)
Environment: STEP_BATCH=N sets the 2D batch (default 8); DEVICE=cuda times PyTorch on the GPU (synchronised) instead; TORCH_ONLY=1 skips
dicekit's run (the GPU script times dicekit's Vulkan build itself).
"""
import os
import json
import statistics
import subprocess
import sys
import time

try:
    import torch
    import torch.nn as nn
except ImportError as e:
    print(f"skipped: {e}")
    sys.exit(0)

case = sys.argv[1] if len(sys.argv) > 1 else "2d"
steps = int(sys.argv[2]) if len(sys.argv) > 2 else 10
device = os.environ.get("DEVICE", "cpu")
torch.set_num_threads(2)
torch.manual_seed(0)
three = case in ("3d", "3dpool")
pool3 = case == "3dpool"
Conv, ConvT, BN = (nn.Conv3d, nn.ConvTranspose3d, nn.BatchNorm3d) if three else (nn.Conv2d, nn.ConvTranspose2d, nn.BatchNorm2d)


def block(cin, cout, stride):
    return nn.Sequential(Conv(cin, cout, 3, stride=stride, padding=1), BN(cout), nn.LeakyReLU(0.01),
                         Conv(cout, cout, 3, padding=1), BN(cout), nn.LeakyReLU(0.01))


class UNet(nn.Module):
    def __init__(self, depth=4, base=16):
        super().__init__()
        ch = [base << l for l in range(depth)]
        # 2D (and 3dpool): max-pool then a stride-1 block; 3D: a stride-2 first convolution (as dicekit).
        strided = three and not pool3
        self.enc = nn.ModuleList([block(1 if l == 0 else ch[l - 1], ch[l], 2 if (strided and l > 0) else 1) for l in range(depth)])
        self.pool = None if strided else (nn.MaxPool3d(2) if three else nn.MaxPool2d(2))
        self.up = nn.ModuleList([ConvT(ch[l], ch[l - 1], 2, stride=2) for l in range(depth - 1, 0, -1)])
        self.dec = nn.ModuleList([block(2 * ch[l - 1], ch[l - 1], 1) for l in range(depth - 1, 0, -1)])
        self.head = Conv(ch[0], 2, 1)

    def forward(self, x):
        skips = []
        for i, b in enumerate(self.enc):
            if i > 0 and self.pool is not None:
                x = self.pool(x)
            x = b(x)
            skips.append(x)
        skips.pop()
        for u, d in zip(self.up, self.dec):
            x = d(torch.cat([u(x), skips.pop()], 1))
        return self.head(x)


def dice_loss(logits, t, s=1e-5):
    p = torch.sigmoid(logits)
    red = tuple(range(2, p.ndim))
    return (1 - (2 * (p * t).sum(red) + s) / (p.sum(red) + t.sum(red) + s)).mean()


# STEP_BATCH sets the 2D batch for both libraries (the dicekit example reads it too).
shape = (2, 1, 64, 64, 64) if three else (int(os.environ.get("STEP_BATCH", "8")), 1, 128, 128)
model = UNet().to(device)
opt = torch.optim.Adam(model.parameters(), 1e-3)
x = torch.randn(shape, device=device)
t = (torch.rand((shape[0], 2) + shape[2:], device=device) < 0.1).float()
times = []
for i in range(steps + 3):
    t0 = time.perf_counter()
    opt.zero_grad(set_to_none=True)
    loss = dice_loss(model(x), t)
    loss.backward()
    opt.step()
    loss.item()
    if device != "cpu":
        torch.cuda.synchronize()
    if i >= 3:
        times.append(time.perf_counter() - t0)
torch_s = statistics.median(times)
if os.environ.get("TORCH_ONLY"):
    print(json.dumps({"case": case, "torch": torch.__version__, "device": device, "median_s": round(torch_s, 4), "steps": steps}))
    sys.exit(0)
out = subprocess.run(["cargo", "run", "--release", "-q", "-p", "dicekit-train", "--example", "step_bench", "--", case, str(steps)],
                     check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
ours = json.loads(out)["median_s"]
print(f"{case}: PyTorch {torch.__version__} {torch_s:.3f} s/step | dicekit (burn Flex) {ours:.3f} s/step | ratio {ours / torch_s:.2f}x")
