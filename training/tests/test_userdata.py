"""What a model folder says about its data (training/ddstudio/userdata.py) and the data-folder check
(training/ddstudio/datacheck.py): citation sources, the uncited wording, the dataset record without paths, the
ids a user's model may not take, and what the check refuses and warns about."""
import json
import os
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
TRAINING = os.path.dirname(HERE)
REPO = os.path.dirname(TRAINING)
sys.path.insert(0, TRAINING)
sys.path.insert(0, HERE)
from ddstudio.datacheck import check_dataset  # noqa: E402
from ddstudio.userdata import (EMBEDDED_MODEL_IDS, MAGTILE_CITATION, SHIPPED_DATA, UNCITED, dataset_record,  # noqa: E402
                               find_citation, first_paragraph, id_problem)
from synthetic import make_dataset  # noqa: E402


class Citation(unittest.TestCase):
    def test_sources_in_order(self):
        with tempfile.TemporaryDirectory() as d:
            self.assertEqual(find_citation(d), (UNCITED, "none"))
            self.assertIn("uncited", UNCITED)
            with open(os.path.join(d, "README.md"), "w") as f:
                f.write("# Our parts\n\nBrackets from line 3,\nphotographed 2026.\n\nMore text.\n")
            self.assertEqual(find_citation(d)[0], "Brackets from line 3, photographed 2026.")
            with open(os.path.join(d, "CITATION.txt"), "w") as f:
                f.write("\n\nACME parts set, CC-BY 4.0\n")
            self.assertEqual(find_citation(d), ("ACME parts set, CC-BY 4.0", "CITATION.txt in the data folder (first paragraph)"))
            self.assertEqual(find_citation(d, "  Given  ")[0], "Given")
            self.assertEqual(find_citation(d, "   ")[0], "ACME parts set, CC-BY 4.0")

    def test_shipped_data_keeps_its_citation(self):
        self.assertEqual(find_citation(os.path.join(SHIPPED_DATA, "train"))[0], MAGTILE_CITATION)

    def test_first_paragraph(self):
        self.assertEqual(first_paragraph("## A\n# B\n\n  x \ny\n# C\nz"), "x y")
        self.assertEqual(first_paragraph("\n\n"), "")


class DatasetRecord(unittest.TestCase):
    def test_name_and_file_list_hash_without_paths(self):
        with tempfile.TemporaryDirectory() as d:
            root = make_dataset(os.path.join(d, "bracket-photos"), per_class=2)
            a = dataset_record(root)
            self.assertEqual(a["name"], "bracket-photos")
            self.assertEqual(a["files"], 2 * 3 + 2 * 2)   # images of 3 classes, masks of 2
            self.assertNotIn(d, json.dumps(a))
            self.assertEqual(dataset_record(root + "/"), a)
            os.rename(os.path.join(root, "Spot", "spot_0.png"), os.path.join(root, "Spot", "spot_9.png"))
            self.assertNotEqual(dataset_record(root)["fileListSha256"], a["fileListSha256"])


class Ids(unittest.TestCase):
    def test_embedded_ids_refused(self):
        for i in EMBEDDED_MODEL_IDS:
            self.assertIn("embeds", id_problem(i))
        self.assertIsNone(id_problem("acme-bracket-1.2_b"))
        self.assertIsNotNone(id_problem("a/b"))
        self.assertIsNotNone(id_problem("x" * 65))

    def test_every_shipped_model_is_listed(self):
        models = os.path.join(REPO, "public", "models")
        ids = set()
        for name in os.listdir(models):
            p = os.path.join(models, name, "manifest.json")
            if os.path.exists(p):
                with open(p) as f:
                    ids.add(json.load(f)["id"])
        self.assertTrue(ids)
        self.assertLessEqual(ids, set(EMBEDDED_MODEL_IDS))


class DataCheck(unittest.TestCase):
    def test_clean_synthetic_folder(self):
        with tempfile.TemporaryDirectory() as d:
            r = check_dataset(make_dataset(os.path.join(d, "p"), per_class=3), 64, 0.2, 0)
            self.assertTrue(r.ok, r.text())
            self.assertEqual([c.name for c in r.classes], ["Scratch", "Spot", "Free"])
            spot = r.classes[1]
            self.assertEqual((spot.images, spot.masks, spot.box_masks), (3, 3, 3))
            self.assertEqual(sum(c.train_images + c.val_images for c in r.classes), 9)
            self.assertTrue(any("axis-aligned box" in w for w in r.warnings))

    def test_refusals_and_warnings(self):
        from PIL import Image
        with tempfile.TemporaryDirectory() as d:
            root = make_dataset(os.path.join(d, "p"), per_class=3)
            Image.new("L", (80, 80)).save(os.path.join(root, "Scratch", "scratch_1_mask.png"))           # empty mask
            Image.new("L", (10, 10)).save(os.path.join(root, "Scratch", "scratch_2_mask.png"))           # wrong size
            Image.new("I;16", (80, 80)).save(os.path.join(root, "Spot", "deep.png"))                      # 16-bit
            Image.new("L", (80, 80)).save(os.path.join(root, "Spot", "orphan_mask.png"))                  # no image
            os.makedirs(os.path.join(root, "Empty"))
            with open(os.path.join(root, "Free", "free_0.png"), "rb") as f, open(os.path.join(root, "Spot", "copy.png"), "wb") as g:
                g.write(f.read())                                                                          # same file in 2 classes
            with open(os.path.join(root, "manifest_extra.csv"), "w") as f:
                f.write("image,group\nfree_0.png,a\n")
            r = check_dataset(root, 64, 0.2, 0)
            text = r.text()
            self.assertFalse(r.ok)
            for needle in ("Scratch/scratch_2.png: mask is 10x10, image is 80x80", "Spot/deep.png: mode I (16-bit or float)", "'Empty' has no",
                           "the same file is in several classes", "needs columns 'image' and 'tile_group'"):
                self.assertTrue(any(needle in x for x in r.refused), f"{needle!r} not refused:\n{text}")
            for needle in ("Scratch: 1 empty masks", "Spot/orphan_mask.png: a mask without an image"):
                self.assertTrue(any(needle in x for x in r.warnings), f"{needle!r} not warned:\n{text}")
            self.assertIn("REFUSED", text)

    def test_one_class_and_missing_folder(self):
        with tempfile.TemporaryDirectory() as d:
            self.assertFalse(check_dataset(os.path.join(d, "nope"), 64, 0.2, 0).ok)
            root = make_dataset(os.path.join(d, "p"), per_class=2)
            for c in ("Spot", "Free"):
                for fn in os.listdir(os.path.join(root, c)):
                    os.remove(os.path.join(root, c, fn))
                os.rmdir(os.path.join(root, c))
            r = check_dataset(root, 64, 0.2, 0)
            self.assertTrue(any("only one class folder" in x for x in r.refused), r.text())
            self.assertTrue(any("no defect-free 'Free' class" in w for w in r.warnings), r.text())


if __name__ == "__main__":
    unittest.main()
