#!/usr/bin/env python3
"""Times MONAI's sliding_window_inference (PyTorch CPU, 2 threads) on the network and images of
dicekit's `infer_bench` example, runs dicekit's, and prints the ratio. Exits 0 without torch or
MONAI.

Run from the repository root: python3 crates/dicekit-train/benches/peers/sliding_window.py [2d|3d] [runs]
2d: a 1 x 999 x 960 image, 128 x 128 windows, overlap 0.5, 8 windows a batch.
3d: a 1 x 512 x 512 x 120 volume, 64^3 windows, overlap 0.25, 2 windows a batch.
Both sides: the U-Net of unet_step.py in eval mode with random weights, Gaussian blending with
sigma_scale 0.125, sigmoid on each window before blending (as dicekit), median of `runs`
predictions after one warm-up prediction of an image just long enough for one full batch of
windows. Environment: TORCH_ONLY=1 skips dicekit's run.
"""
import json
import os
import statistics
import subprocess
import sys
import time

try:
    import torch
    import torch.nn as nn
    from monai.data.utils import dense_patch_slices
    from monai.inferers import sliding_window_inference
    from monai.inferers.utils import _get_scan_interval
    import monai
except ImportError as e:
    print(f"skipped: {e}")
    sys.exit(0)

case = sys.argv[1] if len(sys.argv) > 1 else "2d"
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
torch.set_num_threads(2)
torch.manual_seed(0)
three = case == "3d"
Conv, ConvT, BN = (nn.Conv3d, nn.ConvTranspose3d, nn.BatchNorm3d) if three else (nn.Conv2d, nn.ConvTranspose2d, nn.BatchNorm2d)
# (image [C, ...S], roi, overlap, windows per batch): the same as infer_bench.rs's `case`.
shape, roi, overlap, sw_batch = ((1, 512, 512, 120), (64, 64, 64), 0.25, 2) if three else ((1, 999, 960), (128, 128), 0.5, 8)


def block(cin, cout, stride):
    return nn.Sequential(Conv(cin, cout, 3, stride=stride, padding=1), BN(cout), nn.LeakyReLU(0.01),
                         Conv(cout, cout, 3, padding=1), BN(cout), nn.LeakyReLU(0.01))


class UNet(nn.Module):
    """unet_step.py's network."""

    def __init__(self, depth=4, base=16):
        super().__init__()
        ch = [base << l for l in range(depth)]
        # 2D: max-pool then a stride-1 block; 3D: a stride-2 first convolution (as dicekit).
        self.enc = nn.ModuleList([block(1 if l == 0 else ch[l - 1], ch[l], 2 if (three and l > 0) else 1) for l in range(depth)])
        self.pool = None if three else nn.MaxPool2d(2)
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


def windows(spatial):
    """MONAI's window count for an image of `spatial` (what sliding_window_inference places)."""
    interval = _get_scan_interval(spatial, roi, len(roi), (overlap,) * len(roi))
    return len(dense_patch_slices(spatial, roi, interval))


model = UNet().eval()
net_s = 0.0


def predictor(x):
    global net_s
    t0 = time.perf_counter()
    out = torch.sigmoid(model(x))
    net_s += time.perf_counter() - t0
    return out


def predict(image):
    return sliding_window_inference(image[None], roi, sw_batch, predictor, overlap=overlap,
                                    mode="gaussian", sigma_scale=0.125, progress=False)[0]


step = max(1, int(roi[0] * (1 - overlap)))
warm = torch.randn((1, roi[0] + (sw_batch - 1) * step) + roi[1:])
image = torch.randn(shape)
times, nets = [], []
with torch.inference_mode():
    predict(warm)
    for _ in range(runs):
        net_s = 0.0
        t0 = time.perf_counter()
        out = predict(image)
        times.append(time.perf_counter() - t0)
        nets.append(net_s)
        assert out.shape == (2,) + shape[1:], out.shape
monai_s, monai_net = statistics.median(times), statistics.median(nets)
monai_windows = windows(shape[1:])
summary = {"case": case, "monai": monai.__version__, "torch": torch.__version__, "windows": monai_windows,
           "runs": runs, "median_s": round(monai_s, 4), "network_s": round(monai_net, 4)}
print(json.dumps(summary))
if os.environ.get("TORCH_ONLY"):
    sys.exit(0)
out = subprocess.run(["cargo", "run", "--release", "-q", "-p", "dicekit-train", "--example", "infer_bench", "--", case, str(runs)],
                     check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
ours = json.loads(out)
print(out)
same = "same" if ours["windows"] == monai_windows else "DIFFERENT"
print(f"{case}: MONAI {monai.__version__} {monai_s:.3f} s (network {monai_net:.3f} s) | dicekit {ours['median_s']:.3f} s "
      f"(network {ours['network_s']:.3f} s, extract {ours['extract_s']:.3f} s, stitch {ours['stitch_s']:.3f} s) | "
      f"windows {monai_windows} / {ours['windows']} ({same}) | ratio {ours['median_s'] / monai_s:.2f}x")
