"""training/fold_generators.py and train.py --hold-out-groups: one generator per development fold of the downstream
protocol, trained without that fold's tile groups and the final test's, resumable, exported with a manifest whose
heldOutGroups name them. A few steps of the tiny config on data drawn here; not a real training run."""
import contextlib
import io
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import torch

from .needs import needs

HERE = os.path.dirname(os.path.abspath(__file__))
TRAINING = os.path.dirname(HERE)
REPO = os.path.dirname(TRAINING)
sys.path.insert(0, TRAINING)
sys.path.insert(0, HERE)
import fold_generators  # noqa: E402
import train  # noqa: E402
from ddstudio.data import load_items  # noqa: E402
from ddstudio.downstream import protocol_folds  # noqa: E402
from synthetic import make_dataset  # noqa: E402

TINY = os.path.join(TRAINING, "configs", "tiny.json")


class FoldGenerators(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        d = self.tmp.name
        self.data = make_dataset(os.path.join(d, "data"), per_class=10, seed=3, citation="Drawn by the test.")
        _, items = load_items(self.data)
        self.held = [sorted({it.group for it in items if it.cls == c})[0] for c in (0, 1)]
        self.main = os.path.join(d, "main")
        os.makedirs(self.main)
        with open(os.path.join(self.main, "manifest.json"), "w") as f:
            json.dump({"id": "tiny-main", "sha256": "a" * 64, "training": {"heldOutGroups": self.held, "steps": 3}}, f)
        self.final, self.dev = protocol_folds(items, self.held, 3)
        self.runs = os.path.join(d, "runs")

    def tearDown(self):
        self.tmp.cleanup()

    def folds(self, *extra):
        with contextlib.redirect_stdout(io.StringIO()):
            return fold_generators.main(["--data", self.data, "--generator", self.main, "--config", TINY, "--out", self.runs,
                                         "--folds", "3", "--threads", "1", *extra])

    def test_each_fold_generator_never_sees_its_fold(self):
        self.assertEqual(self.folds("--parallel", "2", "--compact"), 0)
        for k, fold in enumerate(self.dev):
            ck = torch.load(os.path.join(self.runs, f"fold{k}", "weights.pt"), map_location="cpu")
            self.assertEqual(ck["step"], 3)   # the generator's manifest's training.steps
            self.assertEqual(ck["config"]["model_id"], f"tiny-main-fold{k}")
            self.assertEqual(set(ck["config"]["hold_out_groups"]), fold | self.final)
            self.assertFalse(set(ck["config"]["train_groups"]) & (fold | self.final))
            self.assertTrue(self.dev[1 - k] & set(ck["config"]["train_groups"]))   # the other development fold is trained on
            small = torch.load(os.path.join(self.runs, f"fold{k}.pt"), map_location="cpu")
            self.assertEqual(small["step"], 3)
            self.assertTrue(all(v.dtype == torch.float16 for v in small["ema"].values() if v.is_floating_point()))
        # the same command again trains nothing: every fold is finished
        before = os.path.getmtime(os.path.join(self.runs, "fold0", "weights.pt"))
        self.folds()
        self.assertEqual(os.path.getmtime(os.path.join(self.runs, "fold0", "weights.pt")), before)
        # an unfinished fold is not exported
        with self.assertRaises(SystemExit) as e:
            self.folds("--export", os.path.join(self.tmp.name, "models"), "--max-steps", "5")
        self.assertIn("trained 3 of 5 steps", str(e.exception))

    @needs(bool(shutil.which("node")) and os.path.isdir(os.path.join(REPO, "node_modules", "onnxruntime-node")), "node + npm ci")
    def test_export_names_the_fold_in_held_out_groups(self):
        self.folds("--only", "1")
        self.assertFalse(os.path.exists(os.path.join(self.runs, "fold0")))
        models = os.path.join(self.tmp.name, "models")
        self.folds("--only", "1", "--export", models)
        with open(os.path.join(models, "tiny-main-fold1", "manifest.json")) as f:
            m = json.load(f)
        self.assertEqual(m["id"], "tiny-main-fold1")
        self.assertTrue((self.dev[1] | self.final) <= set(m["training"]["heldOutGroups"]))

    def test_the_device_script_trains_and_brings_back_every_fold(self):
        out = os.path.join(self.tmp.name, "device-out")
        os.makedirs(out)
        env = {**os.environ, "OUT": out, "PYTHON": sys.executable, "CONFIG": TINY, "STEPS": "2", "MINUTES": "3",
               "RUNS": os.path.join(self.tmp.name, "device-runs"), "DATA": self.data, "GENERATOR": self.main}
        r = subprocess.run(["sh", os.path.join(TRAINING, "device_folds.sh"), "train"], cwd=REPO, env=env,
                           capture_output=True, text=True, timeout=300)
        self.assertEqual(r.returncode, 0, r.stdout[-2000:] + r.stderr[-2000:])
        self.assertEqual(sorted(f for f in os.listdir(out) if f.endswith(".pt")), ["fold0.pt", "fold1.pt", "fold2.pt"])   # downstream.py's default: 4 folds, 3 of them development
        self.assertEqual(torch.load(os.path.join(out, "fold1.pt"), map_location="cpu")["step"], 2)
        with open(os.path.join(out, "folds.log")) as f:
            self.assertIn('"finished": [0, 1, 2]', f.read())

    def test_anneal_steps_need_a_step_bound(self):
        for extra in (["--anneal-steps", "5"], ["--anneal-steps", "5", "--max-steps", "3"]):
            with self.assertRaises(SystemExit), contextlib.redirect_stderr(io.StringIO()):
                train.main(["--config", TINY, "--run", os.path.join(self.tmp.name, "r"), "--data", self.data, "--id", "t-x", *extra])
        self.assertAlmostEqual(train.anneal_factor(97, 100, 10, 0.1), 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * 0.7)))

    def test_hold_out_groups_must_exist(self):
        bad = os.path.join(self.tmp.name, "bad.json")
        with open(bad, "w") as f:
            json.dump(["Scratch/no_such.png"], f)
        with self.assertRaises(SystemExit) as e, contextlib.redirect_stdout(io.StringIO()):
            train.main(["--config", TINY, "--run", os.path.join(self.tmp.name, "r"), "--data", self.data, "--id", "t-x",
                        "--hold-out-groups", bad, "--max-steps", "1"])
        self.assertIn("not in the data", str(e.exception))
        with open(bad, "w") as f:
            json.dump({"groups": []}, f)
        with self.assertRaises(SystemExit) as e, contextlib.redirect_stdout(io.StringIO()):
            train.main(["--config", TINY, "--run", os.path.join(self.tmp.name, "r"), "--data", self.data, "--id", "t-x",
                        "--hold-out-groups", bad, "--max-steps", "1"])
        self.assertIn("accepted: a JSON list", str(e.exception))


if __name__ == "__main__":
    unittest.main()
