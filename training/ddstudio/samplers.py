"""Samplers (DDPM, DDIM, DPM-Solver++(2M)), timestep grids, classifier-free guidance and inpainting blend.

numpy mirror of src/core/ (schedule.ts setTimesteps, samplers/*.ts, guidance.ts, inpaint.ts): the same names
in snake_case (num_inference_steps, timestep_spacing, model_output, prev_sample, pred_original_sample) and
the same floating-point expressions in the same order, so training/make_reference.py can write trajectories
the TypeScript tests (src/core/diffusion/parity.test.ts) match. Evaluation scripts use it to sample from a model in
Python. The schedule itself comes from ddstudio.diffusion (make_alphas_cumprod), never re-derived here.

Conventions: schedules float64; samples and model outputs float32; each step computes in float64 and rounds
the new sample to float32 once. A training timestep (0..T-1) and a loop index (0..N-1) are different things:
`timesteps[loop_index]` is the model's time input at that step.

Papers, equation numbers and notation tables are in the TypeScript files (one per algorithm):
- DDPM: Ho et al. 2020, arXiv:2006.11239, eqs. (6), (7), (15); sub-grids per Nichol & Dhariwal 2021,
  arXiv:2102.09672, sec. 4.
- DDIM: Song et al. 2020, arXiv:2010.02502, eqs. (12), (16).
- DPM-Solver++(2M): Lu et al. 2022, arXiv:2211.01095, Algorithm 2; final step to sigma = 0.
- Multistep consistency sampling: Song et al. 2023, arXiv:2303.01469, Algorithm 1 (distilled students).
- CFG: Ho & Salimans 2022, arXiv:2207.12598, eq. (6). RePaint blend: Lugmayr et al. 2022, arXiv:2201.09865, eq. (8).

Deliberate differences from diffusers (same in TypeScript, documented there): DDIM steps to the next grid
timestep instead of t - T // N; DDPM adds no noise on the last step; trailing grids keep exactly N values; DPM++
uses float64 alpha/sigma and expm1.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Protocol

import numpy as np

from .diffusion import PREDICTION_TYPES, ScheduleConfig, make_alphas_cumprod

TIMESTEP_SPACINGS = ("leading", "trailing", "linspace")
SAMPLER_NAMES = ("ddpm", "ddim", "dpmpp2m", "consistency")


class NoiseSource(Protocol):
    """numpy.random.Generator satisfies this; GivenNoise replays recorded noise."""

    def standard_normal(self, size) -> np.ndarray: ...


class GivenNoise:
    """Returns pre-recorded noise arrays in order (for reference runs and tests)."""

    def __init__(self, arrays):
        self._arrays = [np.asarray(a, dtype=np.float32) for a in arrays]
        self.used = 0

    def standard_normal(self, size) -> np.ndarray:
        if self.used >= len(self._arrays):
            raise IndexError(f"GivenNoise exhausted after {self.used} draws")
        a = self._arrays[self.used]
        self.used += 1
        return a.reshape(size)


def _gaussian_f32(rng: NoiseSource, shape) -> np.ndarray:
    return np.asarray(rng.standard_normal(shape)).astype(np.float32)


# ---------------------------------------------------------------------------------------------------------
# Timesteps
# ---------------------------------------------------------------------------------------------------------

def set_timesteps(num_train_timesteps: int, num_inference_steps: int, timestep_spacing: str) -> np.ndarray:
    """diffusers DDIMScheduler.set_timesteps (steps_offset 0) as int64, strictly descending, length N.

    leading:  T=1000, N=10 -> 900, 800, ..., 0
    trailing: T=1000, N=10 -> 999, 899, ..., 99
    linspace: T=1000, N=10 -> 999, 888, ..., 0
    For trailing, numpy.arange with a fractional step sometimes returns N+1 values (e.g. T=1000, N=61) and
    diffusers then ends on timestep -1; we keep the first N.
    """
    T, N = num_train_timesteps, num_inference_steps
    if not isinstance(T, (int, np.integer)) or isinstance(T, bool) or T < 2:
        raise ValueError(f"num_train_timesteps {T!r} is invalid; accepted: integers >= 2")
    if not isinstance(N, (int, np.integer)) or isinstance(N, bool) or N < 1 or N > T:
        raise ValueError(f"num_inference_steps {N!r} is invalid; accepted: integers in [1, {T}]")
    if timestep_spacing == "leading":
        step_ratio = T // N
        ts = (np.arange(0, N) * step_ratio).round()[::-1].copy().astype(np.int64)
    elif timestep_spacing == "trailing":
        step_ratio = T / N
        ts = np.round(np.arange(T, 0, -step_ratio)).astype(np.int64)[:N] - 1
    elif timestep_spacing == "linspace":
        ts = np.linspace(0, T - 1, N).round()[::-1].copy().astype(np.int64)
    else:
        raise ValueError(f"timestep_spacing {timestep_spacing!r} is not supported; accepted: {', '.join(TIMESTEP_SPACINGS)}")
    return ts


# ---------------------------------------------------------------------------------------------------------
# Shared math
# ---------------------------------------------------------------------------------------------------------

@dataclass
class StepOutput:
    prev_sample: np.ndarray  # float32
    pred_original_sample: np.ndarray  # float32


def add_noise(alphas_cumprod: np.ndarray, x0: np.ndarray, noise: np.ndarray, t: int) -> np.ndarray:
    """q_sample, Ho et al. eq. (4), float32 out."""
    a = float(alphas_cumprod[t])
    sa, sb = math.sqrt(a), math.sqrt(1.0 - a)
    return (sa * np.asarray(x0, np.float64) + sb * np.asarray(noise, np.float64)).astype(np.float32)


def target_from_x0(prediction_type: str, sample: np.ndarray, x0: np.ndarray, alpha_prod: float) -> np.ndarray:
    """The exact model output (float64) for sample x_t when the clean image is x0: eps, v or x0 itself.
    The inverse of predict_x0; used by the reference fake model and by the oracle tests."""
    sa, sb = math.sqrt(alpha_prod), math.sqrt(1.0 - alpha_prod)
    x, x0 = np.asarray(sample, np.float64), np.asarray(x0, np.float64)
    eps = (x - sa * x0) / sb
    if prediction_type == "epsilon":
        return eps
    if prediction_type == "v_prediction":
        return sa * eps - sb * x0
    return x0


def predict_x0(prediction_type: str, model_output: np.ndarray, sample: np.ndarray, alpha_prod: float) -> np.ndarray:
    """x0 in float64 from a float32 model output at alpha_bar = alpha_prod."""
    m = np.asarray(model_output, np.float32).astype(np.float64)
    x = np.asarray(sample, np.float32).astype(np.float64)
    if m.shape != x.shape:
        raise ValueError(f"model_output shape {m.shape} does not match sample shape {x.shape}")
    alpha, sigma = math.sqrt(alpha_prod), math.sqrt(1.0 - alpha_prod)
    if prediction_type == "epsilon":
        return (x - sigma * m) / alpha
    if prediction_type == "v_prediction":
        return alpha * x - sigma * m
    if prediction_type == "sample":
        return m.copy()
    raise ValueError(f"prediction_type {prediction_type!r} is not supported; accepted: {', '.join(PREDICTION_TYPES)}")


class _SamplerBase:
    def __init__(self, schedule: ScheduleConfig, num_inference_steps: int, timestep_spacing: str,
                 clip_sample: bool = False, clip_sample_range: float = 1.0):
        if schedule.prediction_type not in PREDICTION_TYPES:
            raise ValueError(f"prediction_type {schedule.prediction_type!r} is not supported; accepted: {', '.join(PREDICTION_TYPES)}")
        self.config = schedule
        self.alphas_cumprod = make_alphas_cumprod(schedule)
        self.timesteps = set_timesteps(schedule.num_train_timesteps, num_inference_steps, timestep_spacing)
        self.num_inference_steps = len(self.timesteps)
        if clip_sample and not (math.isfinite(clip_sample_range) and clip_sample_range > 0):
            raise ValueError(f"clip_sample_range {clip_sample_range!r} is invalid; accepted: a finite number > 0")
        self.clip_range = float(clip_sample_range) if clip_sample else None

    def _positions(self, loop_index: int):
        if not (0 <= loop_index < self.num_inference_steps):
            raise ValueError(f"loop index {loop_index} is invalid; accepted: integers in [0, {self.num_inference_steps - 1}]")
        t = int(self.timesteps[loop_index])
        prev_t = int(self.timesteps[loop_index + 1]) if loop_index + 1 < self.num_inference_steps else None
        return t, prev_t

    def _alpha_prod(self, t):
        return 1.0 if t is None else float(self.alphas_cumprod[t])

    def _x0(self, model_output, sample, alpha_prod):
        x0 = predict_x0(self.config.prediction_type, model_output, sample, alpha_prod)
        return x0

    def _clip(self, x0):
        if self.clip_range is not None:
            np.clip(x0, -self.clip_range, self.clip_range, out=x0)
        return x0


class DDPMSampler(_SamplerBase):
    def step(self, model_output, loop_index: int, sample, rng: NoiseSource | None = None) -> StepOutput:
        t, prev_t = self._positions(loop_index)
        alpha_prod = self._alpha_prod(t)
        alpha_prod_prev = self._alpha_prod(prev_t)
        beta_prod = 1.0 - alpha_prod
        beta_prod_prev = 1.0 - alpha_prod_prev
        current_alpha = alpha_prod / alpha_prod_prev
        current_beta = 1.0 - current_alpha
        x = np.asarray(sample, np.float32).astype(np.float64)
        x0 = self._clip(self._x0(model_output, sample, alpha_prod))
        x0_coeff = (math.sqrt(alpha_prod_prev) * current_beta) / beta_prod
        sample_coeff = (math.sqrt(current_alpha) * beta_prod_prev) / beta_prod
        prev = x0_coeff * x0 + sample_coeff * x
        if prev_t is not None:
            if rng is None:
                raise ValueError("DDPM needs a noise source (rng) for every step but the last")
            noise = _gaussian_f32(rng, x.shape)
            std = math.sqrt(max((beta_prod_prev / beta_prod) * current_beta, 1e-20))
            prev = prev + std * noise.astype(np.float64)
        return StepOutput(prev.astype(np.float32), x0.astype(np.float32))


class DDIMSampler(_SamplerBase):
    def __init__(self, schedule, num_inference_steps, timestep_spacing, eta: float = 0.0, **kw):
        super().__init__(schedule, num_inference_steps, timestep_spacing, **kw)
        if not (math.isfinite(eta) and 0.0 <= eta <= 1.0):
            raise ValueError(f"eta {eta!r} is invalid; accepted: a number in [0, 1]")
        self.eta = float(eta)

    def step(self, model_output, loop_index: int, sample, rng: NoiseSource | None = None) -> StepOutput:
        t, prev_t = self._positions(loop_index)
        alpha_prod = self._alpha_prod(t)
        alpha_prod_prev = self._alpha_prod(prev_t)
        beta_prod = 1.0 - alpha_prod
        m = np.asarray(model_output, np.float32).astype(np.float64)
        x = np.asarray(sample, np.float32).astype(np.float64)
        x0 = self._x0(model_output, sample, alpha_prod)
        sa, sb = math.sqrt(alpha_prod), math.sqrt(beta_prod)
        p = self.config.prediction_type
        if p == "epsilon":
            eps = m
        elif p == "v_prediction":
            eps = sa * m + sb * x
        else:
            eps = (x - sa * x0) / sb
        x0 = self._clip(x0)
        variance = ((1.0 - alpha_prod_prev) / beta_prod) * (1.0 - alpha_prod / alpha_prod_prev)
        std_dev_t = self.eta * math.sqrt(variance)
        dir_coeff = math.sqrt(max(0.0, 1.0 - alpha_prod_prev - std_dev_t * std_dev_t))
        x0_coeff = math.sqrt(alpha_prod_prev)
        prev = x0_coeff * x0 + dir_coeff * eps
        if self.eta > 0:
            if rng is None:
                raise ValueError("DDIM with eta > 0 needs a noise source (rng)")
            prev = prev + std_dev_t * _gaussian_f32(rng, x.shape).astype(np.float64)
        return StepOutput(prev.astype(np.float32), x0.astype(np.float32))


class DPMSolverMultistepSampler(_SamplerBase):
    """DPM-Solver++(2M), final step to sigma = 0. Holds the x0 history: one instance per job."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self._prev_x0 = None
        self._steps_taken = 0

    def _lambda(self, t: int) -> float:
        a = self._alpha_prod(t)
        return math.log(math.sqrt(a)) - math.log(math.sqrt(1.0 - a))

    def step(self, model_output, loop_index: int, sample, rng: NoiseSource | None = None) -> StepOutput:
        if loop_index != self._steps_taken:
            raise ValueError(f"loop index {loop_index} is out of order; accepted: {self._steps_taken}")
        t, prev_t = self._positions(loop_index)
        x = np.asarray(sample, np.float32).astype(np.float64)
        m0 = self._clip(self._x0(model_output, sample, self._alpha_prod(t)))
        if prev_t is None:
            prev = m0
        else:
            a_s, a_t = self._alpha_prod(t), self._alpha_prod(prev_t)
            alpha_t, sigma_t, sigma_s = math.sqrt(a_t), math.sqrt(1.0 - a_t), math.sqrt(1.0 - a_s)
            lambda_s0 = self._lambda(t)
            h = self._lambda(prev_t) - lambda_s0
            ratio = sigma_t / sigma_s
            phi = alpha_t * math.expm1(-h)
            if self._prev_x0 is None:
                prev = ratio * x - phi * m0
            else:
                h0 = lambda_s0 - self._lambda(int(self.timesteps[loop_index - 1]))
                r0 = h0 / h
                d1 = (1.0 / r0) * (m0 - self._prev_x0)
                prev = ratio * x - phi * m0 - 0.5 * phi * d1
        self._prev_x0 = m0
        self._steps_taken += 1
        return StepOutput(np.asarray(prev).astype(np.float32), m0.astype(np.float32))


