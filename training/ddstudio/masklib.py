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


PART_MASKS_FORMAT = "defect-diffusion-part-masks"


def build_part_mask_library(items: list[Item], classes: list[str]) -> dict:
    """Whole-part masks (part_masks.json): every distinct real defect mask of the given (training) items at its
    photo's native size, as its bounding box [x, y, w, h] on a width x height part and the run-length encoding of
    that box (row-major, runs alternate off/on starting with off). The CLI generator and the studio put one on a
    defect-free photo at native scale where it was on its own part (src/core/formats/partMasks.ts), so generated
    defects have the data's real sizes and placements: a Break on an edge, a Fray across a fifth of the tile.
    Identical masks (one tile photographed under several exposures) are stored once, in file order."""
    out: dict[str, list[dict]] = {}
    for ci, name in enumerate(classes):
        seen, masks = set(), []
        for it in sorted((it for it in items if it.cls == ci and len(it.defect_pixels)), key=lambda it: it.path):
            rows, cols = np.nonzero(it.mask)
            y0, y1, x0, x1 = int(rows.min()), int(rows.max()) + 1, int(cols.min()), int(cols.max()) + 1
            box = (it.mask[y0:y1, x0:x1] > 0).astype(np.uint8)
            key = (it.mask.shape, y0, x0, box.tobytes())
            if key in seen:
                continue
            seen.add(key)
            h, w = it.mask.shape
            masks.append({"width": int(w), "height": int(h), "bbox": [x0, y0, x1 - x0, y1 - y0], "runs": encode_runs(box)})
        if masks:
            out[name] = masks
    return {"format": PART_MASKS_FORMAT, "formatVersion": 1,
            "source": "training split masks at native photo size (see manifest training.citation)", "classes": out}
