#!/usr/bin/env python3
"""The PyTorch side of bench/recipe-fashion: simplecnn on full Fashion-MNIST at 32x32, Adam
lr 1e-3, cosine over the epochs, batch 128, either plain or with the issue-16 recipe

    cnn train ... --mixup 0.2 --auto-augment trivial --ema 0.999

written out here because timm is not installed: torchvision's TrivialAugmentWide on the uint8
image after the resize (cnn's order: Resize -> auto-augment -> ToTensor -> Normalize), timm's
Mixup in 'batch' mode (lam ~ Beta(0.2, 0.2), the batch mixed with itself flipped, one-hot
targets blended by lam, SoftTargetCrossEntropy) and timm's ModelEmaV2 (every state-dict entry
ema = d*ema + (1-d)*model after each optimizer step). Prints one JSON line at the end:
{"recipe", "epochs", "acc", "ema_acc", "seconds"} (test accuracy after the last epoch).

Usage: bench/recipe_fashion.py plain|recipe EPOCHS THREADS
"""
import copy
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from torchvision.transforms import TrivialAugmentWide

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fashion_mnist import MEAN, STD, idx, simplecnn  # noqa: E402


def resized_uint8(images):
    """28x28 uint8 -> 32x32 uint8 (antialiased bilinear, rounded), as a Resize on uint8 images."""
    x = F.interpolate(images.unsqueeze(1).float(), size=(32, 32), mode="bilinear", align_corners=False, antialias=True)
    return x.round().clamp(0, 255).to(torch.uint8)


def normalize(u8):
    return (u8.float() / 255 - MEAN) / STD


def mixup(x, y, alpha, num_classes, rng):
    """timm Mixup, mode 'batch', mixup only, mix_prob 1, no label smoothing."""
    lam = float(rng.beta(alpha, alpha))
    x = x * lam + x.flip(0) * (1 - lam)
    one_hot = F.one_hot(y, num_classes).float()
    return x, one_hot * lam + one_hot.flip(0) * (1 - lam)


def ema_update(ema, model, decay):
    """timm ModelEmaV2._update with update_fn = decay*e + (1-decay)*m over the state dict."""
    with torch.no_grad():
        for e, m in zip(ema.state_dict().values(), model.state_dict().values()):
            e.copy_(e * decay + (1.0 - decay) * m)


def accuracy(model, x, y):
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(x), 512):
            correct += (model(x[i:i + 512]).argmax(1) == y[i:i + 512]).sum().item()
    return correct / len(x)


def main():
    recipe, epochs, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    assert recipe in ("plain", "recipe"), recipe
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    train_u8 = resized_uint8(idx("train-images-idx3-ubyte.gz"))
    ytr = idx("train-labels-idx1-ubyte.gz").long()
    xte = normalize(resized_uint8(idx("t10k-images-idx3-ubyte.gz")))
    yte = idx("t10k-labels-idx1-ubyte.gz").long()
    xtr_plain = normalize(train_u8)
    model = simplecnn()
    ema = copy.deepcopy(model) if recipe == "recipe" else None
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    augment = TrivialAugmentWide()
    start = time.time()
    acc = ema_acc = None
    for epoch in range(1, epochs + 1):
        model.train()
        perm = torch.randperm(len(ytr))
        for i in range(0, len(ytr), 128):
            b = perm[i:i + 128]
            if recipe == "recipe":
                x = normalize(torch.stack([augment(img) for img in train_u8[b]]))
                x, target = mixup(x, ytr[b], 0.2, 10, rng)
                loss = torch.sum(-target * F.log_softmax(model(x), dim=-1), dim=-1).mean()
            else:
                loss = F.cross_entropy(model(xtr_plain[b]), ytr[b])
            opt.zero_grad()
            loss.backward()
            opt.step()
            if ema is not None:
                ema_update(ema, model, 0.999)
        sched.step()
        acc = accuracy(model, xte, yte)
        ema_acc = accuracy(ema, xte, yte) if ema is not None else None
        print("epoch %d test accuracy %.2f%%%s (%.0f s)" % (
            epoch, 100 * acc, "" if ema_acc is None else ", EMA %.2f%%" % (100 * ema_acc), time.time() - start), file=sys.stderr, flush=True)
    print(json.dumps({"recipe": recipe, "epochs": epochs, "acc": acc, "ema_acc": ema_acc, "seconds": round(time.time() - start, 1)}))


if __name__ == "__main__":
    main()
