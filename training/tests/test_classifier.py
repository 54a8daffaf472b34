"""Evaluation classifier and quality metrics: KID against a direct computation, exported classifier ONNX
parity (needs the weights in training/runs/, skipped in CI), reference_features.json shape, and a --quick run of
training/evaluate_quality.py (needs the dataset, node_modules and a classifier)."""
import base64
import json
import os
import shutil
import sys
import tempfile
import unittest

from .needs import needs

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
TRAINING = os.path.dirname(HERE)
REPO = os.path.dirname(TRAINING)
sys.path.insert(0, TRAINING)
DATA = os.path.join(REPO, "..", "shared", "datasets", "magnetic-tile", "train")
EXPORT = os.path.join(REPO, "public", "models", "magtile-classifier-64")
ONNX = os.path.join(EXPORT, "model.onnx")
HAS_NODE = bool(shutil.which("node")) and os.path.isdir(os.path.join(REPO, "node_modules", "onnxruntime-node"))

from ddstudio.metrics import dilate, hf_energy, kid, mask_contrast, mean_pairwise_distance, mmd2_unbiased, nn_distances  # noqa: E402


def direct_mmd2(x, y):
    d = x.shape[1]
    k = lambda a, b: (float(np.dot(a, b)) / d + 1.0) ** 3  # noqa: E731
    m, n = len(x), len(y)
    sxx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    syy = sum(k(y[i], y[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    sxy = sum(k(x[i], y[j]) for i in range(m) for j in range(n)) / (m * n)
    return sxx + syy - 2 * sxy


class Metrics(unittest.TestCase):
    def test_mmd_matches_direct(self):
        rng = np.random.default_rng(0)
        x, y = rng.normal(size=(7, 5)), rng.normal(0.3, 1.2, size=(9, 5))
        self.assertAlmostEqual(mmd2_unbiased(x, y), direct_mmd2(x, y), places=10)
        # known tiny case by hand: d=1, x=[0,1], y=[2]... needs 2 per set: y=[2,3]
        x1, y1 = np.array([[0.0], [1.0]]), np.array([[2.0], [3.0]])
        # kxx off-diag: (0*1+1)^3=1 ; kyy: (6+1)^3=343 ; kxy: (0+1)^3,(0+1)^3,(2+1)^3,(3+1)^3 = 1,1,27,64
        self.assertAlmostEqual(mmd2_unbiased(x1, y1), 1 + 343 - 2 * (1 + 1 + 27 + 64) / 4, places=10)

    def test_kid_full_subsets_equal_mmd(self):
        rng = np.random.default_rng(1)
        x, y = rng.normal(size=(8, 4)), rng.normal(size=(8, 4))
        mean, std, m = kid(x, y, num_subsets=5, subset_size=100)
        self.assertEqual(m, 8)
        self.assertAlmostEqual(mean, direct_mmd2(x, y), places=10)  # a subset of all rows is a permutation
        self.assertLess(std, 1e-9)

    def test_kid_separates_shifted(self):
        rng = np.random.default_rng(2)
        x, y = rng.normal(size=(60, 16)), rng.normal(size=(60, 16))
        same, _, _ = kid(x, y, num_subsets=10, subset_size=30)
        far, _, _ = kid(x, x + 3.0, num_subsets=10, subset_size=30)
        self.assertGreater(far, 10 * abs(same))
        self.assertGreater(far, 0.5)

    def test_nn_diversity_hf(self):
        a = np.array([[0.0, 0.0], [3.0, 4.0]])
        b = np.array([[0.0, 1.0], [3.0, 0.0], [10.0, 10.0]])
        np.testing.assert_allclose(nn_distances(a, b), [1.0, 4.0])
        self.assertAlmostEqual(mean_pairwise_distance(a), 5.0)
        flat = np.zeros((1, 1, 8, 8))
        checker = (np.indices((8, 8)).sum(0) % 2 * 2 - 1.0)[None, None]
        e = hf_energy(np.concatenate([flat, checker]))
        self.assertEqual(e[0], 0.0)
        self.assertAlmostEqual(e[1], 8.0)

    def test_mask_contrast(self):
        m = np.zeros((16, 16), np.uint8)
        m[6:9, 6:9] = 1
        d = dilate(m, 2)
        self.assertEqual(int(d.sum()), 7 * 7)
        self.assertTrue(d[4, 4] and not d[3, 3])
        pit = np.full((16, 16), 0.5)
        pit[6:9, 6:9] = -0.7  # a dark pit exactly under the mask
        shifted = np.zeros_like(m)
        shifted[0:3, 11:14] = 1
        empty = np.zeros_like(m)
        c = mask_contrast(np.stack([pit, pit, pit]), np.stack([m, shifted, empty]), ring=2)
        self.assertAlmostEqual(c[0], 1.2)  # ring 0.5 minus inside -0.7
        self.assertAlmostEqual(c[1], 0.0)  # a mask elsewhere sees flat background
        self.assertTrue(np.isnan(c[2]))


@needs(os.path.exists(ONNX), "the exported classifier (public/models/magtile-classifier-64)")
class ExportedClassifier(unittest.TestCase):
    def test_manifest(self):
        from export import sha256_file
        with open(os.path.join(EXPORT, "manifest.json")) as f:
            m = json.load(f)
        self.assertEqual(m["task"], "classifier")
        self.assertEqual(m["sha256"], sha256_file(ONNX))
        self.assertEqual(m["sizeBytes"], os.path.getsize(ONNX))
        self.assertEqual([o["name"] for o in m["outputs"]], ["logits", "features"])
        self.assertEqual([o["role"] for o in m["outputs"]], ["logits", "features"])
        self.assertEqual(m["classes"], ["Blowhole", "Break", "Crack", "Fray", "Uneven", "Free"])
        self.assertEqual(m["featureDim"], 64)
        self.assertIn("Huang", m["training"]["citation"])
        self.assertLess(m["onnxParity"]["maxAbsDiff"], 1e-4)

    def test_reference_features_decode(self):
        with open(os.path.join(EXPORT, "reference_features.json")) as f:
            ref = json.load(f)
        self.assertLess(os.path.getsize(os.path.join(EXPORT, "reference_features.json")), 1_000_000)
        from export import sha256_file
        self.assertEqual(ref["classifierSha256"], sha256_file(ONNX))
        self.assertEqual(set(ref["classes"]), {"Blowhole", "Break", "Crack", "Fray", "Uneven", "Free"})
        for name, c in ref["classes"].items():
            f = np.frombuffer(base64.b64decode(c["features"]), dtype="<f4")
            self.assertEqual(f.size, c["count"] * ref["featureDim"], name)
            f = f.reshape(c["count"], ref["featureDim"])
            self.assertGreaterEqual(c["count"], 50)
            self.assertTrue(np.isfinite(f).all())
            np.testing.assert_allclose(f.mean(0), c["mean"], atol=1e-5)
            nn = ref["nearestNeighbour"]["perClass"][name]
            self.assertIsNotNone(nn["trainLeaveGroupOut"])
            self.assertLessEqual(nn["trainLeaveGroupOut"]["p1"], nn["trainLeaveGroupOut"]["p5"])

    @needs(os.path.isdir(DATA), "the magnetic-tile dataset")
    @needs(HAS_NODE, "node + npm ci")
    def test_onnx_matches_pytorch(self):
        # The shipped classifier's weights are not in git, so the export path is checked on a tiny classifier
        # trained here: the ONNX file train_classifier.py writes computes what its PyTorch checkpoint computes.
        import torch
        torch.set_num_threads(1)
        import train_classifier
        from ddstudio.classifier import load_checkpoint
        from ddstudio.onnx_check import compare
        with tempfile.TemporaryDirectory() as d:
            run, out = os.path.join(d, "run"), os.path.join(d, "out")
            train_classifier.main(["--data", DATA, "--run", run, "--export", out, "--id", "test-classifier", "--max-steps", "2",
                                   "--max-per-class", "4", "--eval-every", "1", "--val-per-class", "4", "--ref-per-class", "4",
                                   "--batch", "8", "--citation", "test"])
            model, _ = load_checkpoint(os.path.join(run, "best.pt"))
            x = np.random.default_rng(99).uniform(-1, 1, (2, 1, 64, 64)).astype(np.float32)
            with torch.no_grad():
                lo, fe = model(torch.from_numpy(x))
            self.assertEqual(tuple(lo.shape), (2, 6))
            self.assertEqual(tuple(fe.shape), (2, 64))
            diffs = compare(os.path.join(out, "model.onnx"), {"image": x}, {"logits": lo.numpy(), "features": fe.numpy()}, 1e-4)
            self.assertLess(max(diffs.values()), 1e-4)
            # the manifest records the split it was trained and validated on
            with open(os.path.join(out, "manifest.json")) as f:
                m = json.load(f)
            with open(os.path.join(TRAINING, "configs", "default.json")) as f:
                cfg = json.load(f)
            _, _, tr, va = train_classifier.load_split(cfg, DATA, 4)
            self.assertEqual(m["heldOutGroups"], sorted({it.group for it in va}))
            self.assertEqual(m["trainGroups"], sorted({it.group for it in tr}))
            self.assertTrue(m["heldOutGroups"] and m["trainGroups"])


@needs(os.path.isdir(DATA), "the magnetic-tile dataset")
@needs(HAS_NODE, "node + npm ci")
@needs(os.path.exists(ONNX), "the exported classifier")
@needs(os.path.exists(os.path.join(REPO, "public", "models", "magtile-defect-64", "model.onnx")), "the default model")
class QuickQuality(unittest.TestCase):
    def test_quick_report(self):
        import evaluate_quality
        with tempfile.TemporaryDirectory() as d:
            rep = evaluate_quality.main(["--quick", "--out", d])
            self.assertTrue(os.path.exists(os.path.join(d, "report.json")))
            self.assertTrue(os.path.exists(os.path.join(d, "grid.png")))
            self.assertEqual(len(rep["perClass"]), 2)
            for name, r in rep["perClass"].items():
                self.assertTrue(0.0 <= r["labelConsistency"] <= 1.0)
                self.assertIsNotNone(r["kid"]["generatedVsTrain"])
                self.assertEqual(r["memorisation"]["generated"]["count"], 3)
                self.assertEqual(r["memorisation"]["normalised"]["generated"]["count"], 3)
                self.assertTrue(os.path.exists(os.path.join(d, "generated", "images", name, f"{name}_s1.png")))


if __name__ == "__main__":
    unittest.main()
