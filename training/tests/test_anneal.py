"""train.anneal_factor: full learning rate until the last anneal window of the time budget, then a cosine that
reaches the floor exactly at the budget's end and stays there."""
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from train import anneal_factor  # noqa: E402


class Anneal(unittest.TestCase):
    def test_shape(self):
        budget, window, floor = 600.0, 200.0, 0.1
        self.assertEqual(anneal_factor(0, budget, window, floor), 1.0)
        self.assertEqual(anneal_factor(400, budget, window, floor), 1.0)
        self.assertAlmostEqual(anneal_factor(500, budget, window, floor), 0.55)
        self.assertAlmostEqual(anneal_factor(600, budget, window, floor), floor)
        self.assertAlmostEqual(anneal_factor(900, budget, window, floor), floor)
        values = [anneal_factor(t, budget, window, floor) for t in range(380, 620, 5)]
        self.assertTrue(all(a >= b for a, b in zip(values, values[1:])), "the factor rises somewhere")

    def test_whole_budget(self):
        self.assertAlmostEqual(anneal_factor(0, 60, 60, 0.2), 1.0)
        self.assertAlmostEqual(anneal_factor(30, 60, 60, 0.2), 0.6)


if __name__ == "__main__":
    unittest.main()
