"""Noise schedules and the training objective.

Names follow huggingface/diffusers (snake_case here, camelCase in src/core/schedule.ts) so the two can be
read side by side: num_train_timesteps, beta_schedule, alphas_cumprod, prediction_type.

Schedules are computed in float64; the TypeScript core computes the same arrays in float64 and the parity
test (src/core/parity.test.ts) checks them against reference values this module writes.

References
- DDPM, Ho et al. 2020, arXiv:2006.11239: linear betas, eq. (4) q(x_t | x_0).
- Improved DDPM, Nichol & Dhariwal 2021, arXiv:2102.09672, eq. (17): cosine alpha_bar ("squaredcos_cap_v2").
- v-prediction, Salimans & Ho 2022, arXiv:2202.00512, sec. 4: v = alpha_t * eps - sigma_t * x0.
- Min-SNR weighting, Hang et al. 2023, arXiv:2303.09556, eq. (9) (gamma = 5).

Notation: alpha_t = sqrt(alphas_cumprod[t]), sigma_t = sqrt(1 - alphas_cumprod[t]), snr_t = alpha_t^2 / sigma_t^2.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, asdict

import numpy as np
import torch

BETA_SCHEDULES = ("linear", "squaredcos_cap_v2")
PREDICTION_TYPES = ("epsilon", "v_prediction", "sample")


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

    def __init__(self, cfg: ScheduleConfig, min_snr_gamma: float | None = 5.0):
        if cfg.prediction_type not in PREDICTION_TYPES:
            raise ValueError(f"prediction_type '{cfg.prediction_type}' is not supported; accepted: {', '.join(PREDICTION_TYPES)}")
        self.cfg = cfg
        self.min_snr_gamma = min_snr_gamma
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
        clipped = torch.clamp(snr, max=self.min_snr_gamma)
        p = self.cfg.prediction_type
        if p == "epsilon":
            return clipped / snr
        if p == "v_prediction":
            return clipped / (snr + 1)
        return clipped

    def training_loss(self, model, x0: torch.Tensor, model_kwargs: dict, generator: torch.Generator | None = None):
        b = x0.shape[0]
        t = torch.randint(0, self.cfg.num_train_timesteps, (b,), device=x0.device, generator=generator)
        noise = torch.randn(x0.shape, device=x0.device, generator=generator)
        x_t = self.q_sample(x0, t, noise)
        out = model(x_t, t.float(), **model_kwargs)
        per = ((out - self.target(x0, t, noise)) ** 2).mean(dim=(1, 2, 3))
        return (per * self.loss_weights(t)).mean(), per.detach()
