#!/usr/bin/env python3
"""PyTorch side of bench/compare: images/s of a training step (forward, cross-entropy,
backward, Adam step) or of an eval forward, for the models `cnn bench train` measures.
Prints one JSON line per case, in the same form as `cnn bench train --json`.

Usage: torch_bench.py KIND MODEL CxHxW BATCH THREADS STEPS [--stem cifar]
Runs each case in both memory layouts (contiguous NCHW and channels_last) and reports the
faster, so the comparison is against PyTorch at its best on this CPU.

torch_bench.py export MODEL CxHxW BATCH FILE.onnx [--stem cifar] writes the eval-mode model as
ONNX (torch.onnx.export, input 'input') for bench/ort_bench.mjs, onnxruntime's side.
"""
import json
import resource
import statistics
import sys
import time

import torch
import torch.nn as nn


def import_torchvision():
    try:
        import torchvision
    except (RuntimeError, OSError):
        # PyPI's torchvision wheel is built for CUDA: beside a +cpu torch its C ops (nms and the
        # other detection ops) cannot load and registering their fake kernels fails. The models
        # are plain Python: import again without those registrations.
        for name in [k for k in sys.modules if k.startswith("torchvision")]:
            del sys.modules[name]
        torch.library.register_fake = lambda *args, **kwargs: (lambda fn: fn)
        import torchvision
    return torchvision


torchvision = import_torchvision()


def lenet5(num_classes):
    return nn.Sequential(
        nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(256, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, num_classes))


def simplecnn(num_classes):
    def block(i, o):
        return [nn.Conv2d(i, o, 3, padding=1), nn.BatchNorm2d(o), nn.ReLU()]
    pool = lambda: [nn.MaxPool2d(2), nn.Dropout(0.25)]
    return nn.Sequential(
        *block(3, 32), *block(32, 32), *pool(), *block(32, 64), *block(64, 64), *pool(), *block(64, 128), *pool(),
        nn.Flatten(), nn.Linear(2048, 512), nn.ReLU(), nn.Dropout(0.5), nn.Linear(512, num_classes))


def build(name, num_classes, stem):
    if name == "lenet5":
        return lenet5(num_classes)
    if name == "simplecnn":
        return simplecnn(num_classes)
    if not hasattr(torchvision.models, name):
        return None
    m = getattr(torchvision.models, name)(num_classes=num_classes)
    if stem == "cifar" and name.startswith("resnet"):
        m.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
        m.maxpool = nn.Identity()
    return m


def measure(kind, model, x, y, steps, channels_last):
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    if kind == "train":
        model.train()
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        loss_fn = nn.CrossEntropyLoss()

        def step():
            loss = loss_fn(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
    else:
        model.eval()

        def step():
            with torch.no_grad():
                model(x)
    # Warm-up: at least 2 steps and 1 s, as `cnn bench`.
    start, warm = time.perf_counter(), 0
    while warm < 2 or time.perf_counter() - start < 1.0:
        step()
        warm += 1
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def export(name, shape, batch, path, stem):
    c, h, w = (int(v) for v in shape.lower().split("x"))
    torch.manual_seed(0)
    model = build(name, 10, stem)
    if model is None:  # a model torchvision lacks (mobilenet_v1): no peer figure
        return
    model.eval()
    torch.onnx.export(model, torch.randn(int(batch), c, h, w), path, input_names=["input"], output_names=["logits"],
                      opset_version=13)


def main():
    if sys.argv[1] == "export":
        name, shape, batch, path = sys.argv[2:6]
        return export(name, shape, batch, path, sys.argv[7] if len(sys.argv) > 7 and sys.argv[6] == "--stem" else None)
    kind, name, shape, batch, threads, steps = sys.argv[1:7]
    stem = sys.argv[8] if len(sys.argv) > 8 and sys.argv[7] == "--stem" else None
    c, h, w = (int(v) for v in shape.lower().split("x"))
    batch, threads, steps = int(batch), int(threads), int(steps)
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    x = torch.randn(batch, c, h, w)
    y = torch.randint(0, 10, (batch,))
    if build(name, 10, stem) is None:  # a model torchvision lacks (mobilenet_v1): no peer figure
        return
    best = min(measure(kind, build(name, 10, stem), x, y, steps, cl) for cl in (False, True))
    print(json.dumps({
        "bench": kind, "impl": "pytorch " + torch.__version__, "model": name, "input": [c, h, w], "batch": batch,
        "threads": threads, "images_per_sec": batch / best,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }))


if __name__ == "__main__":
    main()
