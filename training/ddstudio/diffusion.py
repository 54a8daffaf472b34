"""Noise schedules and the training objective.

Names follow huggingface/diffusers (snake_case here, camelCase in src/core/diffusion/schedule.ts) so the two can be
read side by side: num_train_timesteps, beta_schedule, alphas_cumprod, prediction_type.

Schedules are computed in float64; the TypeScript core computes the same arrays in float64 and the parity
test (src/core/diffusion/parity.test.ts) checks them against reference values this module writes.

References
- DDPM, Ho et al. 2020, arXiv:2006.11239: linear betas, eq. (4) q(x_t | x_0).
- Improved DDPM, Nichol & Dhariwal 2021, arXiv:2102.09672, eq. (17): cosine alpha_bar ("squaredcos_cap_v2").
- v-prediction, Salimans & Ho 2022, arXiv:2202.00512, sec. 4: v = alpha_t * eps - sigma_t * x0.
- Min-SNR weighting, Hang et al. 2023, arXiv:2303.09556, eq. (9) (gamma = 5).
- "SNR+1" weighting, Salimans & Ho 2022, sec. 4 (the weight on the x0 error that a plain v-prediction loss
  implies); "min_snr_plus_one" below is that weight truncated at gamma + 1.

Notation: alpha_t = sqrt(alphas_cumprod[t]), sigma_t = sqrt(1 - alphas_cumprod[t]), snr_t = alpha_t^2 / sigma_t^2.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, asdict

import numpy as np
import torch

BETA_SCHEDULES = ("linear", "squaredcos_cap_v2")
PREDICTION_TYPES = ("epsilon", "v_prediction", "sample")
# Weight on the x0 error, w_x0(t), for the two choices (with gamma = min_snr_gamma):
#   min_snr:          min(snr, gamma)      (Hang et al.; equal to an unweighted epsilon loss at low SNR)
#   min_snr_plus_one: min(snr, gamma) + 1  (equal to an unweighted v loss at low SNR)
# At the noisiest timesteps snr -> 0, so min_snr gives them almost no weight (snr 0.006 at t = 950 of a cosine
# schedule): the steps that set a window's overall brightness and layout. The +1 keeps their weight at that of a
# plain v-prediction loss; where snr >= gamma it raises the weight by 1 / gamma (20% at gamma 5).
LOSS_WEIGHTINGS = ("min_snr", "min_snr_plus_one")


@dataclass
class ScheduleConfig:
    num_train_timesteps: int = 1000
    beta_schedule: str = "squaredcos_cap_v2"
    beta_start: float = 0.0001
    beta_end: float = 0.02
    prediction_type: str = "v_prediction"

    def to_dict(self) -> dict:
        return asdict(self)


def make_betas(cfg: ScheduleConfig) -> np.ndarray:
    """float64 betas, shape (num_train_timesteps,)."""
    n = cfg.num_train_timesteps
    if n < 2:
        raise ValueError(f"num_train_timesteps must be >= 2, got {n}")
    if cfg.beta_schedule == "linear":
        return np.linspace(cfg.beta_start, cfg.beta_end, n, dtype=np.float64)
    if cfg.beta_schedule == "squaredcos_cap_v2":
        def alpha_bar(t: float) -> float:
            return math.cos((t + 0.008) / 1.008 * math.pi / 2) ** 2
        betas = [min(1.0 - alpha_bar((i + 1) / n) / alpha_bar(i / n), 0.999) for i in range(n)]
        return np.asarray(betas, dtype=np.float64)
    raise ValueError(f"beta_schedule '{cfg.beta_schedule}' is not supported; accepted: {', '.join(BETA_SCHEDULES)}")


def make_alphas_cumprod(cfg: ScheduleConfig) -> np.ndarray:
    return np.cumprod(1.0 - make_betas(cfg))


class GaussianDiffusion:
    """Forward process and loss. The network is passed in, never stored (improved-diffusion style)."""

    def __init__(self, cfg: ScheduleConfig, min_snr_gamma: float | None = 5.0, loss_weighting: str = "min_snr"):
        if cfg.prediction_type not in PREDICTION_TYPES:
            raise ValueError(f"prediction_type '{cfg.prediction_type}' is not supported; accepted: {', '.join(PREDICTION_TYPES)}")
        if loss_weighting not in LOSS_WEIGHTINGS:
            raise ValueError(f"loss_weighting '{loss_weighting}' is not supported; accepted: {', '.join(LOSS_WEIGHTINGS)}")
        self.cfg = cfg
        self.min_snr_gamma = min_snr_gamma
        self.loss_weighting = loss_weighting
        ac = make_alphas_cumprod(cfg)
        self.alphas_cumprod = torch.from_numpy(ac).float()
        self.snr = torch.from_numpy(ac / (1.0 - ac)).float()

    def q_sample(self, x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        ac = self.alphas_cumprod.to(x0.device)[t].view(-1, 1, 1, 1)
        return ac.sqrt() * x0 + (1 - ac).sqrt() * noise

    def target(self, x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        p = self.cfg.prediction_type
        if p == "epsilon":
            return noise
        if p == "sample":
            return x0
        ac = self.alphas_cumprod.to(x0.device)[t].view(-1, 1, 1, 1)
        return ac.sqrt() * noise - (1 - ac).sqrt() * x0

    def loss_weights(self, t: torch.Tensor) -> torch.Tensor:
        if self.min_snr_gamma is None:
            return torch.ones_like(t, dtype=torch.float32)
        snr = self.snr.to(t.device)[t]
        w_x0 = torch.clamp(snr, max=self.min_snr_gamma)
        if self.loss_weighting == "min_snr_plus_one":
            w_x0 = w_x0 + 1
        # The model's loss is on its own target; the x0 error is that error times a per-timestep factor:
        # epsilon: |eps err|^2 = snr |x0 err|^2; v: |v err|^2 = (snr + 1) |x0 err|^2.
        p = self.cfg.prediction_type
        if p == "epsilon":
            return w_x0 / snr
        if p == "v_prediction":
            return w_x0 / (snr + 1)
        return w_x0

    def training_loss(self, model, x0: torch.Tensor, model_kwargs: dict, generator: torch.Generator | None = None):
        b = x0.shape[0]
        t = torch.randint(0, self.cfg.num_train_timesteps, (b,), device=x0.device, generator=generator)
        noise = torch.randn(x0.shape, device=x0.device, generator=generator)
        x_t = self.q_sample(x0, t, noise)
        out = model(x_t, t.float(), **model_kwargs)
        per = ((out - self.target(x0, t, noise)) ** 2).mean(dim=(1, 2, 3))
        return (per * self.loss_weights(t)).mean(), per.detach()
