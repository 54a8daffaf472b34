"""The downstream protocol (training/downstream.py, ddstudio/downstream.py): tile-group folds, average precision,
reading a generate folder / export zip, and a two-step end-to-end run on a tiny data set drawn here."""
import contextlib
import io
import json
import os
import sys
import tempfile
import unittest
import zipfile

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)
import compare_recipes  # noqa: E402
import downstream  # noqa: E402
from ddstudio.data import Item  # noqa: E402
from ddstudio.data import load_items  # noqa: E402
from ddstudio.downstream import (Windows, average_precision, defect_stats, exposure_spread, flip_augment, group_folds,  # noqa: E402
                                 match_exposure, protocol_folds, read_synthetic, select_synthetic)
from synthetic import make_dataset  # noqa: E402


def item(cls, group):
    z = np.zeros((8, 8), np.uint8)
    return Item(cls=cls, path=group, image=z, mask=z, group=group, defect_pixels=np.zeros((0, 2), np.int32))


def write_generated(root, classes=("Scratch", "Spot"), n=3, seed=5):
    """images/<class>/<name>.png + masks/<class>/<name>.png, the layout `npm run generate` and the export share."""
    src = make_dataset(os.path.join(root, "src"), per_class=n, seed=seed)
    out = os.path.join(root, "gen")
    for c in classes:
        os.makedirs(os.path.join(out, "images", c)), os.makedirs(os.path.join(out, "masks", c))
        for f in sorted(os.listdir(os.path.join(src, c))):
            if not f.endswith("_mask.png"):
                stem = f[:-4]
                Image.open(os.path.join(src, c, f)).save(os.path.join(out, "images", c, f))
                Image.open(os.path.join(src, c, stem + "_mask.png")).save(os.path.join(out, "masks", c, f))
    return out


class Folds(unittest.TestCase):
    def test_disjoint_complete_and_every_class_in_every_fold(self):
        items = [item(c, f"c{c}g{g}") for c in range(3) for g in range(7) for _ in range(3)]
        folds = group_folds(items, 4, seed=0)
        groups = [g for f in folds for g in f]
        self.assertEqual(len(groups), len(set(groups)))
        self.assertEqual(set(groups), {it.group for it in items})
        for f in folds:
            self.assertEqual({int(g[1]) for g in f}, {0, 1, 2})
        self.assertEqual(folds, group_folds(items, 4, seed=0))
        self.assertNotEqual(folds, group_folds(items, 4, seed=1))


class Measures(unittest.TestCase):
    def test_average_precision(self):
        self.assertEqual(average_precision(np.array([0.9, 0.8, 0.1]), np.array([1, 1, 0])), 1.0)
        # ranking: pos, neg, pos -> precisions at the positives 1 and 2/3
        self.assertAlmostEqual(average_precision(np.array([0.9, 0.5, 0.4]), np.array([1, 0, 1])), (1 + 2 / 3) / 2)
        self.assertIsNone(average_precision(np.array([0.3]), np.array([0])))
        # tied scores are one threshold, whatever their order: 1 positive and 1 negative tied at the top
        for labels in (np.array([1, 0]), np.array([0, 1])):
            self.assertAlmostEqual(average_precision(np.array([1.0, 1.0]), labels), 0.5)
        self.assertAlmostEqual(average_precision(np.array([2.0, 1.0, 1.0, 0.0]), np.array([1, 0, 1, 0])), (1 + 2 / 3) / 2)


