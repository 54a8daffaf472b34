import os
import sys
import unittest

import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from ddstudio.diffusion import GaussianDiffusion, ScheduleConfig  # noqa: E402


def diffusion(weighting: str, prediction_type: str = "v_prediction") -> GaussianDiffusion:
    cfg = ScheduleConfig(num_train_timesteps=1000, beta_schedule="squaredcos_cap_v2", prediction_type=prediction_type)
    return GaussianDiffusion(cfg, 5.0, weighting)


class LossWeightingTest(unittest.TestCase):
    def test_weights_on_the_x0_error(self):
        t = torch.tensor([0, 300, 600, 950, 999])
        for p, factor in (("v_prediction", lambda s: s + 1), ("epsilon", lambda s: s), ("sample", lambda s: torch.ones_like(s))):
            a, b = diffusion("min_snr", p), diffusion("min_snr_plus_one", p)
            snr = a.snr[t]
            # weight on the model's own error times |own err|^2 / |x0 err|^2 = weight on the x0 error
            torch.testing.assert_close(a.loss_weights(t) * factor(snr), torch.clamp(snr, max=5.0))
            torch.testing.assert_close(b.loss_weights(t) * factor(snr), torch.clamp(snr, max=5.0) + 1)

    def test_plus_one_keeps_the_noisiest_steps_weighted(self):
        t = torch.tensor([950])
        self.assertLess(diffusion("min_snr").loss_weights(t).item(), 0.01)
        self.assertGreater(diffusion("min_snr_plus_one").loss_weights(t).item(), 0.99)

    def test_unknown_weighting_is_refused(self):
        with self.assertRaisesRegex(ValueError, "accepted: min_snr, min_snr_plus_one"):
            diffusion("snr")


if __name__ == "__main__":
    unittest.main()
