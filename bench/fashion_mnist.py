#!/usr/bin/env python3
"""The PyTorch side of the Fashion-MNIST accuracy run, with the recipe of

    cnn train --model simplecnn --dataset fashion-mnist --image-size 32 --epochs 5 \
              --optimizer adam --lr 0.001 --scheduler cosine --batch-size 128 --threads 2

Reads the gzipped IDX files of Debian's dataset-fashion-mnist; prints one line per epoch and
the wall time. Usage: bench/fashion_mnist.py [THREADS]
"""
import gzip
import os
import struct
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = "/usr/share/datasets/fashion-mnist"
MEAN, STD = 0.2860, 0.3530


def idx(name):
    with gzip.open(os.path.join(ROOT, name)) as f:
        data = f.read()
    ndim = data[3]
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return torch.frombuffer(bytearray(data[4 + 4 * ndim:]), dtype=torch.uint8).reshape(dims)


def prepare(images):
    x = images.unsqueeze(1).float() / 255
    x = F.interpolate(x, size=(32, 32), mode="bilinear", align_corners=False, antialias=True)
    return (x - MEAN) / STD


def simplecnn():
    def block(i, o):
        return [nn.Conv2d(i, o, 3, padding=1), nn.BatchNorm2d(o), nn.ReLU()]
    pool = lambda: [nn.MaxPool2d(2), nn.Dropout(0.25)]
    return nn.Sequential(*block(1, 32), *block(32, 32), *pool(), *block(32, 64), *block(64, 64), *pool(),
                         *block(64, 128), *pool(), nn.Flatten(), nn.Linear(2048, 512), nn.ReLU(), nn.Dropout(0.5),
                         nn.Linear(512, 10))


def main():
    torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
    torch.manual_seed(0)
    xtr, ytr = prepare(idx("train-images-idx3-ubyte.gz")), idx("train-labels-idx1-ubyte.gz").long()
    xte, yte = prepare(idx("t10k-images-idx3-ubyte.gz")), idx("t10k-labels-idx1-ubyte.gz").long()
    model = simplecnn()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    epochs = 5
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    start = time.time()
    for epoch in range(1, epochs + 1):
        model.train()
        perm = torch.randperm(len(xtr))
        for i in range(0, len(xtr), 128):
            b = perm[i:i + 128]
            loss = F.cross_entropy(model(xtr[b]), ytr[b])
            opt.zero_grad()
            loss.backward()
            opt.step()
        sched.step()
        model.eval()
        correct = 0
        with torch.no_grad():
            for i in range(0, len(xte), 512):
                correct += (model(xte[i:i + 512]).argmax(1) == yte[i:i + 512]).sum().item()
        print("epoch %d test accuracy %.2f%% (%.0f s)" % (epoch, 100 * correct / len(xte), time.time() - start), flush=True)
    print("wall time %.0f s" % (time.time() - start))


if __name__ == "__main__":
    main()