class EndToEnd(unittest.TestCase):
    def test_folder_zip_and_a_short_run(self):
        with tempfile.TemporaryDirectory() as d:
            data = make_dataset(os.path.join(d, "data"), per_class=6, seed=1)
            gen = write_generated(d)
            pairs, info = read_synthetic(gen, ["Scratch", "Spot", "Free"])
            self.assertEqual(info["images"], {"Scratch": 3, "Spot": 3, "Free": 0})
            self.assertEqual((info["onPhotos"], {p[3] for p in pairs}), (0, {None}))
            zpath = os.path.join(d, "export.zip")
            with zipfile.ZipFile(zpath, "w") as z:
                for root, _, files in os.walk(gen):
                    for f in files:
                        p = os.path.join(root, f)
                        z.write(p, os.path.relpath(p, gen))
                z.writestr("images/Dent/x.png", b"")   # a class the data does not have: counted, skipped
            zpairs, zinfo = read_synthetic(zpath, ["Scratch", "Spot", "Free"])
            self.assertEqual(zinfo["skippedClasses"], {"Dent": 1})
            self.assertTrue(all(np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1]) for a, b in zip(pairs, zpairs)))
            # an item generated on a real photo names it (metadata.jsonl basePhoto), so folds testing that photo's
            # tile group leave it out
            with open(os.path.join(gen, "metadata.jsonl"), "w") as f:
                f.write(json.dumps({"file": "images/Scratch/scratch_0.png", "basePhoto": {"name": "free_1.png", "sha256": "x"}}) + "\n")
            ppairs, pinfo = read_synthetic(gen, ["Scratch", "Spot", "Free"])
            self.assertEqual(pinfo["onPhotos"], 1)
            self.assertEqual([p[3] for p in ppairs if p[3]], ["free_1.png"])
            out = os.path.join(d, "report")
            rep = downstream.main(["--data", data, "--synthetic", gen, "--out", out, "--folds", "3", "--seeds", "2",
                                   "--steps", "2", "--threads", "1"])
            self.assertEqual(rep["split"], "dev")
            self.assertEqual(len(rep["devFolds"]), 2)
            self.assertFalse(set(rep["finalTestGroups"]) & {g for f in rep["devFolds"] for g in f})
            self.assertFalse(rep["finalTestHeldFromGenerator"])   # no --generator: the last fold, not its held-out tiles
            self.assertEqual(rep["armsRun"], ["real", "classic", "synthetic"])
            self.assertEqual(sorted(rep["defectStats"]), ["Scratch", "Spot"])
            self.assertGreater(rep["defectStats"]["Scratch"]["test"]["contrast"], 0)   # the drawn scratches are bright
            self.assertLess(rep["defectStats"]["Spot"]["synthetic"]["contrast"], 0)    # the spots dark
            self.assertEqual(sorted(rep["arms"]), ["classic", "real", "synthetic"])
            self.assertEqual(rep["arms"]["real"]["runs"], 4)
            g = rep["gain"]["synthetic"]["macroF1"]
            self.assertIn(g["baseline"], ("real", "classic"))
            self.assertEqual(g["n"], 4)   # 2 folds x 2 seeds, paired
            self.assertLessEqual(g["ci95"][0], g["mean"])
            with open(os.path.join(out, "runs.jsonl")) as f:
                self.assertEqual(len(f.readlines()), 12)
            # resumes: nothing is trained again, the same summary comes out
            again = downstream.main(["--data", data, "--synthetic", gen, "--out", out, "--folds", "3", "--seeds", "2",
                                     "--steps", "2", "--threads", "1"])
            self.assertEqual(again["gain"], rep["gain"])
            # --first-seed gives a process its share of the seeds (two processes, their runs.jsonl merged after)
            other_out = os.path.join(d, "report-seed2")
            downstream.main(["--data", data, "--synthetic", gen, "--out", other_out, "--folds", "3", "--seeds", "1",
                             "--first-seed", "2", "--steps", "2", "--threads", "1"])
            with open(os.path.join(other_out, "runs.jsonl")) as f:
                self.assertEqual(sorted({json.loads(l)["seed"] for l in f}), [2])
            with open(os.path.join(out, "dev.json")) as f:
                self.assertEqual(json.load(f)["hyper"]["steps"], 2)
            # another recipe (a gate from an evaluate report, one image per class, another share) trains only its
            # synthetic arm again: the baselines are shared
            gate = os.path.join(d, "evaluate.json")
            with open(gate, "w") as f:   # as `npm run evaluate > evaluate.json` writes it: npm's banner first
                f.write("\n> defect-diffusion-studio@0.1.0 evaluate\n> tsx scripts/evaluate.ts\n\n")
                json.dump({"images": [{"className": "Scratch", "name": "scratch_0.png", "flags": ["inconsistent"]},
                                      {"className": "Spot", "name": "spot_0.png", "flags": []}]}, f, indent=1)
            other = downstream.main(["--data", data, "--synthetic", gen, "--out", out, "--folds", "3", "--seeds", "2",
                                     "--steps", "2", "--threads", "1", "--gate", gate, "--synthetic-per-class", "1",
                                     "--synthetic-share", "0.25", "--tag", "gated"])
            self.assertEqual(other["synthetic"]["images"], {"Scratch": 1, "Spot": 1, "Free": 0})
            self.assertEqual(other["recipe"], {"share": 0.25, "perClass": 1, "gate": {"report": "evaluate.json", "judged": 2, "flagged": 1}})
            self.assertEqual(other["arms"]["real"], rep["arms"]["real"])
            with open(os.path.join(out, "runs.jsonl")) as f:
                self.assertEqual(len(f.readlines()), 16)
            self.assertTrue(os.path.exists(os.path.join(out, "dev-gated.json")))
            self.assertEqual(set(other["exposureSpread"]), {"Scratch", "Spot"})
            table = compare_recipes.rows(out, "dev")
            self.assertEqual([(r["tag"], r["images"], r["share"], r["gate"]) for r in table], [("(untagged)", 6, 0.75, None), ("gated", 2, 0.25, 1)])
            matched = downstream.main(["--data", data, "--synthetic", gen, "--out", out, "--folds", "3", "--seeds", "1",
                                       "--steps", "2", "--threads", "1", "--arms", "synthetic", "--synthetic-exposure", "match",
                                       "--tag", "exposure"])
            self.assertEqual(matched["recipe"]["exposure"], "match")
            self.assertNotIn("exposure", other["recipe"])   # only when set: earlier cached runs keep their key
            out_text = io.StringIO()
            with contextlib.redirect_stdout(out_text):
                compare_recipes.main([out, "--against", "(untagged)"])
            self.assertRegex(out_text.getvalue(), r"exposure synthetic - \(untagged\) synthetic: macroF1 [+-]\d\.\d{3} \[[^]]+\] over 2 runs, pixelAP ")
            self.assertNotIn("(untagged) synthetic - (untagged)", out_text.getvalue())   # a recipe is not paired with itself
            with self.assertRaises(SystemExit) as e:
                compare_recipes.main([out, "--against", "nope"])
            self.assertIn("accepted: (untagged), exposure, gated", str(e.exception))
            with open(gate, "w") as f:
                json.dump({"perClass": {}}, f)
            with self.assertRaises(SystemExit) as e:
                downstream.main(["--data", data, "--synthetic", gen, "--out", out, "--gate", gate])
            self.assertIn('"images" list', str(e.exception))


