"""The downstream protocol's parts (training/downstream.py runs them): tile-group folds, native-resolution windows,
classic and flip augmentation, the two small downstream networks and their measures.

- Folds are over tile groups, never files: each class's groups are ordered by a hash of (seed, group) and dealt
  round-robin, so every fold holds groups of every class that has at least k of them.
- Windows are 64x64 crops at native resolution (no resizing: a Blowhole is ~100 pixels): around a random defect
  pixel (with jitter) for defect images, anywhere for defect-free ones. Test windows are drawn once with a fixed rng.
- The classifier sees 6 classes (5 defects + Free), the segmentation network predicts the defect pixels of any class.
- Measures: macro-F1 over the defect classes (Free is a class of the classifier but not of the average); per class
  pixel AP over the windows of that class and the defect-free windows (average precision of the per-pixel defect
  score; AP over all pixels at once would be dominated by Uneven, whose masks cover most of their windows), IoU and
  Dice at threshold 0.5 over the class's windows, and the false-positive rate on defect-free windows (the share of
  their pixels predicted defect at 0.5).
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import re
import zipfile

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

from .data import FREE_CLASS, Item

SIZE = 64


def _score(seed: int, group: str) -> int:
    return int(hashlib.sha256(f"{seed}:{group}".encode()).hexdigest()[:8], 16)


def group_folds(items: list[Item], k: int, seed: int = 0) -> list[set[str]]:
    """k disjoint sets of tile groups; a group belongs to the class of its first (file-order) image."""
    first: dict[str, int] = {}
    for it in items:
        first.setdefault(it.group, it.cls)
    folds: list[set[str]] = [set() for _ in range(k)]
    for ci in sorted(set(first.values())):
        groups = sorted((g for g, c in first.items() if c == ci), key=lambda g: (_score(seed, g), g))
        offset = _score(seed, f"class{ci}") % k   # classes with fewer than k groups do not all start at fold 0
        for j, g in enumerate(groups):
            folds[(j + offset) % k].add(g)
    return folds


def protocol_folds(items: list[Item], held: list[str] | None, k: int) -> tuple[set[str], list[set[str]]]:
    """The protocol's final test fold and development folds. With the generator's held-out tile groups (its
    manifest's training.heldOutGroups), those present in the data are the final fold and the rest is dealt into
    max(2, k - 1) development folds; without them the last of k folds is the final one. downstream.py scores these
    folds and fold_generators.py trains one generator without each development fold: both call this."""
    if held:
        final = set(held) & {it.group for it in items}
        return final, group_folds([it for it in items if it.group not in final], max(2, k - 1))
    folds = group_folds(items, k)
    return folds[-1], folds[:-1]


def crop_window(img: np.ndarray, mask: np.ndarray, rng: np.random.Generator, jitter: int = 16) -> tuple[np.ndarray, np.ndarray]:
    h, w = img.shape
    if h < SIZE or w < SIZE:
        ph, pw = max(0, SIZE - h), max(0, SIZE - w)
        img, mask = np.pad(img, ((0, ph), (0, pw)), mode="reflect"), np.pad(mask, ((0, ph), (0, pw)))
        h, w = img.shape
    on = np.argwhere(mask > 0)
    if len(on):
        r, c = on[rng.integers(len(on))] + rng.integers(-jitter, jitter + 1, 2)
        top, left = int(np.clip(r - SIZE // 2, 0, h - SIZE)), int(np.clip(c - SIZE // 2, 0, w - SIZE))
    else:
        top, left = int(rng.integers(0, h - SIZE + 1)), int(rng.integers(0, w - SIZE + 1))
    return img[top:top + SIZE, left:left + SIZE], mask[top:top + SIZE, left:left + SIZE]


class Windows:
    """Parallel arrays: x uint8 (N, 64, 64), m uint8 0/1 (N, 64, 64), y int64 class index (N,)."""

    def __init__(self, x: np.ndarray, m: np.ndarray, y: np.ndarray):
        self.x, self.m, self.y = x, m, y

    def __len__(self) -> int:
        return len(self.y)

    @staticmethod
    def cut(pairs: list[tuple[np.ndarray, np.ndarray, int]], per_image: int, per_free_image: int, free: int, seed: int) -> "Windows":
        rng = np.random.default_rng(seed)
        xs, ms, ys = [], [], []
        for img, mask, cls in pairs:
            for _ in range(per_free_image if cls == free else per_image):
                a, b = crop_window(img, mask, rng)
                xs.append(a), ms.append((b > 0).astype(np.uint8)), ys.append(cls)
        if not xs:
            return Windows(np.zeros((0, SIZE, SIZE), np.uint8), np.zeros((0, SIZE, SIZE), np.uint8), np.zeros(0, np.int64))
        return Windows(np.stack(xs), np.stack(ms), np.asarray(ys, np.int64))


def item_pairs(items: list[Item]) -> list[tuple[np.ndarray, np.ndarray, int]]:
    return [(it.image, it.mask, it.cls) for it in items]


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def read_synthetic(path: str, classes: list[str]) -> tuple[list[tuple[np.ndarray, np.ndarray, int, str | None, str, str | None]], dict]:
    """Generated images with their masks from a `npm run generate` folder or a studio export zip: the accepted
    images/<class>/<name>.png and masks/<class>/<name>.png (photo-sized items are cut like real photos: windows
    around their defect), each with the file name of the real photo it was generated on (metadata.jsonl's
    provenance.basePhoto.name; None for a generated window): such a window carries that photo's real pixels, so
    the protocol leaves it out of any fold whose test tiles include that photo. Classes the protocol does not know
    are counted and skipped. Each pair then has its key "<class>/<file stem>" (select_synthetic's) and the sha256 of
    the model that made it (metadata.jsonl's modelSha256; None where not recorded): the protocol looks the model up
    among the generators it was given, to know which tile groups it never saw."""
    folder = os.path.isdir(path)
    if not folder and not zipfile.is_zipfile(path):
        raise ValueError(f"--synthetic {path}: neither a folder nor a zip; accepted: a `npm run generate` output folder "
                         "or a studio export .zip (images/<class>/*.png + masks/<class>/*.png)")
    z = None if folder else zipfile.ZipFile(path)
    names = set() if folder else set(z.namelist())

    def listing():
        if folder:
            for root, _, files in os.walk(os.path.join(path, "images")):
                for f in files:
                    rel = os.path.relpath(os.path.join(root, f), path).replace(os.sep, "/")
                    yield rel, (lambda p=os.path.join(path, rel): _read(p))
        else:
            for rel in z.namelist():
                if rel.startswith("images/"):
                    yield rel, (lambda r=rel: z.read(r))

    def read_mask(rel: str):
        mrel = "masks/" + rel[len("images/"):]
        if folder:
            p = os.path.join(path, mrel)
            return _read(p) if os.path.exists(p) else None
        return z.read(mrel) if mrel in names else None

    def provenance() -> tuple[dict[str, str], dict[str, str]]:
        """image path -> base photo name, and image path -> model sha256, from metadata.jsonl (a generate folder's
        or an export's)."""
        if folder:
            meta = os.path.join(path, "metadata.jsonl")
            text = _read(meta).decode() if os.path.exists(meta) else ""
        else:
            text = z.read("metadata.jsonl").decode() if "metadata.jsonl" in names else ""
        photos, models = {}, {}
        for line in text.splitlines():
            if line.strip():
                rec = json.loads(line)
                prov = rec.get("provenance", rec)   # an export nests the provenance; a generate folder does not
                name = (prov.get("basePhoto") or {}).get("name")
                if rec.get("file") and name:
                    photos[rec["file"]] = os.path.basename(name)
                if rec.get("file") and isinstance(prov.get("modelSha256"), str):
                    models[rec["file"]] = prov["modelSha256"]
        return photos, models
    photos, models = provenance()
    pairs, skipped, no_mask = [], {}, 0
    for rel, read in sorted(listing(), key=lambda t: t[0]):
        parts = rel.split("/")
        if len(parts) != 3 or not parts[2].lower().endswith(".png"):
            continue
        if parts[1] not in classes:
            skipped[parts[1]] = skipped.get(parts[1], 0) + 1
            continue
        mb = read_mask(rel)
        if mb is None:
            no_mask += 1
            continue
        img = np.asarray(Image.open(io.BytesIO(read())).convert("L"), np.uint8)
        mask = (np.asarray(Image.open(io.BytesIO(mb)).convert("L")) > 127).astype(np.uint8)
        if mask.shape != img.shape:
            raise ValueError(f"{path}: {rel} and its mask differ in size")
        pairs.append((img, mask, classes.index(parts[1]), photos.get(rel), f"{parts[1]}/{os.path.splitext(parts[2])[0]}",
                      models.get(rel)))
    if z is not None:
        z.close()
    counts = {c: sum(1 for p in pairs if p[2] == i) for i, c in enumerate(classes)}
    return pairs, {"images": counts, "skippedClasses": skipped, "withoutMask": no_mask,
                   "onPhotos": sum(1 for p in pairs if p[3] is not None)}


def _natural(key: str) -> list:
    """Generate's names carry their seed (Crack_s12): seed order, not string order (s100 before s11)."""
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", key)]


def select_synthetic(pairs: list, per_class: int | None, flagged: set[str] | None) -> tuple[list, dict]:
    """The synthetic images a recipe uses: without the flagged keys (an `npm run evaluate` report's flagged
    images: the studio's auto-reject gate), then per class the first `per_class` in seed order. Returns them and
    a sha256 of their names, pixels and masks (what a cached run must match)."""
    kept = sorted((p for p in pairs if not flagged or p[4] not in flagged), key=lambda p: _natural(p[4]))
    if per_class is not None:
        first, taken = [], {}
        for p in kept:
            taken[p[2]] = taken.get(p[2], 0) + 1
            if taken[p[2]] <= per_class:
                first.append(p)
        kept = first
    h = hashlib.sha256()
    for img, mask, cls, photo, key in (p[:5] for p in kept):
        h.update(f"{key}|{cls}|{photo}|{img.shape}".encode())
        h.update(img.tobytes()), h.update(mask.tobytes())
    return kept, {"sha256": h.hexdigest(), "dropped": len(pairs) - len(kept)}


def exposure_spread(w: Windows) -> dict[int, float]:
    """Per class, the spread (standard deviation) of the windows' mean brightness in [-1, 1] units: how widely a
    set's exposures vary. Generated windows vary less than real ones (issue #18: Uneven 0.28 against 0.36)."""
    means = w.x.reshape(len(w), -1).astype(np.float64).mean(1) / 127.5 - 1.0 if len(w) else np.zeros(0)
    return {int(c): float(means[w.y == c].std()) for c in sorted(set(w.y.tolist())) if (w.y == c).sum() > 1}


def defect_stats(w: Windows) -> dict[int, dict[str, float]]:
    """Per defect class, what its defects look like in a set's windows: the mean share of a window's pixels the mask
    covers (maskArea) and the median contrast of the defect, (mean inside the mask - mean over the 4-px ring just
    outside it) / the window's standard deviation (negative: darker than its surround). Windows whose mask is empty
    or covers the whole window are left out. A synthetic set can only teach the sizes and contrasts it has: the
    report puts the test windows' figures beside the real training windows' and the synthetic ones'."""
    out = {}
    for c in sorted(set(w.y.tolist())):
        flat = w.m.reshape(len(w), -1)
        sel = np.flatnonzero((w.y == c) & flat.any(1) & ~flat.all(1))
        if not len(sel):
            continue
        m = torch.from_numpy(w.m[sel].astype(np.float32)).unsqueeze(1)
        ring = (F.max_pool2d(m, 9, 1, 4) - m).squeeze(1).numpy() > 0
        inside = w.m[sel] > 0
        x = w.x[sel].astype(np.float64)
        contrast = [(xi[mi].mean() - xi[ri].mean()) / (xi.std() + 1e-6) for xi, mi, ri in zip(x, inside, ring) if ri.any()]
        out[int(c)] = {"windows": int(len(sel)), "maskArea": float(inside.reshape(len(sel), -1).mean(1).mean()),
                       "contrast": float(np.median(contrast)) if contrast else None}
    return out


def match_exposure(synth: Windows, real: Windows, seed: int) -> tuple[Windows, dict[int, float]]:
    """The synthetic windows with one brightness offset each, drawn per class from N(0, sqrt(real^2 - synthetic^2))
    so that the class's spread of mean brightness matches the real windows' (classes already as wide are left as
    they are); pixels clipped to 0..255. Masks and labels unchanged. Returns the windows and each class's offset
    standard deviation in [-1, 1] units."""
    rs, ss = exposure_spread(real), exposure_spread(synth)
    rng = np.random.default_rng(seed)
    x = synth.x.astype(np.float32)
    sd = {}
    for c, s_syn in ss.items():
        s_real = rs.get(c)
        if s_real is None or s_real <= s_syn:
            continue
        sd[c] = float(np.sqrt(s_real ** 2 - s_syn ** 2))
        sel = np.flatnonzero(synth.y == c)
        x[sel] += (rng.normal(0.0, sd[c], len(sel)) * 127.5).astype(np.float32)[:, None, None]
    return Windows(np.clip(np.rint(x), 0, 255).astype(np.uint8), synth.m, synth.y), sd


def _flips(n: int, rng: torch.Generator):
    """Left-right and up-down flips, each with probability 0.5 per window, as a function of a batch (N, C, H, W)."""
    fx, fy = torch.rand(n, generator=rng) < 0.5, torch.rand(n, generator=rng) < 0.5

    def geo(t: torch.Tensor) -> torch.Tensor:
        t = torch.where(fx.view(-1, 1, 1, 1), t.flip(3), t)
        return torch.where(fy.view(-1, 1, 1, 1), t.flip(2), t)
    return geo


def flip_augment(x: torch.Tensor, rng: torch.Generator) -> tuple[torch.Tensor, callable]:
    """Left-right and up-down flips only: the tiles' grain stays in its direction and the exposure as it was
    (classic_augment's 90-degree turns and photometric changes do neither). Returns the images and the same flips
    as a function to apply to the masks."""
    geo = _flips(x.shape[0], rng)
    return geo(x), geo


def classic_augment(x: torch.Tensor, rng: torch.Generator) -> tuple[torch.Tensor, callable]:
    """Flips, 90-degree turns, brightness/contrast and Gaussian noise on a batch in [-1, 1]; returns the images and
    the geometric part as a function to apply to the masks."""
    n = x.shape[0]
    flips = _flips(n, rng)
    k = int(torch.randint(0, 4, (1,), generator=rng))

    def geo(t: torch.Tensor) -> torch.Tensor:
        return torch.rot90(flips(t), k, (2, 3))
    gain = 1 + 0.25 * (torch.rand(n, 1, 1, 1, generator=rng) * 2 - 1)
    bias = 0.2 * (torch.rand(n, 1, 1, 1, generator=rng) * 2 - 1)
    noise = 0.03 * torch.randn(x.shape, generator=rng)
    return (geo(x) * gain + bias + noise).clamp(-1, 1), geo


def _block(i: int, o: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(i, o, 3, padding=1), nn.BatchNorm2d(o), nn.ReLU(inplace=True),
                         nn.Conv2d(o, o, 3, padding=1), nn.BatchNorm2d(o), nn.ReLU(inplace=True))


class SmallClassifier(nn.Module):
    def __init__(self, num_classes: int, w: int = 8):
        super().__init__()
        self.f = nn.Sequential(_block(1, w), nn.MaxPool2d(2), _block(w, 2 * w), nn.MaxPool2d(2), _block(2 * w, 4 * w),
                               nn.MaxPool2d(2), _block(4 * w, 4 * w), nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = nn.Linear(4 * w, num_classes)

    def forward(self, x):
        return self.head(self.f(x))


class SmallSegmenter(nn.Module):
    """A three-level UNet giving one defect logit per pixel."""

    def __init__(self, w: int = 8):
        super().__init__()
        self.e1, self.e2, self.e3 = _block(1, w), _block(w, 2 * w), _block(2 * w, 4 * w)
        self.d2, self.d1 = _block(6 * w, 2 * w), _block(3 * w, w)
        self.out = nn.Conv2d(w, 1, 1)

    def forward(self, x):
        a = self.e1(x)
        b = self.e2(F.max_pool2d(a, 2))
        c = self.e3(F.max_pool2d(b, 2))
        b = self.d2(torch.cat([F.interpolate(c, scale_factor=2.0), b], 1))
        return self.out(self.d1(torch.cat([F.interpolate(b, scale_factor=2.0), a], 1)))


def to_tensor(x: np.ndarray) -> torch.Tensor:
    """uint8 (N, 64, 64) -> float (N, 1, 64, 64) in [-1, 1], channels-last like the networks (new_nets): PyTorch's
    CPU convolutions of these few-channel networks run ~1.6x faster in that layout."""
    return torch.from_numpy(x.astype(np.float32) / 127.5 - 1.0).unsqueeze(1).contiguous(memory_format=torch.channels_last)


def new_nets(num_classes: int) -> tuple[SmallClassifier, SmallSegmenter]:
    cl = torch.channels_last
    return SmallClassifier(num_classes).to(memory_format=cl), SmallSegmenter().to(memory_format=cl)


@torch.no_grad()
def predict(net: nn.Module, x: np.ndarray, batch: int = 256) -> np.ndarray:
    net.eval()
    return np.concatenate([net(to_tensor(x[i:i + batch])).numpy() for i in range(0, len(x), batch)]) if len(x) else np.zeros(0)


def average_precision(scores: np.ndarray, labels: np.ndarray) -> float | None:
    """Area under the precision-recall curve as a step function: precision at each distinct score threshold,
    weighted by the positives that threshold adds (tied scores form one threshold, as scikit-learn's
    average_precision_score does, so ties are not broken by input order)."""
    pos = int(labels.sum())
    if pos == 0:
        return None
    order = np.argsort(-scores, kind="stable")
    s, hits = scores[order], labels[order].astype(np.float64)
    ends = np.r_[np.flatnonzero(np.diff(s) != 0), len(s) - 1]   # last index of each run of equal scores
    tp = np.cumsum(hits)[ends]
    precision = tp / (ends + 1)
    new_pos = np.diff(np.r_[0.0, tp])
    return float((precision * new_pos).sum() / pos)


def f1_scores(pred: np.ndarray, true: np.ndarray, classes: list[int]) -> dict[int, float]:
    out = {}
    for c in classes:
        tp = int(((pred == c) & (true == c)).sum())
        fp, fn = int(((pred == c) & (true != c)).sum()), int(((pred != c) & (true == c)).sum())
        out[c] = 0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn)
    return out


def seg_measures(logits: np.ndarray, test: Windows, defect_classes: list[int], free: int | None) -> dict:
    """logits: (N, 64, 64) float64 defect logits for the test windows (AP is ranked on them: a float32 sigmoid
    rounds every logit above ~17 to exactly 1.0 and makes ties); probability 0.5 is logit 0."""
    free_sel = test.y == free if free is not None else np.zeros(len(test), bool)
    out = {"ap": {}, "iou": {}, "dice": {}}
    for c in defect_classes:
        sel = test.y == c
        if not sel.any():
            continue
        both = sel | free_sel
        out["ap"][c] = average_precision(logits[both].reshape(-1), test.m[both].reshape(-1))
        p, t = logits[sel] >= 0, test.m[sel] > 0
        inter, union = float((p & t).sum()), float((p | t).sum())
        out["iou"][c] = inter / union if union else 1.0
        out["dice"][c] = 2 * inter / (p.sum() + t.sum()) if (p.sum() + t.sum()) else 1.0
    out["freeFpr"] = float((logits[free_sel] >= 0).mean()) if free_sel.any() else None
    return out


def free_index(classes: list[str]) -> int | None:
    return classes.index(FREE_CLASS) if FREE_CLASS in classes else None
