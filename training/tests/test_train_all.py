"""Bring your own parts, end to end (issue 19): `npm run train` on a tiny synthetic data set this test draws
itself, then the result loaded by the command-line generator and by the studio's model-zip reader, the
manifests checked for the id, the citation and the absence of any path of this machine, and the repository
left as it was. A second test stops a run with SIGINT (Ctrl-C) and continues it with --resume.

Needs node + npm ci (onnxruntime-node, tsx). Skipped without them, except with CI set, where it fails."""
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

from .needs import needs
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
TRAINING = os.path.dirname(HERE)
REPO = os.path.dirname(TRAINING)
sys.path.insert(0, TRAINING)
sys.path.insert(0, HERE)
from synthetic import make_dataset  # noqa: E402

HAS_NODE = bool(shutil.which("node")) and os.path.isdir(os.path.join(REPO, "node_modules", "onnxruntime-node"))
TINY = os.path.join(TRAINING, "configs", "tiny.json")
PY = sys.executable


def git_status() -> str:
    return subprocess.run(["git", "status", "--porcelain"], cwd=REPO, capture_output=True, text=True, check=True).stdout


# Keys whose string values are base64-encoded arrays (export.py b64, train_classifier.py reference features), not
# text: one may start with "/" (a base64 digit) without being a path (the check failed on such a value now and then).
ENCODED = ("base64", "features")


def strings(v):
    if isinstance(v, str):
        yield v
    elif isinstance(v, dict):
        for k, x in v.items():
            yield k
            if not (k in ENCODED and isinstance(x, str)):
                yield from strings(x)
    elif isinstance(v, list):
        for x in v:
            yield from strings(x)


needs_node = needs(HAS_NODE, "node + npm ci (onnxruntime-node, tsx)")