class Exposure(unittest.TestCase):
    def test_match_widens_a_narrow_class_to_the_real_spread_and_leaves_a_wide_one(self):
        rng = np.random.default_rng(0)

        def windows(spread_by_class, n=2000):
            ys = np.repeat(np.arange(len(spread_by_class)), n)
            means = np.concatenate([128 + rng.normal(0, sd * 127.5, n) for sd in spread_by_class])
            x = np.clip(means[:, None, None] + rng.normal(0, 5, (len(ys), 64, 64)), 0, 255).astype(np.uint8)
            return Windows(x, (x > 200).astype(np.uint8), ys)
        real, synth = windows([0.30, 0.10]), windows([0.15, 0.20])
        matched, sd = match_exposure(synth, real, seed=1)
        self.assertEqual(sorted(sd), [0])   # class 1 is already wider than real: untouched
        self.assertAlmostEqual(sd[0], np.sqrt(exposure_spread(real)[0] ** 2 - exposure_spread(synth)[0] ** 2))
        self.assertAlmostEqual(exposure_spread(matched)[0], exposure_spread(real)[0], delta=0.015)
        self.assertTrue(np.array_equal(matched.x[synth.y == 1], synth.x[synth.y == 1]))
        self.assertTrue(np.array_equal(matched.m, synth.m))
        self.assertTrue(np.array_equal(match_exposure(synth, real, seed=1)[0].x, matched.x))   # repeatable


