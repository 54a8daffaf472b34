"""split_by_group: never splits a tile group, is deterministic, and gives every class with two or more tile
groups at least one held-out group (the plain hash split left Break without one on the real dataset)."""
import os
import sys
import unittest

from .needs import needs

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
DATA = os.path.join(HERE, "..", "..", "..", "shared", "datasets", "magnetic-tile", "train")

from ddstudio.data import Item, load_items, split_by_group  # noqa: E402


def item(cls: int, group: str) -> Item:
    z = np.zeros((4, 4), np.uint8)
    return Item(cls, f"{group}.png", z, z, group, np.zeros((0, 2), np.int32))


class Split(unittest.TestCase):
    def check(self, items, val_fraction, seed):
        train, val = split_by_group(items, val_fraction, seed)
        self.assertEqual(len(train) + len(val), len(items))
        self.assertFalse({i.group for i in train} & {i.group for i in val}, "a tile group is on both sides")
        for c in {i.cls for i in items}:
            groups = {i.group for i in items if i.cls == c}
            if len(groups) >= 2 and val_fraction > 0:
                self.assertTrue(any(i.cls == c for i in val), f"class {c} has no held-out group")
                self.assertTrue(any(i.cls == c for i in train), f"class {c} has no training group")
        again = split_by_group(items, val_fraction, seed)
        self.assertEqual([i.group for i in again[1]], [i.group for i in val])
        return train, val

    def test_small_classes_get_a_held_out_group(self):
        # Class 1 has two groups of three exposures each; at val_fraction 0.01 the hash alone would hold out
        # nothing of it (or of anything).
        items = [item(0, f"a{g}") for g in range(40) for _ in range(2)] + [item(1, f"b{g}") for g in range(2) for _ in range(3)]
        for seed in range(5):
            train, val = self.check(items, 0.01, seed)
            self.assertEqual(len({i.group for i in val if i.cls == 1}), 1)

    def test_single_group_class_stays_in_training(self):
        items = [item(0, f"a{g}") for g in range(10)] + [item(1, "only")] * 3
        train, val = self.check(items, 0.2, 0)
        self.assertTrue(all(i.cls == 0 for i in val))

    def test_zero_fraction_holds_nothing_out(self):
        items = [item(c, f"{c}-{g}") for c in range(3) for g in range(4)]
        _, val = split_by_group(items, 0.0, 0)
        self.assertEqual(val, [])

    @needs(os.path.isdir(DATA), "the magnetic-tile dataset")
    def test_real_dataset_every_class_held_out(self):
        classes, items = load_items(DATA)
        self.check(items, 0.2, 0)



class SplitReference(unittest.TestCase):
    """training/reference/split_reference.json (checked by src/core/quality/split.test.ts) is what split_by_group gives."""

    @needs(os.path.isdir(DATA), "the magnetic-tile dataset (its manifest_extra.csv is in the reference)")
    def test_committed_reference_is_fresh(self):
        import json
        import make_split_reference as msr
        with open(msr.REFERENCE_PATH) as f:
            committed = json.load(f)
        self.assertEqual(committed, json.loads(msr.dumps_reference(msr.build_reference())),
                         "split_reference.json is stale: run /usr/bin/python3 training/make_split_reference.py")

    def test_the_fixup_case_exercises_both_fixups(self):
        import hashlib
        import make_split_reference as msr
        fix = next(c for c in msr.build_reference()["cases"] if c["name"] == "fixups")
        score = lambda g: int(hashlib.sha256(f"{fix['seed']}:{g}".encode()).hexdigest()[:8], 16) / 0xFFFFFFFF  # noqa: E731
        self.assertLess(score("only-a"), fix["valFraction"])  # hashed into validation, then given back
        self.assertNotIn("only-a", fix["validationGroups"])
        b = [f"b{i}" for i in range(3)]
        self.assertTrue(all(score(g) >= fix["valFraction"] for g in b))  # none hashed out, then the lowest is
        self.assertEqual([g for g in b if g in fix["validationGroups"]], [min(b, key=score)])


if __name__ == "__main__":
    unittest.main()
