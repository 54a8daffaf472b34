"""The whole-part mask library (ddstudio/masklib.py build_part_mask_library): native size, bounding box plus the
run-length code of the box, duplicates (one tile under several exposures) stored once, defect-free items left out.
src/core/formats/partMasks.test.ts reads the shipped file and checks it against the dataset's mask files."""
import os
import sys
import unittest

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from ddstudio.data import Item  # noqa: E402
from ddstudio.masklib import PART_MASKS_FORMAT, build_part_mask_library  # noqa: E402


def item(cls: int, mask: np.ndarray, path: str) -> Item:
    return Item(cls=cls, path=path, image=np.zeros(mask.shape, np.uint8), mask=mask, group=path,
                defect_pixels=np.argwhere(mask > 0).astype(np.int32))


def decode(m: dict) -> np.ndarray:
    x, y, w, h = m["bbox"]
    flat = np.zeros(w * h, np.uint8)
    pos = 0
    for i, r in enumerate(m["runs"]):
        if i % 2:
            flat[pos:pos + r] = 1
        pos += r
    assert pos == w * h
    out = np.zeros((m["height"], m["width"]), np.uint8)
    out[y:y + h, x:x + w] = flat.reshape(h, w)
    return out


class PartMasks(unittest.TestCase):
    def test_round_trip_dedupe_and_empty(self):
        a = np.zeros((30, 20), np.uint8)
        a[3:9, 0:5] = 1
        a[20, 15] = 1
        b = np.zeros((12, 40), np.uint8)
        b[0, 39] = 1
        lib = build_part_mask_library([item(0, a, "x/1.jpg"), item(0, a.copy(), "x/2.jpg"), item(1, b, "y/1.jpg"),
                                       item(2, np.zeros((5, 5), np.uint8), "z/1.jpg")], ["Crack", "Break", "Free"])
        self.assertEqual(lib["format"], PART_MASKS_FORMAT)
        self.assertEqual(sorted(lib["classes"]), ["Break", "Crack"])
        self.assertEqual(len(lib["classes"]["Crack"]), 1)   # the second exposure's identical mask is stored once
        crack = lib["classes"]["Crack"][0]
        self.assertEqual((crack["width"], crack["height"], crack["bbox"]), (20, 30, [0, 3, 16, 18]))
        np.testing.assert_array_equal(decode(crack), a)
        np.testing.assert_array_equal(decode(lib["classes"]["Break"][0]), b)


if __name__ == "__main__":
    unittest.main()
