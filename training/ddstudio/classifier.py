"""Evaluation classifier: a small CNN on 64x64 native-resolution windows (the denoiser's window logic).

It is a measuring instrument, not a product model: its logits give label consistency of generated windows,
its 64-dim penultimate features give KID, diversity and feature-space nearest-neighbour distances
(training/evaluate_quality.py, and the browser via public/models/magtile-classifier-64).

Architecture: four stages of conv3x3-BN-ReLU (two convs per stage), 2x2 max-pool between stages
(64 -> 32 -> 16 -> 8), global average pool -> 64-dim feature (non-negative, after ReLU) -> linear -> logits.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn

from .data import Item, crop, to_unit

FEATURE_DIM = 64


def _block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
        nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
    )


class EvalClassifier(nn.Module):
    def __init__(self, num_classes: int = 6, widths: tuple[int, ...] = (16, 32, 48, FEATURE_DIM)):
        super().__init__()
        if widths[-1] != FEATURE_DIM:
            raise ValueError(f"last width must be the feature dim {FEATURE_DIM}")
        layers: list[nn.Module] = []
        cin = 1
        for i, w in enumerate(widths):
            if i:
                layers.append(nn.MaxPool2d(2))
            layers.append(_block(cin, w))
            cin = w
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(FEATURE_DIM, num_classes)
        self.num_classes = num_classes
        self.widths = tuple(widths)

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """image (B,1,H,W) in [-1,1] -> (logits (B,C), features (B,64))."""
        features = self.body(image).mean(dim=(2, 3))
        return self.head(features), features


def fixed_windows(items: list[Item], num_classes: int, per_class: int, size: int, seed: int,
                  jitter: int = 16, with_index: bool = False, with_masks: bool = False):
    """Deterministic, un-augmented windows: per_class per class (classes without images give none).
    Class c uses its own rng (seed, c), so adding a class never changes another class's windows.
    Returns x (N,1,size,size) float32 in [-1,1], y (N,) int64, groups (N,) object (tile_group of each window)
    and, with with_index, the index into items of each window's source image, then, with with_masks, the
    windows' defect masks (N,size,size) uint8 0/1."""
    xs, ys, gs, idx, ms = [], [], [], [], []
    for c in range(num_classes):
        pool = [i for i, it in enumerate(items) if it.cls == c]
        if not pool:
            continue
        rng = np.random.default_rng([seed, c])
        for _ in range(per_class):
            k = pool[int(rng.integers(len(pool)))]
            img, mask = crop(items[k], size, rng, jitter)
            xs.append(to_unit(np.ascontiguousarray(img)))
            ms.append(np.ascontiguousarray(mask))
            ys.append(c)
            gs.append(items[k].group)
            idx.append(k)
    x = np.stack(xs)[:, None].astype(np.float32) if xs else np.zeros((0, 1, size, size), np.float32)
    out = (x, np.asarray(ys, np.int64), np.asarray(gs, dtype=object))
    if with_index:
        out += (np.asarray(idx, np.int64),)
    if with_masks:
        out += (np.stack(ms).astype(np.uint8) if ms else np.zeros((0, size, size), np.uint8),)
    return out


@torch.no_grad()
def predict(model: EvalClassifier, x: np.ndarray, batch: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """numpy (N,1,H,W) -> (logits (N,C), features (N,64)) float32, model in eval mode."""
    model.eval()
    ls, fs = [], []
    for i in range(0, len(x), batch):
        lo, fe = model(torch.from_numpy(np.ascontiguousarray(x[i:i + batch], dtype=np.float32)))
        ls.append(lo.numpy()), fs.append(fe.numpy())
    if not ls:
        return np.zeros((0, model.num_classes), np.float32), np.zeros((0, FEATURE_DIM), np.float32)
    return np.concatenate(ls), np.concatenate(fs)


def per_class_accuracy(logits: np.ndarray, y: np.ndarray, classes: list[str]) -> dict[str, float | None]:
    pred = logits.argmax(1)
    return {name: (float((pred[y == c] == c).mean()) if (y == c).any() else None) for c, name in enumerate(classes)}


def macro(acc: dict[str, float | None]) -> float:
    vals = [v for v in acc.values() if v is not None]
    return float(np.mean(vals)) if vals else float("nan")


def save_checkpoint(path: str, model: EvalClassifier, meta: dict) -> None:
    torch.save({"model": model.state_dict(), "widths": list(model.widths), "num_classes": model.num_classes, **meta}, path)


def load_checkpoint(path: str) -> tuple[EvalClassifier, dict]:
    ck = torch.load(path, map_location="cpu")
    model = EvalClassifier(ck["num_classes"], tuple(ck["widths"]))
    model.load_state_dict(ck["model"])
    model.eval()
    return model, ck
