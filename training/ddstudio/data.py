"""Native-resolution windows from a <root>/<Class>/<stem>.<jpg|png> (+ optional <stem>_mask.png) dataset.

Defect windows are centred on a random defect pixel with jitter, so a 10-pixel blowhole stays inside the
window; defect-free classes (no mask pixels) get random windows. Classes are sampled uniformly, which
oversamples the rare defect classes. Augmentations keep image and mask aligned (flips, brightness).

Validation splits go by tile_group (read from a manifest_extra.csv beside the class folders when present):
images of one physical tile under different exposures never end up on both sides.
"""
from __future__ import annotations

import csv
import hashlib
import os
from dataclasses import dataclass

import numpy as np
from PIL import Image

IMAGE_EXTS = (".jpg", ".jpeg", ".png")
# Class order of the default model. A user's dataset gets its folders in sorted order with "Free" (the
# defect-free class, if present) last, so the defect classes come first as in the default.
DEFAULT_CLASSES = ("Blowhole", "Break", "Crack", "Fray", "Uneven", "Free")
FREE_CLASS = "Free"


@dataclass
class Item:
    cls: int
    path: str
    image: np.ndarray   # uint8 (H, W)
    mask: np.ndarray    # uint8 (H, W), 0/1
    group: str
    defect_pixels: np.ndarray  # (N, 2) int32 (row, col)


def discover_classes(root: str) -> list[str]:
    names = sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)))
    if not names:
        raise ValueError(f"no class folders under {root}; expected <root>/<Class>/<image>.jpg|png")
    if set(DEFAULT_CLASSES) == set(names):
        return list(DEFAULT_CLASSES)
    return [n for n in names if n != FREE_CLASS] + ([FREE_CLASS] if FREE_CLASS in names else [])


def _groups(root: str) -> dict[str, str]:
    """Map relative image path -> tile_group from manifest_extra.csv (in root or its parent)."""
    for cand in (os.path.join(root, "manifest_extra.csv"), os.path.join(os.path.dirname(root.rstrip("/")), "manifest_extra.csv")):
        if os.path.exists(cand):
            with open(cand, newline="") as f:
                return {os.path.basename(r["image"]): r["tile_group"] for r in csv.DictReader(f)}
    return {}


def load_items(root: str, classes: list[str] | None = None, max_per_class: int | None = None) -> tuple[list[str], list[Item]]:
    classes = classes or discover_classes(root)
    groups = _groups(root)
    items: list[Item] = []
    for ci, name in enumerate(classes):
        folder = os.path.join(root, name)
        files = sorted(f for f in os.listdir(folder) if f.lower().endswith(IMAGE_EXTS) and "_mask" not in f)
        if max_per_class:
            files = files[:max_per_class]
        for fn in files:
            p = os.path.join(folder, fn)
            img = np.asarray(Image.open(p).convert("L"), dtype=np.uint8)
            mp = os.path.join(folder, os.path.splitext(fn)[0] + "_mask.png")
            if os.path.exists(mp):
                mask = (np.asarray(Image.open(mp).convert("L")) > 127).astype(np.uint8)
                if mask.shape != img.shape:
                    raise ValueError(f"{mp}: mask is {mask.shape[1]}x{mask.shape[0]}, image is {img.shape[1]}x{img.shape[0]}; they must match")
            else:
                mask = np.zeros_like(img)
            # Without a manifest, a file is its own group (no exposure grouping is known).
            group = groups.get(fn, f"{name}/{fn}")
            items.append(Item(ci, p, img, mask, group, np.argwhere(mask > 0).astype(np.int32)))
    return classes, items


def split_by_group(items: list[Item], val_fraction: float, seed: int = 0) -> tuple[list[Item], list[Item]]:
    """Deterministic split by tile_group: a group goes to validation when a hash of (seed, group) falls
    below val_fraction. Stable when images are added, and never splits a group.

    A class with few tile groups can end up with none on the validation side (Break, 13 groups, under
    val_fraction 0.2 / seed 0). Then the class's group with the lowest hash goes to validation too, so every
    class with two or more groups has a held-out reference; and a class whose groups all hashed into
    validation gets its highest-hash group back, so every class is trained on."""
    def score(g: str) -> float:
        return int(hashlib.sha256(f"{seed}:{g}".encode()).hexdigest()[:8], 16) / 0xFFFFFFFF

    val_groups = {it.group for it in items if score(it.group) < val_fraction}
    by_class = {ci: sorted({it.group for it in items if it.cls == ci}, key=score) for ci in sorted({it.cls for it in items})}
    for groups in by_class.values():  # every class keeps a training group...
        if all(g in val_groups for g in groups):
            val_groups.discard(groups[-1])
    if val_fraction > 0:  # ...and, given two or more groups, holds one out
        for groups in by_class.values():
            if len(groups) >= 2 and not any(g in val_groups for g in groups):
                val_groups.add(groups[0])
    train = [it for it in items if it.group not in val_groups]
    val = [it for it in items if it.group in val_groups]
    return train, val


