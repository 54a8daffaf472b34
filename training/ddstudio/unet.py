"""A small conditional UNet denoiser for native-resolution grayscale windows.

Inputs (names are the ONNX contract, see export.py):
  sample       (B,1,H,W)  noisy window x_t in [-1, 1] scale
  timestep     (B,)       training timestep t as float32 (0..T-1)
  class_labels (B,)       int64 class index; index num_classes is the null label used for guidance
  defect_mask  (B,1,H,W)  1 where the defect should be
  known_image  (B,1,H,W)  a real window in [-1, 1] (zeros where unknown)
  keep_mask    (B,1,H,W)  1 where known_image must be kept (inpainting), 0 elsewhere
Output: model_output (B,1,H,W) in the config's prediction type.

Layout follows the ADM UNet (Dhariwal & Nichol 2021, arXiv:2105.05233) scaled down: ResBlocks with
timestep+class embedding added after the first conv, self-attention at the lowest resolutions.
GroupNorm exports to ONNX as InstanceNormalization + Reshape (opset 17).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, asdict, field

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class UNetConfig:
    image_size: int = 64
    in_channels: int = 4            # sample + defect_mask + known_image + keep_mask
    out_channels: int = 1
    base_channels: int = 32
    channel_mult: tuple = (1, 2, 3)
    num_res_blocks: tuple = (1, 2, 2)
    attention_levels: tuple = (2,)
    num_classes: int = 6            # real classes; the null label is num_classes
    dropout: float = 0.0
    groups: int = 8

    def to_dict(self) -> dict:
        d = asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}

    @staticmethod
    def from_dict(d: dict) -> "UNetConfig":
        d = dict(d)
        for k in ("channel_mult", "num_res_blocks", "attention_levels"):
            if k in d:
                d[k] = tuple(d[k])
        return UNetConfig(**d)


def timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
    args = t.float()[:, None] * freqs[None]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=1)


class ResBlock(nn.Module):
    def __init__(self, cin: int, cout: int, emb: int, groups: int, dropout: float):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.emb = nn.Linear(emb, cout * 2)
        self.norm2 = nn.GroupNorm(groups, cout)
        self.drop = nn.Dropout(dropout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        nn.init.zeros_(self.conv2.weight)
        nn.init.zeros_(self.conv2.bias)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x, emb):
        h = self.conv1(F.silu(self.norm1(x)))
        scale, shift = self.emb(F.silu(emb))[:, :, None, None].chunk(2, dim=1)
        h = self.norm2(h) * (1 + scale) + shift
        h = self.conv2(self.drop(F.silu(h)))
        return self.skip(x) + h


class Attention(nn.Module):
    def __init__(self, ch: int, groups: int, heads: int = 4):
        super().__init__()
        self.heads = heads
        self.norm = nn.GroupNorm(groups, ch)
        self.qkv = nn.Conv2d(ch, ch * 3, 1)
        self.proj = nn.Conv2d(ch, ch, 1)
        nn.init.zeros_(self.proj.weight)
        nn.init.zeros_(self.proj.bias)

    def forward(self, x):
        b, c, h, w = x.shape
        q, k, v = self.qkv(self.norm(x)).reshape(b, 3, self.heads, c // self.heads, h * w).unbind(1)
        attn = torch.softmax(torch.einsum("bhcn,bhcm->bhnm", q, k) / math.sqrt(c // self.heads), dim=-1)
        out = torch.einsum("bhnm,bhcm->bhcn", attn, v).reshape(b, c, h, w)
        return x + self.proj(out)


class UNet(nn.Module):
    def __init__(self, cfg: UNetConfig):
        super().__init__()
        self.cfg = cfg
        ch = cfg.base_channels
        emb = ch * 4
        self.time_mlp = nn.Sequential(nn.Linear(ch, emb), nn.SiLU(), nn.Linear(emb, emb))
        self.class_emb = nn.Embedding(cfg.num_classes + 1, emb)
        self.conv_in = nn.Conv2d(cfg.in_channels, ch, 3, padding=1)
        self.down = nn.ModuleList()
        skips = [ch]
        cur = ch
        for lvl, mult in enumerate(cfg.channel_mult):
            for _ in range(cfg.num_res_blocks[lvl]):
                blocks = nn.ModuleList([ResBlock(cur, ch * mult, emb, cfg.groups, cfg.dropout)])
                cur = ch * mult
                if lvl in cfg.attention_levels:
                    blocks.append(Attention(cur, cfg.groups))
                self.down.append(blocks)
                skips.append(cur)
            if lvl != len(cfg.channel_mult) - 1:
                self.down.append(nn.ModuleList([nn.Conv2d(cur, cur, 3, stride=2, padding=1)]))
                skips.append(cur)
        self.mid = nn.ModuleList([ResBlock(cur, cur, emb, cfg.groups, cfg.dropout), Attention(cur, cfg.groups),
                                  ResBlock(cur, cur, emb, cfg.groups, cfg.dropout)])
        self.up = nn.ModuleList()
        for lvl, mult in reversed(list(enumerate(cfg.channel_mult))):
            for i in range(cfg.num_res_blocks[lvl] + 1):
                blocks = nn.ModuleList([ResBlock(cur + skips.pop(), ch * mult, emb, cfg.groups, cfg.dropout)])
                cur = ch * mult
                if lvl in cfg.attention_levels:
                    blocks.append(Attention(cur, cfg.groups))
                if lvl != 0 and i == cfg.num_res_blocks[lvl]:
                    blocks.append(nn.Upsample(scale_factor=2, mode="nearest"))
                    blocks.append(nn.Conv2d(cur, cur, 3, padding=1))
                self.up.append(blocks)
        self.norm_out = nn.GroupNorm(cfg.groups, cur)
        self.conv_out = nn.Conv2d(cur, cfg.out_channels, 3, padding=1)
        nn.init.zeros_(self.conv_out.weight)
        nn.init.zeros_(self.conv_out.bias)

    @staticmethod
    def _run_blocks(blocks, h, emb):
        for blk in blocks:
            h = blk(h, emb) if isinstance(blk, ResBlock) else blk(h)
        return h

    def forward(self, sample, timestep, class_labels, defect_mask, known_image, keep_mask):
        emb = self.time_mlp(timestep_embedding(timestep, self.cfg.base_channels)) + self.class_emb(class_labels)
        h = self.conv_in(torch.cat([sample, defect_mask, known_image * keep_mask, keep_mask], dim=1))
        hs = [h]
        for blocks in self.down:
            h = self._run_blocks(blocks, h, emb)
            hs.append(h)
        h = self._run_blocks(self.mid, h, emb)
        for blocks in self.up:
            h = self._run_blocks(blocks, torch.cat([h, hs.pop()], dim=1), emb)
        return self.conv_out(F.silu(self.norm_out(h)))


def float16_checkpoint(ck: dict, config: dict) -> dict:
    """A checkpoint's model and EMA weights in float16 with its step and config: what training/checkpoints/ commits
    (export.py --checkpoint-out) and a device machine sends back (fold_generators.py --compact), half the size of
    train.py's weights.pt; train.py --init and export.py --weights read it."""
    half = lambda sd: {k: (v.half() if v.is_floating_point() else v) for k, v in sd.items()}  # noqa: E731
    return {"model": half(ck["model"]), "ema": half(ck["ema"]), "step": ck["step"], "config": config}


def count_flops(model: nn.Module, size: int) -> int:
    """FLOPs (2 x multiply-accumulates) of one call at batch 1, counted over convs, linears and attention."""
    total = 0

    def conv_hook(m, inp, out):
        nonlocal total
        total += 2 * out.numel() * (m.in_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1]

    def lin_hook(m, inp, out):
        nonlocal total
        total += 2 * out.numel() * m.in_features

    def attn_hook(m, inp, out):
        nonlocal total
        b, c, h, w = inp[0].shape
        total += 2 * 2 * b * (h * w) ** 2 * c

    hooks = []
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            hooks.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, nn.Linear):
            hooks.append(m.register_forward_hook(lin_hook))
        elif isinstance(m, Attention):
            hooks.append(m.register_forward_hook(attn_hook))
    z = torch.zeros(1, 1, size, size)
    with torch.no_grad():
        model(z, torch.zeros(1), torch.zeros(1, dtype=torch.long), z, z, z)
    for h in hooks:
        h.remove()
    return total
