"""Distillation: the teacher's trajectories are what the studio's default sampler does, the student's loss is zero
for a student that reproduces them, and a tiny run resumes, exports a student manifest the TypeScript contract
accepts and generates through the CLI at 1 and 4 steps."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import numpy as np

from .needs import needs

HERE = os.path.dirname(os.path.abspath(__file__))
TRAINING = os.path.dirname(HERE)
REPO = os.path.dirname(TRAINING)
sys.path.insert(0, TRAINING)
DATA = os.path.join(REPO, "..", "shared", "datasets", "magnetic-tile", "train")
TEACHER = os.path.join(TRAINING, "checkpoints", "magtile-defect-64.pt")
NEEDS = os.path.isdir(DATA) and shutil.which("node") and os.path.isdir(os.path.join(REPO, "node_modules", "onnxruntime-node"))


class DistillLoss(unittest.TestCase):
    def test_x0_loss_is_zero_for_the_exact_endpoint_and_ignores_kept_pixels(self):
        import torch
        from distill import x0_loss
        from ddstudio.diffusion import ScheduleConfig, make_alphas_cumprod
        ac = torch.from_numpy(make_alphas_cumprod(ScheduleConfig())).float()
        g = torch.Generator().manual_seed(0)
        x0 = torch.rand(3, 1, 8, 8, generator=g) * 2 - 1
        x_t = torch.randn(3, 1, 8, 8, generator=g)
        t = torch.tensor([999.0, 500.0, 12.0])
        a = ac[t.long()].view(-1, 1, 1, 1)
        keep = torch.zeros(3, 1, 8, 8)
        keep[1, :, :4] = 1
        # v such that alpha x_t - sigma v = x0 exactly (outside the kept rows of window 1, where it is wrong)
        v = (a.sqrt() * x_t - x0) / (1 - a).sqrt()
        v_wrong_kept = v.clone()
        v_wrong_kept[1, :, :4] += 5.0
        student = lambda x, tt, *rest: v_wrong_kept  # noqa: E731
        batch = {"x_t": x_t, "t": t, "x0": x0, "class_labels": torch.zeros(3, dtype=torch.long), "defect_mask": torch.zeros_like(x0),
                 "known_image": torch.zeros_like(x0), "keep_mask": keep}
        self.assertLess(float(x0_loss(student, ac, batch)), 1e-10)
        off = lambda x, tt, *rest: v + 0.1  # noqa: E731
        self.assertGreater(float(x0_loss(off, ac, batch)), 1e-4)


class DistillSmoke(unittest.TestCase):
    @needs(bool(NEEDS), "the magnetic-tile dataset and npm ci (onnxruntime-node)")
    def test_teacher_chunk_matches_the_default_sampler_and_a_tiny_run_exports(self):
        import torch
        import distill
        import export
        from ddstudio.data import WindowSampler, load_items
        from ddstudio.diffusion import ScheduleConfig
        from ddstudio.samplers import set_timesteps
        from train import build
        ck = torch.load(TEACHER, map_location="cpu")
        cfg = ck["config"]
        classes, items = load_items(DATA, classes=cfg["classes"], max_per_class=2)
        teacher, _ = build(cfg, len(classes))
        teacher.load_state_dict(ck["ema"])
        teacher.eval()
        batch = WindowSampler(items, len(classes), 64, p_inpaint=1.0).batch(2, np.random.default_rng(0))
        chunk = distill.teacher_chunk(teacher, ScheduleConfig(**cfg["schedule"]), batch, len(classes), seed=1, device="cpu")
        ts = distill.TEACHER_SAMPLER
        self.assertEqual(chunk["timesteps"].tolist(), set_timesteps(1000, ts["steps"], ts["spacing"]).tolist())
        self.assertEqual(chunk["states"].shape, (ts["steps"], 2, 1, 64, 64))
        # the first state is the seeded noise; the endpoint keeps the known pixels exactly
        self.assertTrue(np.allclose(chunk["states"][0], np.random.default_rng(1).standard_normal((2, 1, 64, 64)), atol=2e-3))
        keep = batch["keep_mask"] == 1
        np.testing.assert_array_equal(chunk["x0"][keep], batch["known_image"][keep])

        with tempfile.TemporaryDirectory() as d:
            run = os.path.join(d, "run")
            common = ["--teacher", TEACHER, "--run", run, "--data", DATA, "--max-per-class", "2", "--chunk", "2",
                      "--initial-chunks", "1", "--gen-every", "2", "--batch", "4"]
            distill.main(common + ["--max-steps", "2"])
            distill.main(common + ["--max-steps", "3"])  # resumes at step 2
            w = torch.load(os.path.join(run, "weights.pt"))
            self.assertEqual(w["config"]["distillation"]["student_steps"], 3)
            self.assertEqual(w["config"]["distillation"]["trajectories"], 6)  # chunks: the initial one, at step 0, at step 2 (resumed)
            out = os.path.join(d, "student")
            export.main(["--weights", os.path.join(run, "weights.pt"), "--out", out, "--reference-dir", d, "--data", DATA,
                         "--teacher-manifest", os.path.join(REPO, "public", "models", "magtile-defect-64", "manifest.json")])
            with open(os.path.join(out, "manifest.json")) as f:
                m = json.load(f)
            self.assertEqual(m["id"], "magtile-defect-64-fast")
            self.assertEqual(m["defaults"], {"sampler": "consistency", "steps": 4, "guidance": 1, "timestepSpacing": "trailing"})
            self.assertEqual(m["distillation"]["guidanceBakedIn"], 1.5)
            self.assertEqual(m["distillation"]["teacher"]["id"], "magtile-defect-64")
            for steps in ("1", "4"):
                gen = os.path.join(d, f"gen{steps}")
                r = subprocess.run(["npx", "tsx", "scripts/generate.ts", "--model", out, "--class", "Crack", "--n", "1", "--steps", steps,
                                    "--out", gen], cwd=REPO, capture_output=True, text=True)
                self.assertEqual(r.returncode, 0, r.stderr)
                with open(os.path.join(gen, "metadata.jsonl")) as f:
                    rec = json.loads(f.readline())
                self.assertEqual((rec["sampler"], rec["modelEvaluations"]), ("consistency", int(steps)))
            # guidance other than 1 is refused with the reason
            r = subprocess.run(["npx", "tsx", "scripts/generate.ts", "--model", out, "--class", "Crack", "--guidance", "2",
                                "--out", os.path.join(d, "gen_bad")], cwd=REPO, capture_output=True, text=True)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("built into its weights", r.stderr + r.stdout)


if __name__ == "__main__":
    unittest.main()
