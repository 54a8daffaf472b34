"""Reference file freshness and Python-side sampler invariants (numpy only).

The committed training/reference/sampler_reference.json is what src/core/diffusion/parity.test.ts checks the browser
sampler against. Regenerating it here and comparing means a change to the training schedule (diffusion.py)
or to the Python samplers that was not carried to the reference, and so to the TypeScript side, fails.
"""
from __future__ import annotations

import json
import math
import unittest

import numpy as np

import make_reference
from ddstudio.diffusion import ScheduleConfig, make_alphas_cumprod
from ddstudio.samplers import (
    GivenNoise,
    add_noise,
    blend_known,
    combine_guidance,
    create_sampler,
    set_timesteps,
    target_from_x0,
)

SCHEDULE_KEYS = {"betas", "alphas_cumprod"}


def compare(test: unittest.TestCase, got, want, path: str = "$", key: str | None = None, in_schedule=False):
    """Structure, ints, strings, bools and nulls exactly; float64 schedule arrays to 1e-12 relative (libm's cos
    may differ by an ulp between machines), plus 4e-16 absolute for betas (1 - ratio: absolute error ~ulp(1));
    float32 trajectory values to 1e-6 absolute (same reason)."""
    if isinstance(want, dict):
        test.assertIsInstance(got, dict, path)
        test.assertEqual(sorted(got), sorted(want), f"keys differ at {path}")
        for k in want:
            compare(test, got[k], want[k], f"{path}.{k}", k, in_schedule or k in SCHEDULE_KEYS)
    elif isinstance(want, list):
        test.assertIsInstance(got, list, path)
        test.assertEqual(len(got), len(want), f"length differs at {path}")
        for i, (g, w) in enumerate(zip(got, want)):
            compare(test, g, w, f"{path}[{i}]", key, in_schedule)
    elif isinstance(want, float) and not isinstance(want, bool):
        test.assertIsInstance(got, (float, int), path)
        if in_schedule:
            floor = 4e-16 if key == "betas" else 0.0
            test.assertLessEqual(abs(got - want), 1e-12 * abs(want) + floor, f"schedule value differs at {path}")
        else:
            test.assertLessEqual(abs(got - want), 1e-6, f"value differs at {path}")
    else:
        test.assertEqual(type(got), type(want), path)
        test.assertEqual(got, want, f"value differs at {path}")


class ReferenceFileTest(unittest.TestCase):
    def test_committed_reference_matches_regenerated(self):
        committed = json.loads(make_reference.REFERENCE_PATH.read_text(encoding="utf-8"))
        regenerated = json.loads(make_reference.dumps_reference(make_reference.build_reference()))
        compare(self, regenerated, committed)

    def test_generation_is_deterministic_and_commit_sized(self):
        a = make_reference.dumps_reference(make_reference.build_reference())
        b = make_reference.dumps_reference(make_reference.build_reference())
        self.assertEqual(a, b)
        # 312 KiB with the four consistency-sampling runs (12 KiB); the bound keeps the file reviewable, not a size target
        self.assertLess(len(a.encode()), 384 * 1024)

    def test_compare_detects_schedule_drift(self):
        ref = json.loads(make_reference.REFERENCE_PATH.read_text(encoding="utf-8"))
        drifted = json.loads(json.dumps(ref))
        drifted["schedules"][0]["alphas_cumprod"][500] *= 1 + 1e-9
        with self.assertRaises(AssertionError):
            compare(self, drifted, ref)


class TimestepTest(unittest.TestCase):
    def test_known_grids(self):
        self.assertEqual(set_timesteps(1000, 10, "leading").tolist(), list(range(900, -1, -100)))
        self.assertEqual(set_timesteps(1000, 10, "trailing").tolist(), list(range(999, 98, -100)))
        self.assertEqual(set_timesteps(1000, 10, "linspace").tolist(), [999, 888, 777, 666, 555, 444, 333, 222, 111, 0])
        # round half to even: linspace(0, 4, 3) = [0, 2, 4]; trailing T=5, N=2: arange(5, 0, -2.5) = [5, 2.5] -> [5, 2] - 1
        self.assertEqual(set_timesteps(5, 2, "trailing").tolist(), [4, 1])

    def test_descending_in_range_and_length(self):
        cases = [(T, N) for T in range(2, 41) for N in range(1, T + 1)] + [(1000, N) for N in range(1, 1001)]
        for T, N in cases:
            for spacing in ("leading", "trailing", "linspace"):
                ts = set_timesteps(T, N, spacing)
                self.assertEqual(len(ts), N, (T, N, spacing))
                self.assertTrue(np.all(np.diff(ts) < 0), (T, N, spacing))
                self.assertGreaterEqual(ts.min(), 0, (T, N, spacing))
                self.assertLessEqual(ts.max(), T - 1, (T, N, spacing))

    def test_rejects_bad_values_naming_them(self):
        with self.assertRaisesRegex(ValueError, "1001.*1000"):
            set_timesteps(1000, 1001, "leading")
        with self.assertRaisesRegex(ValueError, "'karras'.*leading, trailing, linspace"):
            set_timesteps(1000, 10, "karras")