class DefectStats(unittest.TestCase):
    def test_size_and_contrast_of_a_dark_spot(self):
        rng = np.random.default_rng(0)
        x = np.clip(rng.normal(128, 10, (3, 64, 64)), 0, 255).astype(np.uint8)
        m = np.zeros((3, 64, 64), np.uint8)
        m[0, 20:28, 20:28] = 1            # class 0: an 8x8 dark square
        x[0, 20:28, 20:28] = 40
        m[1, 10:42, 10:42] = 1            # class 1: a 32x32 bright square
        x[1, 10:42, 10:42] = 200
        m[2] = 1                          # class 2: a mask over the whole window says nothing of a defect: left out
        st = defect_stats(Windows(x, m, np.array([0, 1, 2])))
        self.assertEqual(sorted(st), [0, 1])
        self.assertAlmostEqual(st[0]["maskArea"], 64 / 4096)
        self.assertAlmostEqual(st[1]["maskArea"], 1024 / 4096)
        self.assertLess(st[0]["contrast"], -2)
        self.assertGreater(st[1]["contrast"], 1)


class Flips(unittest.TestCase):
    def test_flips_keep_vertical_grain_and_exposure_and_move_the_mask_with_the_image(self):
        import torch
        x = torch.zeros(64, 1, 8, 8)
        x[:, :, :, 1] = 1.0            # a vertical stripe in column 1: the grain
        x[:, :, 0, 1] = 0.5            # marks the top, to see up-down flips
        m = (x > 0).float()
        fx, geo = flip_augment(x, torch.Generator().manual_seed(3))
        self.assertTrue(torch.equal(geo(m), (fx > 0).float()))   # the mask is flipped as its image is
        cols = (fx[:, 0] == 1.0).any(1)                           # each window: which columns hold the stripe
        self.assertTrue(bool(((cols[:, 1] | cols[:, 6]) & (cols.sum(1) == 1)).all()))   # still one vertical stripe
        self.assertTrue(torch.equal(fx.sort(-1).values.sum((1, 2, 3)), x.sort(-1).values.sum((1, 2, 3))))  # same values
        self.assertTrue(bool(cols[:, 6].any()) and bool(cols[:, 1].any()))          # left-right flips happen, not always
        top = fx[:, 0, 0].eq(0.5).any(1)
        self.assertTrue(bool(top.any()) and bool((~top).any()))                     # and up-down flips too

    def test_a_flips_baseline_competes_for_the_better_baseline(self):
        def run(arm, seed, ap):
            return {"arm": arm, "fold": 0, "seed": seed, "macroF1": 0.5, "pixelAP": ap, "freeFpr": None,
                    "f1": {"0": 0.5}, "ap": {"0": ap}}
        runs = [run(arm, seed, ap) for seed in (0, 1) for arm, ap in
                (("real", 0.3 + seed / 100), ("classic", 0.2), ("flips", 0.4 + seed / 100), ("synthetic+flips", 0.45 + seed / 50))]
        g = downstream.summarise(runs, ["Crack", "Free"], [0], ["real", "classic", "flips", "synthetic+flips"])["gain"]
        self.assertEqual(list(g), ["synthetic+flips"])
        self.assertEqual(g["synthetic+flips"]["pixelAP"]["baseline"], "flips")
        self.assertAlmostEqual(g["synthetic+flips"]["pixelAP"]["mean"], 0.055)


