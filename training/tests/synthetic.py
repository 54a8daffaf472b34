"""A tiny synthetic data set in the layout a user brings (<root>/<Class>/<stem>.png + <stem>_mask.png), drawn
here so the end-to-end tests need no download: 80x80 grayscale textured tiles, a "Scratch" class (a bright
line, pixel mask), a "Spot" class (a dark disc, box mask) and a defect-free "Free" class (no masks)."""
from __future__ import annotations

import os

import numpy as np
from PIL import Image, ImageDraw

SIZE = 80
CLASSES = ("Scratch", "Spot", "Free")


def _tile(rng: np.random.Generator) -> Image.Image:
    base = rng.normal(128, 12, (SIZE, SIZE)) + np.linspace(-10, 10, SIZE)[None, :] * rng.uniform(-1, 1)
    return Image.fromarray(np.clip(base, 0, 255).astype(np.uint8), "L")


def make_dataset(root: str, per_class: int = 4, seed: int = 0, citation: str | None = None) -> str:
    rng = np.random.default_rng(seed)
    for name in CLASSES:
        os.makedirs(os.path.join(root, name), exist_ok=True)
        for i in range(per_class):
            img = _tile(rng)
            mask = Image.new("L", (SIZE, SIZE), 0)
            d, m = ImageDraw.Draw(img), ImageDraw.Draw(mask)
            if name == "Scratch":
                x0, y0 = (int(v) for v in rng.integers(5, 30, 2))
                x1, y1 = (int(v) for v in rng.integers(50, 75, 2))
                d.line((x0, y0, x1, y1), fill=230, width=3)
                m.line((x0, y0, x1, y1), fill=255, width=3)
            elif name == "Spot":
                cx, cy, r = int(rng.integers(20, 60)), int(rng.integers(20, 60)), int(rng.integers(5, 12))
                d.ellipse((cx - r, cy - r, cx + r, cy + r), fill=40)
                m.rectangle((cx - r, cy - r, cx + r, cy + r), fill=255)
            img.save(os.path.join(root, name, f"{name.lower()}_{i}.png"))
            if name != "Free":
                mask.save(os.path.join(root, name, f"{name.lower()}_{i}_mask.png"))
    if citation:
        with open(os.path.join(root, "CITATION.txt"), "w") as f:
            f.write(citation + "\n\nLicence: CC0.\n")
    return root
