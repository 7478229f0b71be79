#!/usr/bin/env python3
"""PyTorch side of bench/compare-data: one epoch of DataLoader(ImageFolder(ROOT), num_workers,
batch_size) with torchvision's training transforms (RandomResizedCrop(size) +
RandomHorizontalFlip + ToTensor + Normalize(ImageNet)), nothing else. Prints one JSON line in
the form of `cnn bench data --json`; peak RSS is the main process's plus the largest worker's.

Usage: torch_imagefolder.py ROOT [SIZE] [WORKERS] [BATCH]
"""
import json
import resource
import sys
import time

import torch
from torchvision import datasets, transforms


def main():
    root = sys.argv[1]
    size = int(sys.argv[2]) if len(sys.argv) > 2 else 224
    workers = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    batch = int(sys.argv[4]) if len(sys.argv) > 4 else 64
    torch.manual_seed(0)
    t = transforms.Compose([
        transforms.RandomResizedCrop(size), transforms.RandomHorizontalFlip(), transforms.ToTensor(),
        transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
    ])
    t0 = time.perf_counter()
    ds = datasets.ImageFolder(root, transform=t)
    index_seconds = time.perf_counter() - t0
    loader = torch.utils.data.DataLoader(ds, batch_size=batch, shuffle=True, num_workers=workers)
    images = 0
    t1 = time.perf_counter()
    for x, _ in loader:
        images += x.shape[0]
    seconds = time.perf_counter() - t1
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(json.dumps({
        "bench": "data", "dataset": "imagefolder", "source": "torch " + root, "images": images, "image_size": size,
        "augment": "basic", "batch_size": batch, "threads": workers, "index_seconds": index_seconds,
        "images_per_sec": images / seconds, "peak_rss_mb": round((own + child) / 1024),
    }))


if __name__ == "__main__":
    main()