class ConsistencySampler(_SamplerBase):
    """Multistep consistency sampling (src/core/diffusion/samplers/consistency.ts): x0 = f(x_t, t), then re-noised to the
    next grid timestep with fresh noise; x0 itself after the last grid point."""

    def step(self, model_output, loop_index: int, sample, rng: NoiseSource | None = None) -> StepOutput:
        t, prev_t = self._positions(loop_index)
        x0 = self._clip(self._x0(model_output, sample, self._alpha_prod(t)))
        if prev_t is None:
            return StepOutput(x0.astype(np.float32), x0.astype(np.float32))
        if rng is None:
            raise ValueError("consistency sampling needs a noise source (rng) for every step but the last")
        a = self._alpha_prod(prev_t)
        noise = _gaussian_f32(rng, np.shape(sample)).astype(np.float64)
        prev = math.sqrt(a) * x0 + math.sqrt(1.0 - a) * noise
        return StepOutput(prev.astype(np.float32), x0.astype(np.float32))


def create_sampler(name: str, schedule: ScheduleConfig, num_inference_steps: int, timestep_spacing: str,
                   eta: float = 0.0, clip_sample: bool = False, clip_sample_range: float = 1.0):
    kw = dict(clip_sample=clip_sample, clip_sample_range=clip_sample_range)
    if name == "ddpm":
        return DDPMSampler(schedule, num_inference_steps, timestep_spacing, **kw)
    if name == "ddim":
        return DDIMSampler(schedule, num_inference_steps, timestep_spacing, eta=eta, **kw)
    if name == "dpmpp2m":
        return DPMSolverMultistepSampler(schedule, num_inference_steps, timestep_spacing, **kw)
    if name == "consistency":
        return ConsistencySampler(schedule, num_inference_steps, timestep_spacing, **kw)
    raise ValueError(f"sampler {name!r} is not supported; accepted: {', '.join(SAMPLER_NAMES)}")