class StrictJson(unittest.TestCase):
    def test_one_run_has_no_interval_and_the_report_is_strict_json(self):
        def run(arm, f1):
            return {"arm": arm, "fold": 0, "seed": 0, "macroF1": f1, "pixelAP": 0.5, "freeFpr": None,
                    "f1": {"0": f1}, "ap": {"0": 0.5}}
        s = downstream.summarise([run("real", 0.4), run("synthetic", 0.6)], ["Crack", "Free"], [0], ["real", "synthetic"])
        g = s["gain"]["synthetic"]["macroF1"]
        self.assertEqual((round(g["mean"], 6), g["ci95"], g["n"]), (0.2, None, 1))
        # a metric no run had is null, not NaN, so the report stays strict JSON
        none = downstream.summarise([{**run("real", 0.4), "pixelAP": None, "ap": {}}], ["Crack", "Free"], [0], ["real"])
        self.assertEqual((none["arms"]["real"]["pixelAP"], none["arms"]["real"]["perClass"]["Crack"]["pixelAP"]), (None, None))
        json.dumps(none, allow_nan=False)


class Recipe(unittest.TestCase):
    def test_gate_then_the_first_n_per_class_in_seed_order(self):
        z = np.zeros((4, 4), np.uint8)
        pairs = [(z + k, z, c, None, f"{n}/{n}_s{k}") for c, n in ((0, "Crack"), (1, "Fray")) for k in (1, 2, 11, 100)]
        kept, info = select_synthetic(pairs, 2, {"Crack/Crack_s2"})
        self.assertEqual([p[4] for p in kept], ["Crack/Crack_s1", "Crack/Crack_s11", "Fray/Fray_s1", "Fray/Fray_s2"])
        self.assertEqual(info["dropped"], 4)
        same, again = select_synthetic(list(reversed(pairs)), 2, {"Crack/Crack_s2"})
        self.assertEqual(again["sha256"], info["sha256"])
        changed = [(p[0] + (p[4] == "Fray/Fray_s2"), *p[1:]) for p in pairs]
        self.assertNotEqual(select_synthetic(changed, 2, {"Crack/Crack_s2"})[1]["sha256"], info["sha256"])
        self.assertEqual(len(select_synthetic(pairs, None, None)[0]), 8)

    def test_runs_cached_before_the_recipe(self):
        old = {"arm": "real", "hyper": {"steps": 400, "synthetic_share": 0.5}, "setup": {"data": "train", "synthetic": {"images": {}}}}
        self.assertEqual(downstream.migrate(old)["setup"], {"data": "train"})
        self.assertEqual(downstream.migrate(old)["hyper"], {"steps": 400})
        self.assertEqual(downstream.migrate({**old, "arm": "synthetic"})["setup"]["synthetic"], "before-recipe")


