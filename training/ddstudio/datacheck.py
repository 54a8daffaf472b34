"""Checks a <root>/<Class>/<stem>.jpg|png (+ <stem>_mask.png) data folder before any training starts, and
says what it found and what it refuses, in the terms training/ddstudio/data.py loads it by.

Refused (training would fail or silently learn the wrong thing): no class folders, fewer than two classes, a
class folder without images, a class name the studio refuses (src/core/model/names.ts), an unreadable image, a
16-bit or float image (PIL's conversion to 8-bit would clip it), a mask whose size differs from its image, the
same image file in two classes, a tile-group file without image / tile_group columns.
Warned (trains, but the user should know): empty masks, masks without an image, a defect class without masks,
no defect-free class, box-shaped masks, images smaller than a window (padded by reflection), identical or
near-identical images within a class (they may fall on both sides of the split), tile-group rows naming no image,
classes with a single tile group (no held-out validation for them).
"""
from __future__ import annotations

import csv
import hashlib
import os
import unicodedata
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from .data import FREE_CLASS, IMAGE_EXTS, discover_classes, load_items, split_by_group

MAX_LISTED = 5


@dataclass
class ClassReport:
    name: str
    images: int = 0
    masks: int = 0
    empty_masks: int = 0
    box_masks: int = 0
    sizes: set = field(default_factory=set)
    modes: set = field(default_factory=set)
    train_images: int = 0
    val_images: int = 0
    groups: int = 0


@dataclass
class Report:
    root: str
    classes: list[ClassReport] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    group_file: str | None = None

    @property
    def ok(self) -> bool:
        return not self.refused

    def text(self) -> str:
        out = [f"data folder {os.path.basename(os.path.normpath(self.root))!r}: {len(self.classes)} class folders"]
        for c in self.classes:
            sizes = ", ".join(f"{w}x{h}" for w, h in sorted(c.sizes)[:3]) + (" ..." if len(c.sizes) > 3 else "")
            kind = "defect-free" if c.name == FREE_CLASS else (
                f"{c.masks} masks ({c.empty_masks} empty, {c.box_masks} boxes)" if c.masks else "no masks")
            split = f", split {c.train_images} train / {c.val_images} held out ({c.groups} tile groups)" if c.images and self.ok else ""
            out.append(f"  {c.name}: {c.images} images, {kind}, sizes {sizes or '-'}{split}")
        out.append(f"  tile groups: {self.group_file or 'no manifest_extra.csv: each image is its own group'}")
        out += [f"  warning: {w}" for w in self.warnings]
        out += [f"  REFUSED: {r}" for r in self.refused]
        out.append("  result: " + ("ok" if self.ok else f"refused ({len(self.refused)} problems); nothing was trained"))
        return "\n".join(out)


def _listed(names: list[str]) -> str:
    return ", ".join(names[:MAX_LISTED]) + (f" and {len(names) - MAX_LISTED} more" if len(names) > MAX_LISTED else "")


def name_problem(s: str) -> str | None:
    """src/core/model/names.ts nameProblem, for a class folder's name."""
    if not s:
        return "must not be empty"
    if len(s) > 200:
        return f"must be at most 200 characters, got {len(s)}"
    if any(unicodedata.category(ch) == "Cc" for ch in s):
        return "must not contain control characters"
    if "/" in s or "\\" in s or s in (".", ".."):
        return "must not contain a path separator or be '.' / '..'"
    return None


def _is_box(mask: np.ndarray) -> bool:
    ys, xs = np.nonzero(mask)
    return bool(len(ys)) and mask[ys.min():ys.max() + 1, xs.min():xs.max() + 1].all()


def _ahash(img: Image.Image) -> bytes:
    a = np.asarray(img.convert("L").resize((8, 8), Image.BILINEAR), dtype=np.float32)
    return np.packbits(a > a.mean()).tobytes()