def oracle(prediction_type, x, x0, alpha_prod):
    """The exact model output for the current sample x when the clean image is x0."""
    return target_from_x0(prediction_type, x, x0, alpha_prod).astype(np.float32)


class SamplerInvariantTest(unittest.TestCase):
    def setUp(self):
        g = np.random.default_rng(7)
        self.x0 = np.clip(g.standard_normal(64) * 0.5, -1, 1).astype(np.float32)
        self.noise = g.standard_normal(64).astype(np.float32)

    def test_true_model_output_recovers_x0(self):
        for schedule_name in ("linear", "squaredcos_cap_v2"):
            for pred in ("epsilon", "v_prediction", "sample"):
                for name in ("ddpm", "ddim", "dpmpp2m"):
                    cfg = ScheduleConfig(beta_schedule=schedule_name, prediction_type=pred)
                    s = create_sampler(name, cfg, 10, "trailing")
                    ac = s.alphas_cumprod
                    x = add_noise(ac, self.x0, self.noise, int(s.timesteps[0]))
                    g = np.random.default_rng(1)
                    for i, t in enumerate(s.timesteps):
                        a = float(ac[t])
                        out = s.step(oracle(pred, x, self.x0, a), i, x, g)
                        # x0 = (x - sigma eps) / alpha amplifies the float32 rounding of x and eps by sigma / alpha
                        tol = 1e-6 * (1 + np.abs(x).max()) * (1 + math.sqrt((1 - a) / a))
                        np.testing.assert_allclose(out.pred_original_sample, self.x0, rtol=0, atol=tol,
                                                   err_msg=f"{name} {pred} {schedule_name} step {i}")
                        x = out.prev_sample
                    np.testing.assert_allclose(x, self.x0, rtol=0, atol=1e-5, err_msg=f"{name} {pred} final")

    def test_deterministic_samplers_stay_on_the_forward_path(self):
        # With the true x0 and eta 0, DDIM and DPM++ 2M land exactly on q(x_t | x0, eps) at every grid timestep.
        for name in ("ddim", "dpmpp2m"):
            s = create_sampler(name, ScheduleConfig(beta_schedule="linear", prediction_type="epsilon"), 8, "leading")
            x = add_noise(s.alphas_cumprod, self.x0, self.noise, int(s.timesteps[0]))
            for i in range(len(s.timesteps)):
                a = float(s.alphas_cumprod[s.timesteps[i]])
                x = s.step(oracle("epsilon", x, self.x0, a), i, x).prev_sample
                if i + 1 < len(s.timesteps):
                    expected = add_noise(s.alphas_cumprod, self.x0, self.noise, int(s.timesteps[i + 1]))
                    np.testing.assert_allclose(x, expected, rtol=0, atol=5e-5, err_msg=f"{name} step {i}")

    def test_ddim_one_step_from_any_t_gives_x0(self):
        cfg = ScheduleConfig(beta_schedule="linear", prediction_type="sample")
        for t0 in (999, 500, 37, 1):
            s = create_sampler("ddim", cfg, 1000, "leading")
            i = int(np.nonzero(s.timesteps == t0)[0][0])
            x = add_noise(s.alphas_cumprod, self.x0, self.noise, t0)
            out = s.step(self.x0, i, x)
            np.testing.assert_array_equal(out.pred_original_sample, self.x0)

    def test_dpm_requires_in_order_steps(self):
        s = create_sampler("dpmpp2m", ScheduleConfig(), 5, "trailing")
        x = np.zeros(4, np.float32)
        with self.assertRaisesRegex(ValueError, "out of order"):
            s.step(x, 1, x)

    def test_given_noise_drives_ddpm(self):
        s = create_sampler("ddpm", ScheduleConfig(prediction_type="sample"), 3, "leading")
        x = self.noise.copy()
        src = GivenNoise([np.ones(64), np.ones(64)])
        for i in range(3):
            x = s.step(self.x0, i, x, src).prev_sample
        self.assertEqual(src.used, 2)  # no noise on the last step


class GuidanceAndBlendTest(unittest.TestCase):
    def test_guidance(self):
        g = np.random.default_rng(3)
        out2 = g.standard_normal((4, 1, 2, 2)).astype(np.float32) * 1e3
        np.testing.assert_array_equal(combine_guidance(out2, 2, 1.0), out2[:2])
        np.testing.assert_allclose(combine_guidance(out2, 2, 0.0), out2[2:], atol=1e-3)
        np.testing.assert_allclose(combine_guidance(out2, 2, 3.0), out2[2:] + 3 * (out2[:2] - out2[2:]), rtol=1e-6)

    def test_blend_known_exact_with_null_t(self):
        g = np.random.default_rng(4)
        sample, known = g.standard_normal((2, 64)).astype(np.float32)
        mask = (np.arange(64) % 3 == 0).astype(np.float32)
        out = blend_known(sample, known, mask, make_alphas_cumprod(ScheduleConfig()), None, None)
        np.testing.assert_array_equal(out[mask == 1], known[mask == 1])
        np.testing.assert_array_equal(out[mask == 0], sample[mask == 0])


if __name__ == "__main__":
    unittest.main()
