"""Training smoke test: a few steps on a handful of real images, export, reload with onnxruntime (node),
parity with PyTorch, manifest fields. Not a real training run."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

from .needs import needs

HERE = os.path.dirname(os.path.abspath(__file__))
TRAINING = os.path.dirname(HERE)
REPO = os.path.dirname(TRAINING)
sys.path.insert(0, TRAINING)
DATA = os.path.join(REPO, "..", "shared", "datasets", "magnetic-tile", "train")


@needs(os.path.isdir(DATA), "the magnetic-tile dataset")
@needs(bool(shutil.which("node")) and os.path.isdir(os.path.join(REPO, "node_modules", "onnxruntime-node")), "node + npm ci")
class TrainExportSmoke(unittest.TestCase):
    def test_train_export_reload(self):
        import train
        import export
        with tempfile.TemporaryDirectory() as d:
            run = os.path.join(d, "run")
            train.main(["--config", os.path.join(TRAINING, "configs", "tiny.json"), "--run", run, "--max-steps", "3", "--max-per-class", "3", "--data", DATA])
            self.assertTrue(os.path.exists(os.path.join(run, "weights.pt")))
            # resume: two more steps continue from step 3
            train.main(["--config", os.path.join(TRAINING, "configs", "tiny.json"), "--run", run, "--max-steps", "5", "--max-per-class", "3", "--data", DATA])
            import torch
            self.assertEqual(torch.load(os.path.join(run, "weights.pt"))["step"], 5)
            out = os.path.join(d, "model")
            export.main(["--weights", os.path.join(run, "weights.pt"), "--out", out, "--reference-dir", d, "--data", DATA])
            with open(os.path.join(out, "manifest.json")) as f:
                m = json.load(f)
            self.assertEqual(m["id"], "tiny-smoke")
            self.assertEqual([t["name"] for t in m["inputs"]], export.INPUT_NAMES)
            self.assertLess(m["onnxParity"]["maxAbsDiff"], 1e-4)
            self.assertIn("Huang", m["training"]["citation"])
            self.assertEqual(m["classes"], ["Blowhole", "Break", "Crack", "Fray", "Uneven", "Free"])
            self.assertEqual(m["nullClassIndex"], 6)
            with open(os.path.join(out, "mask_library.json")) as f:
                lib = json.load(f)
            self.assertNotIn("Free", lib["classes"])
            self.assertGreater(len(lib["classes"]["Crack"]), 0)
            # The exported pair loads through the same Node loader the CLI uses (manifest vs session check, sha256).
            r = subprocess.run(["npx", "tsx", "scripts/generate.ts", "--model", out, "--class", "Crack", "--n", "1", "--steps", "2",
                                "--out", os.path.join(d, "gen")], cwd=REPO, capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertTrue(os.path.exists(os.path.join(d, "gen", "images", "Crack", "Crack_s0.png")))


if __name__ == "__main__":
    unittest.main()
