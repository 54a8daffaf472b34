"""Write training/reference/sampler_reference.json: values the TypeScript core must reproduce.

    /usr/bin/python3 training/make_reference.py          # from the repository root

Contents (schema in the docstring of build_reference): schedule arrays from ddstudio.diffusion, timestep grids
from ddstudio.samplers.set_timesteps, and full sampling runs of every sampler x prediction type on a fixed
1x1x8x8 input with a fixed fake model (fake_model below; src/core/diffusion/parity.test.ts implements the same
function). Noise for DDPM, DDIM eta > 0, consistency sampling and the inpainting re-noise is drawn here from numpy, stored in the file
in the order it was consumed, and replayed by the TypeScript test, so no cross-language RNG is involved.
training/tests/test_reference.py regenerates this in memory and compares it with the committed file, so a
change to the training schedule that the browser does not follow fails a test.

Output is deterministic: sorted keys, compact separators, float64 values as Python repr (shortest
round-trip), float32 values as their shortest float32 decimal (numpy str).
"""
from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from ddstudio.diffusion import ScheduleConfig, make_alphas_cumprod, make_betas  # noqa: E402
from ddstudio.samplers import combine_guidance, create_sampler, guidance_applies, sample_loop, set_timesteps, target_from_x0  # noqa: E402

REFERENCE_PATH = HERE / "reference" / "sampler_reference.json"
FORMAT_VERSION = 1
SHAPE = (1, 1, 8, 8)
SIZE = 64

SCHEDULES = {
    "linear_1000": ScheduleConfig(num_train_timesteps=1000, beta_schedule="linear", prediction_type="epsilon"),
    "cosine_1000": ScheduleConfig(num_train_timesteps=1000, beta_schedule="squaredcos_cap_v2", prediction_type="epsilon"),
    "linear_37": ScheduleConfig(num_train_timesteps=37, beta_schedule="linear", beta_start=0.0005, beta_end=0.05,
                                prediction_type="epsilon"),
    "cosine_37": ScheduleConfig(num_train_timesteps=37, beta_schedule="squaredcos_cap_v2", prediction_type="epsilon"),
}

TIMESTEP_CASES = [
    (1000, 10), (1000, 1), (1000, 7), (1000, 50), (1000, 61), (1000, 250), (1000, 333),
    (100, 100), (37, 1), (37, 5), (37, 36), (37, 37), (15, 13), (17, 7), (2, 1), (2, 2),
]


def f32_list(a) -> list[float]:
    """float32 values as the shortest decimal that round-trips in float32 (numpy str), parsed to float."""
    return [float(str(np.float32(v))) for v in np.asarray(a, np.float32).ravel()]


def f64_list(a) -> list[float]:
    return [float(v) for v in np.asarray(a, np.float64).ravel()]


def fake_model(sample: np.ndarray, t: int, alpha_prod: float, prediction_type: str, phase: float = 0.0) -> np.ndarray:
    """A fixed stand-in for the network that behaves like a trained one: it "believes" in the clean image
    x0hat_i = 0.7 * sin(0.37 * i + phase) + 0.4 * x_i * cos(t / 300)   (i = flat index)
    and returns the matching target for prediction_type at alpha_bar = alpha_prod:
    epsilon (x - sqrt(a) x0hat) / sqrt(1 - a), v_prediction sqrt(a) eps - sqrt(1 - a) x0hat, sample x0hat.
    float64 math, float32 out. |x0hat| exceeds 1 in places, so clipping is exercised."""
    x = np.asarray(sample, np.float32).astype(np.float64).ravel()
    c = math.cos(t / 300)
    s = np.array([math.sin(0.37 * i + phase) for i in range(x.size)], dtype=np.float64)
    x0hat = 0.7 * s + 0.4 * x * c
    out = target_from_x0(prediction_type, x, x0hat, alpha_prod)
    return out.astype(np.float32).reshape(np.shape(sample))


def initial_sample() -> np.ndarray:
    return np.array([1.2 * math.sin(1.7 * i + 0.3) for i in range(SIZE)], np.float64).astype(np.float32).reshape(SHAPE)


def known_image() -> np.ndarray:
    return np.array([0.8 * math.cos(0.5 * i) for i in range(SIZE)], np.float64).astype(np.float32).reshape(SHAPE)


def keep_mask() -> np.ndarray:
    # columns 0-3 kept, column 4 half-kept (soft edge), columns 5-7 generated
    col = np.arange(SIZE) % 8
    return np.where(col < 4, 1.0, np.where(col == 4, 0.5, 0.0)).astype(np.float32).reshape(SHAPE)