def _group_file(root: str, images: set[str], report: Report) -> dict[str, str]:
    """Checks the tile-group file where ddstudio/data.py looks for it; returns image file name -> tile group."""
    for cand in (os.path.join(root, "manifest_extra.csv"), os.path.join(os.path.dirname(os.path.normpath(root)), "manifest_extra.csv")):
        if not os.path.exists(cand):
            continue
        where = "manifest_extra.csv" + ("" if os.path.dirname(cand) == os.path.normpath(root) else " (beside the data folder)")
        with open(cand, newline="") as f:
            reader = csv.DictReader(f)
            cols = reader.fieldnames or []
            if "image" not in cols or "tile_group" not in cols:
                report.refused.append(f"{where} needs columns 'image' and 'tile_group'; it has {cols}")
                return {}
            rows = list(reader)
        named = {os.path.basename(r["image"]) for r in rows}
        groups = {r["tile_group"] for r in rows}
        report.group_file = f"{where}: {len(rows)} rows, {len(groups)} groups"
        stray = sorted(named - images)
        if stray:
            report.warnings.append(f"{where}: {len(stray)} rows name no image in the class folders ({_listed(stray)}); ignored")
        ungrouped = sorted(images - named)
        if ungrouped:
            report.warnings.append(f"{len(ungrouped)} images have no row in {where} and are each their own group ({_listed(ungrouped)})")
        return {os.path.basename(r["image"]): r["tile_group"] for r in rows}
    return {}


