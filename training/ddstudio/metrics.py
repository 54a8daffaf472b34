"""Sample-quality measures on classifier features and pixels (numpy only, float64 inside).

- KID (Binkowski et al. 2018, "Demystifying MMD GANs", arXiv:1801.01401): unbiased MMD^2 with the polynomial
  kernel k(x, y) = (x.y / d + 1)^3, averaged over random subsets (mean and std over subsets).
- Diversity: mean pairwise L2 distance within a set.
- Nearest-neighbour distances (memorisation check).
- High-frequency energy: mean absolute 4-neighbour Laplacian over interior pixels.
- Mask contrast: mean pixel value in a ring around the defect mask minus the mean inside it (positive: the
  masked region is darker than its surroundings), i.e. whether the defect sits where the mask says.
"""
from __future__ import annotations

import numpy as np


def poly_kernel(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    d = x.shape[1]
    return (np.asarray(x, np.float64) @ np.asarray(y, np.float64).T / d + 1.0) ** 3


def mmd2_unbiased(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased MMD^2: mean of k(x_i,x_j) over i != j + same for y - 2 mean k(x_i,y_j). Needs >= 2 rows each."""
    m, n = len(x), len(y)
    if m < 2 or n < 2:
        raise ValueError(f"MMD needs at least 2 samples per set, got {m} and {n}")
    kxx, kyy, kxy = poly_kernel(x, x), poly_kernel(y, y), poly_kernel(x, y)
    return float((kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (n * (n - 1)) - 2 * kxy.mean())


def kid(x: np.ndarray, y: np.ndarray, num_subsets: int = 50, subset_size: int = 100, seed: int = 0) -> tuple[float, float, int]:
    """KID between feature sets x and y: unbiased MMD^2 on num_subsets random subsets (without replacement
    within a subset) of m = min(subset_size, len(x), len(y)) rows from each. Returns (mean, std, m).
    When m equals a set's size every subset of that set is the whole set, so std then reflects the other
    set only. The estimator is unbiased for any m; m only changes the spread."""
    m = min(subset_size, len(x), len(y))
    rng = np.random.default_rng(seed)
    vals = [mmd2_unbiased(x[rng.choice(len(x), m, replace=False)], y[rng.choice(len(y), m, replace=False)])
            for _ in range(num_subsets)]
    return float(np.mean(vals)), float(np.std(vals)), m


def mean_pairwise_distance(f: np.ndarray) -> float:
    f = np.asarray(f, np.float64)
    n = len(f)
    if n < 2:
        return float("nan")
    sq = (f * f).sum(1)
    d2 = np.maximum(sq[:, None] + sq[None] - 2 * f @ f.T, 0.0)
    return float(np.sqrt(d2)[~np.eye(n, dtype=bool)].mean())


def nn_distances(a: np.ndarray, b: np.ndarray, chunk: int = 256) -> np.ndarray:
    """For each row of a, the L2 distance to its nearest row of b (rows are flattened)."""
    if not len(a):
        return np.zeros(0)
    a = np.asarray(a, np.float64).reshape(len(a), -1)
    b = np.asarray(b, np.float64).reshape(len(b), -1)
    if not len(b):
        raise ValueError("nearest neighbour against an empty set")
    sb = (b * b).sum(1)
    out = []
    for i in range(0, len(a), chunk):
        ai = a[i:i + chunk]
        d2 = (ai * ai).sum(1)[:, None] + sb[None] - 2 * ai @ b.T
        out.append(np.sqrt(np.maximum(d2.min(1), 0.0)))
    return np.concatenate(out)


def hf_energy(x: np.ndarray) -> np.ndarray:
    """x (N,[1,]H,W) -> (N,) mean |4-neighbour Laplacian| over interior pixels, in the units of x."""
    x = np.asarray(x, np.float64)
    x = x.reshape(len(x), x.shape[-2], x.shape[-1])
    lap = 4 * x[:, 1:-1, 1:-1] - x[:, :-2, 1:-1] - x[:, 2:, 1:-1] - x[:, 1:-1, :-2] - x[:, 1:-1, 2:]
    return np.abs(lap).mean(axis=(1, 2))


def dilate(mask: np.ndarray, radius: int) -> np.ndarray:
    """Binary square dilation of (..., H, W) masks by radius pixels (a (2r+1)^2 structuring element)."""
    m = np.asarray(mask) > 0
    h, w = m.shape[-2:]
    pad = np.pad(m, [(0, 0)] * (m.ndim - 2) + [(radius, radius), (radius, radius)])
    out = np.zeros_like(m)
    for dy in range(2 * radius + 1):
        for dx in range(2 * radius + 1):
            out |= pad[..., dy:dy + h, dx:dx + w]
    return out


def mask_contrast(x: np.ndarray, masks: np.ndarray, ring: int = 4) -> np.ndarray:
    """Per window: mean of x over the ring (mask dilated by `ring` pixels, minus the mask) minus the mean of x
    inside the mask. x: (N,1,H,W) or (N,H,W); masks: (N,H,W), nonzero = defect. NaN where the mask or its ring
    is empty (no defect pixels, or a mask covering the whole window)."""
    x = np.asarray(x, np.float64).reshape(len(masks), *masks.shape[-2:])
    inside = np.asarray(masks) > 0
    around = dilate(inside, ring) & ~inside
    out = np.full(len(x), np.nan)
    for i in range(len(x)):
        if inside[i].any() and around[i].any():
            out[i] = x[i][around[i]].mean() - x[i][inside[i]].mean()
    return out
