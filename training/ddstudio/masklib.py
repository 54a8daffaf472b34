"""The mask-shape library shipped beside a model (mask_library.json): real defect-mask windows per class,
run-length encoded, cut from the training split only. The studio and the command-line generator draw a
seeded random mask from it when a request gives none (src/core/formats/maskLibrary.ts decodes it)."""
from __future__ import annotations

import numpy as np

from .data import Item


def encode_runs(mask: np.ndarray) -> list[int]:
    flat = (mask.reshape(-1) > 0).astype(np.uint8)
    runs, cur, n = [], 0, 0
    for v in flat:
        if v == cur:
            n += 1
        else:
            runs.append(n)
            cur, n = int(v), 1
    runs.append(n)
    return runs


def build_mask_library(items: list[Item], classes: list[str], size: int, per_class: int = 48, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    out: dict[str, list[list[int]]] = {}
    for ci, name in enumerate(classes):
        pool = [it for it in items if it.cls == ci and len(it.defect_pixels)]
        if not pool:
            continue
        masks = []
        order = rng.permutation(len(pool))
        for k in range(per_class):
            it = pool[order[k % len(pool)]]
            h, w = it.mask.shape
            r, c = it.defect_pixels[rng.integers(len(it.defect_pixels))]
            top = int(np.clip(r - size // 2 + rng.integers(-8, 9), 0, max(0, h - size)))
            left = int(np.clip(c - size // 2 + rng.integers(-8, 9), 0, max(0, w - size)))
            win = np.zeros((size, size), np.uint8)
            crop = it.mask[top:top + size, left:left + size]
            win[:crop.shape[0], :crop.shape[1]] = crop
            if win.sum() >= 4:
                masks.append(encode_runs(win))
        out[name] = masks
    return {"width": size, "height": size, "source": "training split masks (see manifest training.citation)", "classes": out}
