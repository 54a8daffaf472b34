"""Write training/reference/split_reference.json: the held-out tile groups src/core/quality/split.ts must reproduce.

    /usr/bin/python3 training/make_split_reference.py          # from the repository root

ddstudio.data.split_by_group decides which tile groups the denoiser and the evaluation classifier never train
on; the studio's downstream check and scripts/evaluate.ts must hold out exactly those. This file records, for
synthetic cases that exercise both per-class fix-ups and for the class/tile_group pairs of the shipped dataset's
manifest_extra.csv (names only, no images), the (class, group) list in load order and the validation groups
split_by_group returns. src/core/quality/split.test.ts checks the TypeScript split against it;
training/tests/test_split.py regenerates it in memory and compares it with the committed file.
"""
from __future__ import annotations

import csv
import json
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from ddstudio.data import DEFAULT_CLASSES, Item, split_by_group  # noqa: E402

REFERENCE_PATH = HERE / "reference" / "split_reference.json"
MANIFEST = HERE.parent.parent / "shared" / "datasets" / "magnetic-tile" / "manifest_extra.csv"


def case(name: str, pairs: list[tuple[str, str]], val_fraction: float, seed: int) -> dict:
    classes = list(dict.fromkeys(c for c, _ in pairs))
    items = [Item(classes.index(c), "", None, None, g, None) for c, g in pairs]
    _, val = split_by_group(items, val_fraction, seed)
    return {"name": name, "valFraction": val_fraction, "seed": seed, "items": [{"className": c, "group": g} for c, g in pairs],
            "validationGroups": sorted({it.group for it in val})}


def dataset_pairs(path: Path) -> list[tuple[str, str]]:
    """(class, tile_group) in load_items order: classes in DEFAULT_CLASSES order, files sorted within a class."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    out = []
    for c in DEFAULT_CLASSES:
        for r in sorted((r for r in rows if r["class"] == c), key=lambda r: os.path.basename(r["image"])):
            out.append((c, r["tile_group"]))
    return list(dict.fromkeys(out))


def build_reference(manifest: Path = MANIFEST) -> dict:
    cases = [
        case("plain", [("A", f"a{i}") for i in range(12)] + [("B", f"b{i}") for i in range(9)], 0.2, 0),
        # a class whose only group hashes into validation gets it back; one with none held out gives up its lowest
        # (seed 1, fraction 0.3: "only-a" scores 0.02, the b groups 0.38 / 0.99 / 0.70; test_split.py checks that both fire)
        case("fixups", [("A", "only-a")] + [("B", f"b{i}") for i in range(3)] + [("C", f"c{i}") for i in range(40)], 0.3, 1),
        # a group shared by two classes (label noise in the real data): moving it for one class moves it for both
        case("shared group", [("A", "g1"), ("A", "g2"), ("B", "g2"), ("B", "g3"), ("C", "g3")], 0.2, 0),
        case("no validation", [("A", "x"), ("A", "y")], 0.0, 0),
    ]
    ref = {"format": "split-reference", "version": 1, "cases": cases}
    if manifest.exists():
        ref["dataset"] = case("magnetic-tile manifest_extra.csv, val_fraction 0.2, seed 0", dataset_pairs(manifest), 0.2, 0)
    return ref


def dumps_reference(ref: dict) -> str:
    return json.dumps(ref, sort_keys=True, separators=(",", ":")) + "\n"


def main() -> None:
    if not MANIFEST.exists():
        raise SystemExit(f"{MANIFEST} is missing: the reference must include the shipped dataset's split")
    REFERENCE_PATH.write_text(dumps_reference(build_reference()))
    print(f"wrote {REFERENCE_PATH}")


if __name__ == "__main__":
    main()
