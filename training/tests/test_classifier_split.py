"""The shipped evaluation classifier's recorded split (manifest.json heldOutGroups / trainGroups) is the split
it was trained and validated on.

The classifier was trained before the manifest recorded its split; the lists were added afterwards from
split_by_group with training/configs/default.json (val_fraction 0.2, split_seed 0), without retraining. This
test is the check that made that allowed, and keeps it true: with that split,
- the reference windows (train_classifier.py export: fixed_windows over the TRAINING items, REF_SEED), embedded
  with the shipped model.onnx, give the shipped reference_features.json rows (to ONNX-vs-PyTorch rounding);
  the draw walks each class's training items, so another training side gives other windows;
- the validation windows (VAL_SEED, over the held-out items) give exactly the per-class validation accuracy
  the manifest recorded at training time, and the shipped valToTrain nearest-neighbour statistics;
- the lists are the two sides of the split, disjoint.
Needs the dataset and node (onnxruntime-node).
"""
import base64
import json
import os
import shutil
import sys
import unittest

import numpy as np

from .needs import needs

HERE = os.path.dirname(os.path.abspath(__file__))
TRAINING = os.path.dirname(HERE)
REPO = os.path.dirname(TRAINING)
sys.path.insert(0, TRAINING)
EXPORT = os.path.join(REPO, "public", "models", "magtile-classifier-64")
DATA = os.path.join(REPO, "..", "shared", "datasets", "magnetic-tile", "train")
HAS_NODE = bool(shutil.which("node")) and os.path.isdir(os.path.join(REPO, "node_modules", "onnxruntime-node"))


@needs(os.path.isdir(DATA), "the magnetic-tile dataset (../shared/datasets/magnetic-tile)")
@needs(HAS_NODE, "node with onnxruntime-node (npm install)")
class ShippedClassifierSplit(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        from ddstudio.classifier import fixed_windows
        from ddstudio.onnx_check import run_onnxruntime
        from train_classifier import REF_SEED, VAL_SEED, load_split, split_groups
        with open(os.path.join(EXPORT, "manifest.json")) as f:
            cls.manifest = json.load(f)
        with open(os.path.join(EXPORT, "reference_features.json")) as f:
            cls.ref = json.load(f)
        with open(os.path.join(TRAINING, "configs", "default.json")) as f:
            cfg = json.load(f)
        _, cls.classes, train, val = load_split(cfg, None)
        cls.held, cls.trained = split_groups(val), split_groups(train)
        ref_per_class = cls.ref["classes"]["Crack"]["count"]
        val_per_class = cls.manifest["validation"]["windowsPerClass"]
        cls.xr, cls.yr, cls.gr = fixed_windows(train, len(cls.classes), ref_per_class, cfg["image_size"], REF_SEED, cfg["jitter"])
        cls.xv, cls.yv, _ = fixed_windows(val, len(cls.classes), val_per_class, cfg["image_size"], VAL_SEED, cfg["jitter"])
        out = run_onnxruntime(os.path.join(EXPORT, "model.onnx"), {"image": np.concatenate([cls.xr, cls.xv])})
        n = len(cls.xr)
        cls.fr, cls.fv, cls.lv = out["features"][:n], out["features"][n:], out["logits"][n:]

    def test_recorded_lists_are_this_split(self):
        self.assertEqual(self.manifest["classes"], self.classes)
        self.assertEqual(self.manifest["heldOutGroups"], self.held)
        self.assertEqual(self.manifest["trainGroups"], self.trained)
        self.assertFalse(set(self.held) & set(self.trained))
        self.assertEqual(len(self.held), 26)

    def test_reference_features_come_from_this_training_side(self):
        for c, name in enumerate(self.classes):
            stored = np.frombuffer(base64.b64decode(self.ref["classes"][name]["features"]), "<f4").reshape(-1, 64)
            mine = self.fr[self.yr == c]
            self.assertEqual(stored.shape, mine.shape, name)
            self.assertLess(float(np.abs(stored - mine).max()), 1e-4, name)  # manifest onnxParity tolerance
            self.assertEqual(len(set(self.gr[self.yr == c])), self.ref["classes"][name]["tileGroups"], name)

    def test_validation_accuracy_and_nn_stats_come_from_this_held_out_side(self):
        from ddstudio.metrics import nn_distances
        for c, name in enumerate(self.classes):
            sel = self.yv == c
            acc = float((self.lv[sel].argmax(1) == c).mean())
            self.assertEqual(acc, self.manifest["validation"]["perClassAccuracy"][name], name)
            stored = np.frombuffer(base64.b64decode(self.ref["classes"][name]["features"]), "<f4").reshape(-1, 64)
            d = nn_distances(self.fv[sel], stored)
            want = self.ref["nearestNeighbour"]["perClass"][name]["valToTrain"]
            self.assertEqual(len(d), want["count"])
            self.assertAlmostEqual(float(np.percentile(d, 1)), want["p1"], places=4)
            self.assertAlmostEqual(float(np.percentile(d, 50)), want["p50"], places=4)


if __name__ == "__main__":
    unittest.main()