# ---------------------------------------------------------------------------------------------------------
# Guidance and inpainting
# ---------------------------------------------------------------------------------------------------------

def combine_guidance(output_2b: np.ndarray, batch: int, scale: float) -> np.ndarray:
    """uncond + scale * (cond - uncond) for a [B cond ; B uncond] model output; scale 1 returns cond exactly."""
    out = np.asarray(output_2b, np.float32)
    if out.shape[0] != 2 * batch:
        raise ValueError(f"model output batch {out.shape[0]} is not 2 * batch = {2 * batch}")
    cond, uncond = out[:batch], out[batch:]
    if scale == 1:
        return cond.copy()
    u = uncond.astype(np.float64)
    return (u + scale * (cond.astype(np.float64) - u)).astype(np.float32)


def guidance_applies(alpha_cumprod: float, interval: tuple[float, float] | None) -> bool:
    """Guidance in a limited interval (Kynkaanniemi et al. 2024, arXiv:2404.07724): only where the noise level
    sigma = sqrt((1 - alpha_bar) / alpha_bar) is in (low, high]; None = every step. Mirrors guidanceApplies."""
    if interval is None:
        return True
    sigma = np.sqrt((1.0 - alpha_cumprod) / alpha_cumprod)
    return bool(interval[0] < sigma <= interval[1])