class RecordingNoise:
    """Draws from a seeded numpy Generator and records every array (float32) in consumption order."""

    def __init__(self, seed: int):
        self._gen = np.random.default_rng(seed)
        self.drawn: list[np.ndarray] = []

    def standard_normal(self, size):
        a = self._gen.standard_normal(size).astype(np.float32)
        self.drawn.append(a)
        return a


# name, sampler, schedule key, prediction type, N, spacing, eta, clip, guidance scale, inpaint[, guidance interval]
RUNS = [
    ("ddim_eps_linear", "ddim", "linear_1000", "epsilon", 8, "leading", 0.0, False, None, False),
    ("ddim_v_cosine", "ddim", "cosine_1000", "v_prediction", 8, "trailing", 0.0, False, None, False),
    ("ddim_x0_linear", "ddim", "linear_1000", "sample", 6, "linspace", 0.0, False, None, False),
    ("ddim_eps_cosine_eta", "ddim", "cosine_1000", "epsilon", 6, "trailing", 0.7, False, None, False),
    ("ddim_eps_cosine_clip", "ddim", "cosine_1000", "epsilon", 6, "trailing", 0.0, True, None, False),
    ("dpmpp2m_eps_linear", "dpmpp2m", "linear_1000", "epsilon", 8, "linspace", 0.0, False, None, False),
    ("dpmpp2m_v_cosine", "dpmpp2m", "cosine_1000", "v_prediction", 8, "trailing", 0.0, False, None, False),
    ("dpmpp2m_x0_cosine", "dpmpp2m", "cosine_1000", "sample", 6, "leading", 0.0, False, None, False),
    ("dpmpp2m_eps_cosine_clip", "dpmpp2m", "cosine_1000", "epsilon", 6, "trailing", 0.0, True, None, False),
    ("dpmpp2m_v_cosine37_cfg", "dpmpp2m", "cosine_37", "v_prediction", 7, "trailing", 0.0, False, 2.5, False),
    ("ddpm_eps_linear", "ddpm", "linear_1000", "epsilon", 6, "leading", 0.0, False, None, False),
    ("ddpm_v_cosine", "ddpm", "cosine_1000", "v_prediction", 6, "trailing", 0.0, False, None, False),
    ("ddpm_x0_linear37_clip", "ddpm", "linear_37", "sample", 5, "linspace", 0.0, True, None, False),
    ("ddim_v_cosine_inpaint_cfg", "ddim", "cosine_1000", "v_prediction", 6, "trailing", 0.0, False, 3.0, True),
    ("ddpm_eps_linear_inpaint", "ddpm", "linear_1000", "epsilon", 5, "leading", 0.0, True, None, True),
    # the default model's sampling configuration (DPM-Solver++ 2M, v-prediction, cosine, linspace: starts at T-1, ends at 0)
    ("dpmpp2m_v_cosine_linspace_cfg", "dpmpp2m", "cosine_1000", "v_prediction", 8, "linspace", 0.0, False, 2.0, False),
    # guidance only at noise levels in (0.28, 5.42]: the first and last steps use the conditional output alone
    ("dpmpp2m_v_cosine_linspace_cfg_interval", "dpmpp2m", "cosine_1000", "v_prediction", 8, "linspace", 0.0, False, 2.0, False,
     (0.28, 5.42)),
    # multistep consistency sampling of a distilled student (the student's default: 4 trailing steps, no guidance)
    ("consistency_v_cosine_trailing", "consistency", "cosine_1000", "v_prediction", 4, "trailing", 0.0, False, None, False),
    ("consistency_eps_linear_clip", "consistency", "linear_1000", "epsilon", 3, "leading", 0.0, True, None, False),
    ("consistency_v_cosine_inpaint", "consistency", "cosine_1000", "v_prediction", 4, "trailing", 0.0, False, None, True),
    ("consistency_v_cosine_one_step", "consistency", "cosine_1000", "v_prediction", 1, "trailing", 0.0, False, None, False),
]