class FoldHonest(unittest.TestCase):
    """--fold-generators / --fold-synthetic: each development fold trains on images of a generator that held out its
    tiles, checked from the generators' manifests and the images' recorded model sha256."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        d = self.tmp.name
        self.data = make_dataset(os.path.join(d, "data"), per_class=6, seed=1)
        _, items = load_items(self.data)
        held = sorted({it.group for it in items if it.cls == 0})[:1] + sorted({it.group for it in items if it.cls == 1})[:1]
        self.main = self.model(os.path.join(d, "main"), "main", "a" * 64, held)
        self.final, self.dev = protocol_folds(items, held, 3)
        self.assertEqual(self.final, set(held))
        self.folds = [self.model(os.path.join(d, f"fold{k}"), f"main-fold{k}", f"{k}" * 64, sorted(g | self.final))
                      for k, g in enumerate(self.dev)]
        self.sets = [self.generated(os.path.join(d, f"syn{k}"), f"{k}" * 64, seed=7 + k) for k in range(len(self.dev))]

    def tearDown(self):
        self.tmp.cleanup()

    @staticmethod
    def model(path, model_id, sha, held):
        os.makedirs(path)
        with open(os.path.join(path, "manifest.json"), "w") as f:
            json.dump({"id": model_id, "sha256": sha, "training": {"heldOutGroups": held}}, f)
        return path

    @staticmethod
    def generated(root, sha, seed):
        gen = write_generated(root, seed=seed)
        with open(os.path.join(gen, "metadata.jsonl"), "w") as f:
            for c in sorted(os.listdir(os.path.join(gen, "images"))):
                for name in sorted(os.listdir(os.path.join(gen, "images", c))):
                    f.write(json.dumps({"file": f"images/{c}/{name}", "modelSha256": sha}) + "\n")
        return gen

    def run_protocol(self, *extra, sets=None, folds=None):
        return downstream.main(["--data", self.data, "--generator", self.main, "--out", os.path.join(self.tmp.name, "out"),
                                "--folds", "3", "--seeds", "1", "--steps", "2", "--threads", "1", "--arms", "real,synthetic",
                                "--fold-synthetic", ",".join(sets or self.sets), "--fold-generators", ",".join(folds or self.folds),
                                *extra])

    def test_each_fold_trains_on_its_own_generators_images(self):
        rep = self.run_protocol()
        self.assertTrue(rep["devFoldsHeldFromGenerator"])
        self.assertEqual([f["generator"] for f in rep["devSynthetic"]], ["main-fold0", "main-fold1"])
        self.assertEqual(rep["synthetic"], None)   # no --synthetic: only the development folds' own sets
        with open(os.path.join(self.tmp.name, "out", "runs.jsonl")) as f:
            runs = [json.loads(line) for line in f]
        syn = sorted((r["fold"], r["setup"]["generatorSha256"], r["setup"]["synthetic"]["sha256"]) for r in runs if r["arm"] == "synthetic")
        self.assertEqual([(k, sha) for k, sha, _ in syn], [(0, "0" * 64), (1, "1" * 64)])
        self.assertNotEqual(syn[0][2], syn[1][2])   # two different sets
        self.assertEqual(rep["arms"]["synthetic"]["runs"], 2)

    def test_a_generator_that_saw_the_fold_is_refused(self):
        with open(os.path.join(self.folds[1], "manifest.json"), "w") as f:   # fold 1's generator trained on one of its groups
            json.dump({"id": "main-fold1", "sha256": "1" * 64, "training": {"heldOutGroups": sorted(self.dev[1] | self.final)[1:]}}, f)
        with self.assertRaises(SystemExit) as e:
            self.run_protocol()
        self.assertIn("tile group(s) of development fold 1", str(e.exception))

    def test_images_of_another_model_are_refused(self):
        with self.assertRaises(SystemExit) as e:
            self.run_protocol(sets=[self.sets[1], self.sets[0]])   # swapped: fold 0 gets fold 1's generator's images
        self.assertIn("not made by", str(e.exception))

    def test_one_set_per_fold(self):
        with self.assertRaises(SystemExit), contextlib.redirect_stderr(io.StringIO()):
            self.run_protocol(sets=self.sets[:1])

    def test_the_final_fold_is_held_only_when_its_images_are_the_generators(self):
        rep = downstream.main(["--data", self.data, "--generator", self.main, "--out", os.path.join(self.tmp.name, "fin"),
                               "--folds", "3", "--seeds", "1", "--steps", "2", "--threads", "1", "--arms", "real,synthetic",
                               "--final", "--synthetic", self.sets[0]])
        self.assertFalse(rep["finalTestHeldFromGenerator"])   # the set was made by fold 0's model, not --generator
        self.assertEqual(rep["syntheticGenerators"], {"0" * 64: 6})
        mine = self.generated(os.path.join(self.tmp.name, "mine"), "a" * 64, seed=9)
        rep = downstream.main(["--data", self.data, "--generator", self.main, "--out", os.path.join(self.tmp.name, "fin"),
                               "--folds", "3", "--seeds", "1", "--steps", "2", "--threads", "1", "--arms", "real,synthetic",
                               "--final", "--synthetic", mine])
        self.assertTrue(rep["finalTestHeldFromGenerator"])


if __name__ == "__main__":
    unittest.main()