def blend_known(sample, known, keep_mask, alphas_cumprod, t, noise) -> np.ndarray:
    """RePaint eq. (8): keep_mask=1 -> known re-noised to timestep t (t None -> known exactly), 0 -> sample."""
    x = np.asarray(sample, np.float32)
    k = np.asarray(known, np.float32).astype(np.float64)
    m = np.asarray(keep_mask, np.float32).astype(np.float64)
    if k.shape != x.shape or m.shape != x.shape:
        raise ValueError(f"sample, known and keep_mask shapes must match; got {x.shape}, {k.shape}, {m.shape}")
    if np.any(~((m >= 0) & (m <= 1))):
        raise ValueError("keep_mask values must be in [0, 1]")
    if t is not None:
        if noise is None:
            raise ValueError("noise is required when t is not None")
        a = float(alphas_cumprod[t])
        k = math.sqrt(a) * k + math.sqrt(1.0 - a) * np.asarray(noise, np.float32).astype(np.float64)
    s = x.astype(np.float64)
    blended = np.where(m == 1, k, np.where(m == 0, s, m * k + (1 - m) * s))
    return blended.astype(np.float32)


def sample_loop(sampler, model_fn: Callable[[np.ndarray, int], np.ndarray], sample: np.ndarray, rng: NoiseSource,
                known: np.ndarray | None = None, keep_mask: np.ndarray | None = None, callback=None) -> np.ndarray:
    """The loop written out once: model_fn(sample, t) -> model output (apply CFG inside model_fn).

    With known/keep_mask, the known region is re-noised to the next sample's timestep after each step (noise
    drawn from rng after the step's own noise) and pasted exactly after the last step.
    """
    x = np.asarray(sample, np.float32)
    n = sampler.num_inference_steps
    for i in range(n):
        t = int(sampler.timesteps[i])
        out = sampler.step(np.asarray(model_fn(x, t), np.float32), i, x, rng)
        x = out.prev_sample
        if known is not None:
            next_t = int(sampler.timesteps[i + 1]) if i + 1 < n else None
            noise = _gaussian_f32(rng, x.shape) if next_t is not None else None
            x = blend_known(x, known, keep_mask, sampler.alphas_cumprod, next_t, noise)
        if callback is not None:
            callback(i, t, out, x)
    return x
