#!/usr/bin/env python3
"""Writes data/imagenet.json from torchvision (Debian's python3-torchvision 0.14):
ImageNet-1K's 1,000 class names in torchvision's order, the preprocessing its ImageNet weights
expect (resize shorter side, center crop, mean/std), and the official IMAGENET1K_V1 weight file
of each model `cnn --pretrained` offers (URL; the 8 hex digits in the file name are the start of
its SHA-256, which torch.hub checks too) with torchvision's published accuracies.

    /usr/bin/python3 scripts/make-imagenet-facts.py
"""
import json
import os

import torchvision.models as m
from torchvision.models._meta import _IMAGENET_CATEGORIES

WEIGHTS = {
    "resnet18": m.ResNet18_Weights, "resnet34": m.ResNet34_Weights, "resnet50": m.ResNet50_Weights,
    "resnet101": m.ResNet101_Weights, "resnet152": m.ResNet152_Weights,
    "vgg11": m.VGG11_Weights, "vgg13": m.VGG13_Weights, "vgg16": m.VGG16_Weights, "vgg19": m.VGG19_Weights,
    "vgg11_bn": m.VGG11_BN_Weights, "vgg13_bn": m.VGG13_BN_Weights, "vgg16_bn": m.VGG16_BN_Weights,
    "vgg19_bn": m.VGG19_BN_Weights, "mobilenet_v2": m.MobileNet_V2_Weights,
}


def main():
    out = {"classes": list(_IMAGENET_CATEGORIES), "preprocessing": None, "weights": {}}
    for name, enum in WEIGHTS.items():
        w = enum.IMAGENET1K_V1
        t = w.transforms()
        pre = {"resize": t.resize_size[0], "crop": t.crop_size[0], "mean": list(t.mean), "std": list(t.std), "interpolation": "bilinear"}
        assert out["preprocessing"] in (None, pre), name
        out["preprocessing"] = pre
        metrics = w.meta["_metrics"]["ImageNet-1K"]
        assert list(w.meta["categories"]) == out["classes"], name
        out["weights"][name] = {"url": w.url, "params": w.meta["num_params"], "top1": metrics["acc@1"], "top5": metrics["acc@5"]}
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "imagenet.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