def run_case(spec, seed: int) -> dict:
    name, sampler_name, sched_key, pred, n, spacing, eta, clip, scale, inpaint = spec[:10]
    interval = spec[10] if len(spec) > 10 else None
    base = SCHEDULES[sched_key]
    schedule = ScheduleConfig(num_train_timesteps=base.num_train_timesteps, beta_schedule=base.beta_schedule,
                              beta_start=base.beta_start, beta_end=base.beta_end, prediction_type=pred)
    sampler = create_sampler(sampler_name, schedule, n, spacing, eta=eta, clip_sample=clip, clip_sample_range=1.0)
    rng = RecordingNoise(seed)
    known, mask = (known_image(), keep_mask()) if inpaint else (None, None)
    samples, preds = [], []

    def model_fn(x, t):
        a = float(sampler.alphas_cumprod[t])
        if scale is None or not guidance_applies(a, interval):
            return fake_model(x, t, a, pred)
        both = np.concatenate([fake_model(x, t, a, pred, phase=0.0), fake_model(x, t, a, pred, phase=1.0)], axis=0)
        return combine_guidance(both, 1, scale)

    def record(i, t, out, x):
        samples.append(f32_list(x))
        preds.append(f32_list(out.pred_original_sample))

    sample_loop(sampler, model_fn, initial_sample(), rng, known=known, keep_mask=mask, callback=record)
    return {
        "name": name,
        "sampler": sampler_name,
        "schedule": schedule.to_dict(),
        "num_inference_steps": n,
        "timestep_spacing": spacing,
        "eta": eta,
        "clip_sample": clip,
        "clip_sample_range": 1.0,
        "guidance_scale": scale,
        "guidance_interval": list(interval) if interval else None,
        "inpaint": {"known": f32_list(known), "keep_mask": f32_list(mask)} if inpaint else None,
        "timesteps": [int(v) for v in sampler.timesteps],
        "noise": [f32_list(a) for a in rng.drawn],
        "samples": samples,
        "pred_original_samples": preds,
    }


def build_reference() -> dict:
    """Schema (all keys sorted in the file):

    {
      "format_version": 1,
      "shape": [1, 1, 8, 8],
      "fake_model": str,                         # formula, see fake_model()
      "x_T": [64 float32],                       # initial sample, row-major
      "schedules": [{"name": str, "config": ScheduleConfig.to_dict(), "betas": [T float64],
                     "alphas_cumprod": [T float64]}],
      "timesteps": [{"num_train_timesteps": int, "num_inference_steps": int, "timestep_spacing": str,
                     "timesteps": [N int]}],
      "runs": [{"name", "sampler": "ddpm"|"ddim"|"dpmpp2m"|"consistency", "schedule": config dict, "num_inference_steps",
                "timestep_spacing", "eta", "clip_sample", "clip_sample_range",
                "guidance_scale": float|null,     # null: model_output = fake_model(x, t, phase 0); else CFG
                                                  # of [phase 0 ; phase 1] outputs with this scale
                "guidance_interval": null | [low, high],  # CFG only where sigma_t is in (low, high]; phase 0 elsewhere
                "inpaint": null | {"known": [64], "keep_mask": [64]},
                "timesteps": [N int],
                "noise": [[64 float32], ...],     # every standard-normal draw, in consumption order
                                                  # (the step's own noise first, then the blend's re-noise)
                "samples": [N x [64 float32]],    # x after step i (after blend_known when inpainting)
                "pred_original_samples": [N x [64 float32]]}]
    }
    """
    schedules = []
    for name, cfg in SCHEDULES.items():
        schedules.append({"name": name, "config": cfg.to_dict(), "betas": f64_list(make_betas(cfg)),
                          "alphas_cumprod": f64_list(make_alphas_cumprod(cfg))})
    timesteps = []
    for T, N in TIMESTEP_CASES:
        for spacing in ("leading", "trailing", "linspace"):
            timesteps.append({"num_train_timesteps": T, "num_inference_steps": N, "timestep_spacing": spacing,
                              "timesteps": [int(v) for v in set_timesteps(T, N, spacing)]})
    runs = [run_case(spec, seed=1000 + k) for k, spec in enumerate(RUNS)]
    return {
        "format_version": FORMAT_VERSION,
        "shape": list(SHAPE),
        "fake_model": ("x0hat = 0.7 * sin(0.37 * i + phase) + 0.4 * x * cos(t / 300); output = float32(target for "
                       "prediction_type at alpha_bar_t given x0hat); float64 math, i = flat index"),
        "x_T": f32_list(initial_sample()),
        "schedules": schedules,
        "timesteps": timesteps,
        "runs": runs,
    }


def dumps_reference(ref: dict) -> str:
    return json.dumps(ref, sort_keys=True, separators=(",", ":"), allow_nan=False) + "\n"


def main() -> None:
    text = dumps_reference(build_reference())
    REFERENCE_PATH.parent.mkdir(parents=True, exist_ok=True)
    REFERENCE_PATH.write_text(text, encoding="utf-8")
    print(f"wrote {REFERENCE_PATH} ({len(text.encode()) / 1024:.1f} KiB)")


if __name__ == "__main__":
    main()