class TrainAll(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ddstudio-train-all-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def assertNoMachinePaths(self, path):
        with open(path) as f:
            doc = json.load(f)
        for s in strings(doc):
            where = f"{os.path.basename(os.path.dirname(path))}/{os.path.basename(path)}: {s[:80]!r}"
            self.assertFalse(os.path.isabs(s) or s.startswith("~") or "\\" in s, where)
            for p in (self.tmp, REPO, os.path.expanduser("~"), tempfile.gettempdir(), "../"):
                self.assertNotIn(p, s, where)

    @needs_node
    def test_one_command_to_a_loadable_model(self):
        data = make_dataset(os.path.join(self.tmp, "my-parts"), per_class=4,
                            citation="Synthetic parts drawn by test_train_all.py,\nfor the smoke test.")
        out = os.path.join(self.tmp, "model")
        before = git_status()
        t0 = time.time()
        r = subprocess.run(["npm", "run", "--silent", "train", "--", "--data", data, "--id", "synth-parts", "--out", out,
                            "--minutes", "5", "--max-steps", "3", "--config", TINY, "--threads", "2"],
                           cwd=REPO, capture_output=True, text=True, env={**os.environ, "PYTHON": PY})
        self.assertEqual(r.returncode, 0, r.stdout[-3000:] + r.stderr[-3000:])
        print(f"\nnpm run train: {time.time() - t0:.1f} s", file=sys.stderr)
        self.assertIn("result: ok", r.stdout)
        self.assertIn("Spot: every mask is an axis-aligned box", r.stdout)   # the check reports what it found
        self.assertIn(os.path.join(out, "synth-parts.zip"), r.stdout)       # and says where the model is

        with open(os.path.join(out, "manifest.json")) as f:
            m = json.load(f)
        self.assertEqual(m["id"], "synth-parts")
        self.assertEqual(m["classes"], ["Scratch", "Spot", "Free"])
        self.assertEqual(m["training"]["citation"], "Synthetic parts drawn by test_train_all.py, for the smoke test.")
        self.assertNotIn("Huang", json.dumps(m))
        self.assertEqual(m["training"]["dataset"], "my-parts")
        files = sorted(os.path.relpath(os.path.join(d, f), data).replace(os.sep, "/") for d, _, fs in os.walk(data) for f in fs)
        self.assertEqual(m["training"]["datasetFiles"], len(files))
        self.assertEqual(m["training"]["datasetFileListSha256"], hashlib.sha256("\n".join(files).encode()).hexdigest())
        with open(os.path.join(out, "classifier", "manifest.json")) as f:
            c = json.load(f)
        self.assertEqual((c["id"], c["task"], c["classes"]), ("synth-parts-classifier", "classifier", m["classes"]))
        self.assertEqual(c["training"]["citation"], m["training"]["citation"])
        with open(os.path.join(out, "classifier", "reference_features.json")) as f:
            ref = json.load(f)
        self.assertEqual(ref["classifierId"], "synth-parts-classifier")
        self.assertEqual(sorted(ref["classes"]), sorted(m["classes"]))
        for p in ("manifest.json", "mask_library.json", "part_masks.json", "model_io_synth-parts.json", "classifier/manifest.json",
                  "classifier/reference_features.json"):
            self.assertNoMachinePaths(os.path.join(out, p))
        with zipfile.ZipFile(os.path.join(out, "synth-parts.zip")) as z:
            self.assertEqual(sorted(z.namelist()), ["classifier/manifest.json", "classifier/model.onnx", "classifier/reference_features.json",
                                                    "manifest.json", "mask_library.json", "model.onnx", "part_masks.json"])

        # The studio's model-zip reader takes the zip; the command-line generator loads the folder and generates.
        r = subprocess.run(["npx", "tsx", "scripts/checkModelZip.ts", os.path.join(out, "synth-parts.zip")],
                           cwd=REPO, capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout)["id"], "synth-parts")
        gen = os.path.join(self.tmp, "gen")
        r = subprocess.run(["npx", "tsx", "scripts/generate.ts", "--model", out, "--class", "Scratch", "--n", "1", "--steps", "2",
                            "--out", gen], cwd=REPO, capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(os.path.exists(os.path.join(gen, "images", "Scratch", "Scratch_s0.png")))

        # The same --out again without --resume is refused rather than overwritten.
        r = subprocess.run([PY, os.path.join(TRAINING, "train_all.py"), "--data", data, "--id", "synth-parts", "--out", out],
                           cwd=REPO, capture_output=True, text=True)
        self.assertEqual(r.returncode, 2)
        self.assertIn("--resume", r.stderr)
        self.assertEqual(git_status(), before, "the run changed the repository's git status")

    def test_refusals(self):
        data = make_dataset(os.path.join(self.tmp, "parts"), per_class=2)
        run = lambda *a: subprocess.run([PY, os.path.join(TRAINING, "train_all.py"), "--data", data, "--out",  # noqa: E731
                                         os.path.join(self.tmp, "m"), *a], cwd=REPO, capture_output=True, text=True)
        r = run("--id", "magtile-defect-64")
        self.assertEqual(r.returncode, 2)
        self.assertIn("embeds", r.stderr)
        r = run("--id", "has space")
        self.assertEqual(r.returncode, 2)
        from PIL import Image
        Image.new("L", (40, 40)).save(os.path.join(data, "Spot", "spot_0_mask.png"))   # mask no longer matches its image
        r = run("--id", "ok-id")
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertIn("REFUSED: Spot/spot_0.png: mask is 40x40, image is 80x80", r.stdout)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "m", "run", "denoiser")))

    @needs_node
    def test_ctrl_c_saves_and_resume_continues(self):
        data = make_dataset(os.path.join(self.tmp, "parts"), per_class=3)
        out = os.path.join(self.tmp, "model")
        cmd = [PY, os.path.join(TRAINING, "train_all.py"), "--data", data, "--id", "synth-resume", "--out", out,
               "--minutes", "5", "--config", TINY, "--threads", "2"]
        p = subprocess.Popen(cmd + ["--max-steps", "100000"], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        lines = []
        for line in p.stdout:
            lines.append(line)
            if line.startswith("training from step 0"):
                time.sleep(2)
                p.send_signal(signal.SIGINT)
                break
        rest = p.communicate(timeout=120)[0]
        self.assertEqual(p.returncode, 130, "".join(lines) + rest)
        self.assertIn("--resume", rest)
        import torch
        step = torch.load(os.path.join(out, "run", "denoiser", "weights.pt"))["step"]
        self.assertGreater(step, 0)
        r = subprocess.run(cmd + ["--resume", "--max-steps", str(step + 2)], cwd=REPO, capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stdout[-3000:] + r.stderr[-3000:])
        self.assertIn(f"resumed from", r.stdout)
        with open(os.path.join(out, "manifest.json")) as f:
            self.assertEqual(json.load(f)["training"]["steps"], step + 2)

    def test_distillation_stage_exports_a_fast_student(self):
        data = make_dataset(os.path.join(self.tmp, "parts"), per_class=3)
        out = os.path.join(self.tmp, "model")
        r = subprocess.run([PY, os.path.join(TRAINING, "train_all.py"), "--data", data, "--id", "synth-fast", "--out", out,
                            "--minutes", "5", "--config", TINY, "--threads", "2", "--max-steps", "2", "--distill-share", "0.25"],
                           cwd=REPO, capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stdout[-3000:] + r.stderr[-3000:])
        self.assertIn("[5/5] distilling a few-step student (synth-fast-fast)", r.stdout)
        self.assertIn("distillation 1.2 min", r.stdout)   # taken from the denoiser's 0.75: 2.5 min left for it
        self.assertIn("denoiser 2.5 min", r.stdout)
        with open(os.path.join(out, "manifest.json")) as f:
            teacher = json.load(f)
        with open(os.path.join(out, "fast", "manifest.json")) as f:
            m = json.load(f)
        self.assertEqual(m["id"], "synth-fast-fast")
        self.assertEqual(m["distillation"]["teacher"], {k: teacher[k] for k in ("id", "version", "sha256")})
        self.assertEqual((m["defaults"]["sampler"], m["defaults"]["guidance"]), ("consistency", 1))
        self.assertEqual(m["training"]["distillation"]["student_steps"], 2)
        self.assertEqual(m["classes"], teacher["classes"])
        with zipfile.ZipFile(os.path.join(out, "fast", "synth-fast-fast.zip")) as z:
            self.assertEqual(sorted(z.namelist()), ["classifier/manifest.json", "classifier/model.onnx", "classifier/reference_features.json",
                                                    "manifest.json", "mask_library.json", "model.onnx", "part_masks.json"])
        for p in ("fast/manifest.json", "fast/model_io_synth-fast-fast.json"):
            self.assertNoMachinePaths(os.path.join(out, p))


if __name__ == "__main__":
    unittest.main()