def crop(item: Item, size: int, rng: np.random.Generator, jitter: int) -> tuple[np.ndarray, np.ndarray]:
    h, w = item.image.shape
    img, mask = item.image, item.mask
    if h < size or w < size:  # pad small images by reflection so every window is full-size
        ph, pw = max(0, size - h), max(0, size - w)
        img = np.pad(img, ((0, ph), (0, pw)), mode="reflect")
        mask = np.pad(mask, ((0, ph), (0, pw)), mode="constant")
        h, w = img.shape
    if len(item.defect_pixels):
        r, c = item.defect_pixels[rng.integers(len(item.defect_pixels))]
        r += rng.integers(-jitter, jitter + 1)
        c += rng.integers(-jitter, jitter + 1)
        top = int(np.clip(r - size // 2, 0, h - size))
        left = int(np.clip(c - size // 2, 0, w - size))
    else:
        top = int(rng.integers(0, h - size + 1))
        left = int(rng.integers(0, w - size + 1))
    return img[top:top + size, left:left + size], mask[top:top + size, left:left + size]


def to_unit(img_u8: np.ndarray) -> np.ndarray:
    """uint8 [0,255] -> float32 [-1,1]; the model's pixel convention (manifest pixelRange)."""
    return img_u8.astype(np.float32) / 127.5 - 1.0


def random_hole(mask: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A region to regenerate: the defect's bounding box grown by a random margin, or a random box when
    there is no defect. Returns keep = 1 - hole."""
    size = mask.shape[0]
    ys, xs = np.nonzero(mask)
    if len(ys):
        m = int(rng.integers(2, 12))
        y0, y1 = max(0, ys.min() - m), min(size, ys.max() + 1 + m)
        x0, x1 = max(0, xs.min() - m), min(size, xs.max() + 1 + m)
    else:
        hh, ww = int(rng.integers(8, size * 3 // 4)), int(rng.integers(8, size * 3 // 4))
        y0, x0 = int(rng.integers(0, size - hh + 1)), int(rng.integers(0, size - ww + 1))
        y1, x1 = y0 + hh, x0 + ww
    keep = np.ones_like(mask, dtype=np.float32)
    keep[y0:y1, x0:x1] = 0.0
    return keep


class WindowSampler:
    """Draws training batches: class uniform, item uniform within class, window, augment, keep-region."""

    def __init__(self, items: list[Item], num_classes: int, size: int, jitter: int = 16,
                 p_inpaint: float = 0.5, p_drop_mask: float = 0.1, brightness: float = 0.1):
        self.by_class = [[it for it in items if it.cls == c] for c in range(num_classes)]
        self.present = [c for c in range(num_classes) if self.by_class[c]]
        if not self.present:
            raise ValueError("no training images")
        self.size, self.jitter = size, jitter
        self.p_inpaint, self.p_drop_mask, self.brightness = p_inpaint, p_drop_mask, brightness

    def window(self, cls: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        pool = self.by_class[cls]
        img, mask = crop(pool[rng.integers(len(pool))], self.size, rng, self.jitter)
        if rng.random() < 0.5:
            img, mask = img[:, ::-1], mask[:, ::-1]
        if rng.random() < 0.5:
            img, mask = img[::-1], mask[::-1]
        x = to_unit(np.ascontiguousarray(img))
        x = np.clip((x + 1) * (1 + rng.uniform(-self.brightness, self.brightness)) - 1, -1, 1)
        return x.astype(np.float32), np.ascontiguousarray(mask).astype(np.float32)

    def batch(self, n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        xs, ms, ks, cs = [], [], [], []
        for _ in range(n):
            c = self.present[rng.integers(len(self.present))]
            x, m = self.window(c, rng)
            keep = random_hole(m, rng) if rng.random() < self.p_inpaint else np.zeros_like(m)
            if rng.random() < self.p_drop_mask:
                m = np.zeros_like(m)
            xs.append(x), ms.append(m), ks.append(keep), cs.append(c)
        x0 = np.stack(xs)[:, None]
        keep = np.stack(ks)[:, None]
        return {"x0": x0, "defect_mask": np.stack(ms)[:, None], "known_image": x0 * keep,
                "keep_mask": keep, "class_labels": np.asarray(cs, dtype=np.int64)}
