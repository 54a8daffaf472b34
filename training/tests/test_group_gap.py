"""group_gap.py on one class of the real data with small window counts: one row per tile group, the held-out
groups flagged as the training split makes them, and each verdict the comparison the docstring states."""
import contextlib
import io
import os
import sys
import unittest

from .needs import needs

HERE = os.path.dirname(os.path.abspath(__file__))
TRAINING = os.path.dirname(HERE)
REPO = os.path.dirname(TRAINING)
sys.path.insert(0, TRAINING)
DATA = os.path.join(REPO, "..", "shared", "datasets", "magnetic-tile", "train")


@needs(os.path.isdir(DATA), "the magnetic-tile dataset")
class GroupGap(unittest.TestCase):
    def test_one_class(self):
        import json
        import group_gap
        from ddstudio.data import load_items, split_by_group
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            res = group_gap.main(["--data", DATA, "--classes", "Crack", "--per-group", "8", "--rest", "24", "--free", "24", "--num-subsets", "5"])
        with open(os.path.join(TRAINING, "configs", "default.json")) as f:
            cfg = json.load(f)
        classes, items = load_items(DATA, ["Blowhole", "Break", "Crack", "Fray", "Uneven", "Free"])
        crack = [it for it in items if it.cls == 2]
        _, val = split_by_group(items, cfg["val_fraction"], cfg["split_seed"])
        rows = res["Crack"]["groups"]
        self.assertEqual(sorted(r["group"] for r in rows), sorted({it.group for it in crack}))
        self.assertEqual({r["group"] for r in rows if r["heldOut"]}, {it.group for it in val if it.cls == 2})
        for r in rows:
            self.assertAlmostEqual(r["midpoint"], (r["kidHalves"] + r["kidFreeGroup"]) / 2)
            self.assertEqual(r["pass"], r["kidGroupRest"] < r["midpoint"])
        self.assertEqual(res["Crack"]["passed"], sum(r["pass"] for r in rows))
        # Free windows are far from every Crack group on the classifier's features; a group's two halves are not.
        self.assertTrue(all(r["kidFreeGroup"] > r["kidHalves"] for r in rows), rows)
        self.assertIn("| Crack | %d |" % len(rows), out.getvalue())


if __name__ == "__main__":
    unittest.main()