def check_dataset(root: str, image_size: int, val_fraction: float, split_seed: int) -> Report:
    report = Report(root)
    if not os.path.isdir(root):
        report.refused.append("the data folder does not exist or is not a folder")
        return report
    try:
        names = discover_classes(root)
    except ValueError:
        report.refused.append("no class folders: expected <data>/<Class>/<image>.jpg|png with optional <image>_mask.png")
        return report
    if len(names) < 2:
        report.refused.append(f"only one class folder ({names[0]}); the denoiser is class-conditioned and the evaluation "
                              f"classifier needs at least two classes (add a defect-free '{FREE_CLASS}' folder, for instance)")
    by_hash: dict[str, list[str]] = {}
    by_ahash: dict[tuple[str, bytes], list[str]] = {}
    basenames: dict[str, list[str]] = {}
    for name in names:
        c = ClassReport(name)
        report.classes.append(c)
        if name_problem(name):
            report.refused.append(f"class folder {name!r}: a class name {name_problem(name)}")
        folder = os.path.join(root, name)
        files = sorted(os.listdir(folder))
        stems = {os.path.splitext(f)[0] for f in files if f.lower().endswith(IMAGE_EXTS) and "_mask" not in f}
        for fn in files:
            if fn.endswith("_mask.png") and fn[:-len("_mask.png")] not in stems:
                report.warnings.append(f"{name}/{fn}: a mask without an image ({fn[:-len('_mask.png')]}.jpg|png); ignored")
        other = [f for f in files if not f.lower().endswith(IMAGE_EXTS) and not f.startswith(".") and os.path.isfile(os.path.join(folder, f))]
        if other:
            report.warnings.append(f"{name}: {len(other)} files that are not .jpg/.jpeg/.png are ignored ({_listed(other)})")
        for fn in sorted(f for f in files if f.lower().endswith(IMAGE_EXTS) and "_mask" not in f):
            rel = f"{name}/{fn}"
            p = os.path.join(folder, fn)
            try:
                with Image.open(p) as im:
                    im.load()
                    mode, size = im.mode, im.size
                    ah = _ahash(im)
            except Exception as e:  # noqa: BLE001 (any decoder error means the same to the user)
                report.refused.append(f"{rel}: not a readable image ({e})")
                continue
            c.images += 1
            c.sizes.add(size)
            c.modes.add(mode)
            if mode in ("I", "I;16", "I;16B", "I;16L", "F"):
                report.refused.append(f"{rel}: mode {mode} (16-bit or float) image; convert it to 8-bit first (the loader's "
                                      f"conversion to 8-bit grayscale would clip every value above 255)")
            with open(p, "rb") as f:
                by_hash.setdefault(hashlib.sha256(f.read()).hexdigest(), []).append(rel)
            by_ahash.setdefault((name, ah), []).append(rel)
            basenames.setdefault(fn, []).append(rel)
            if size[0] < image_size or size[1] < image_size:
                report.warnings.append(f"{rel}: {size[0]}x{size[1]} is smaller than a {image_size}x{image_size} window; padded by reflection")
            mp = os.path.join(folder, os.path.splitext(fn)[0] + "_mask.png")
            if os.path.exists(mp):
                try:
                    with Image.open(mp) as mi:
                        mask = np.asarray(mi.convert("L")) > 127
                except Exception as e:  # noqa: BLE001
                    report.refused.append(f"{rel}: its mask is not a readable PNG ({e})")
                    continue
                c.masks += 1
                if mask.shape != (size[1], size[0]):
                    report.refused.append(f"{rel}: mask is {mask.shape[1]}x{mask.shape[0]}, image is {size[0]}x{size[1]}; they must match")
                elif not mask.any():
                    c.empty_masks += 1
                elif _is_box(mask):
                    c.box_masks += 1
        if not c.images:
            report.refused.append(f"class folder {name!r} has no .jpg/.jpeg/.png images")
        elif name != FREE_CLASS and not c.masks:
            report.warnings.append(f"{name}: no masks; its windows are random crops and the model learns this class without "
                                   f"a defect mask (the mask condition stays empty)")
        if c.empty_masks and name != FREE_CLASS:
            report.warnings.append(f"{name}: {c.empty_masks} empty masks (no pixel above 127); those images train as if defect-free windows of {name}")
        if c.box_masks and c.box_masks == c.masks - c.empty_masks:
            report.warnings.append(f"{name}: every mask is an axis-aligned box; the model learns to fill boxes, and generated "
                                   f"masks are boxes, not defect outlines")
    if FREE_CLASS not in names:
        report.warnings.append(f"no defect-free '{FREE_CLASS}' class: photo mode then needs your own defect-free photos")
    for rels in by_hash.values():
        classes = sorted({r.split("/")[0] for r in rels})
        if len(classes) > 1:
            report.refused.append(f"the same file is in several classes: {_listed(rels)}")
        elif len(rels) > 1:
            report.warnings.append(f"identical files in {classes[0]}: {_listed(rels)} (they may land on both sides of the split)")
    # Near-identical images of one tile group (exposures of one part) are what the group split is for; across
    # groups they may put one part on both sides of the split.
    group_of = _group_file(root, set(basenames), report)
    near = [rels for rels in by_ahash.values()
            if len({group_of.get(r.split("/", 1)[1], r) for r in rels}) > 1 and not any(set(rels) <= set(v) for v in by_hash.values())]
    if near:
        report.warnings.append(f"{len(near)} sets of near-identical images (same 8x8 average hash) in different tile groups, "
                               f"which may put one part on both sides of the split: " + "; ".join(_listed(r) for r in near[:3])
                               + (" ..." if len(near) > 3 else ""))
    for fn, rels in basenames.items():
        if len(rels) > 1:
            report.warnings.append(f"the file name {fn} is in several classes ({_listed(rels)}); a tile-group file names images by file name only")
    if report.ok:
        _, items = load_items(root)
        train, val = split_by_group(items, val_fraction, split_seed)
        for ci, c in enumerate(report.classes):
            c.train_images = sum(it.cls == ci for it in train)
            c.val_images = sum(it.cls == ci for it in val)
            c.groups = len({it.group for it in items if it.cls == ci})
            if c.groups < 2:
                report.warnings.append(f"{c.name}: a single tile group, so nothing of it is held out: its validation accuracy is null")
    return report
