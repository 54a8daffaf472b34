"""Train the class- and mask-conditioned denoiser.

  python3 training/train.py --config training/configs/default.json --run training/runs/default --max-minutes 120

Resumes from <run>/last.pt when it exists (or from --init, e.g. the committed weights). Writes
<run>/last.pt (full state) every --save-minutes and at the end, and <run>/weights.pt (config, step,
model and EMA weights only: what is committed to resume from). Uses CUDA when available. SIGTERM or Ctrl-C
ends the run at the next step boundary with its weights saved, like --max-minutes. --anneal-minutes lowers the
learning rate over the end of a time-bounded run (a cosine to --anneal-floor x lr), so the weights it saves
come from a settled optimiser rather than from full-lr noise.

A model of other data than the shipped Magnetic-tile set needs --id (its model id; not an embedded model's id),
which the checkpoint's config carries to export.py. The config records the data folder's name and a sha256 of
its file list (ddstudio/userdata.py dataset_record). main returns {"step", "interrupted"}, so a caller
(training/train_all.py) knows whether the run ended by a signal.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ddstudio.data import WindowSampler, load_items, split_by_group  # noqa: E402
from ddstudio.diffusion import GaussianDiffusion, ScheduleConfig  # noqa: E402
from ddstudio.unet import UNet, UNetConfig, count_flops  # noqa: E402
from ddstudio.userdata import dataset_record, id_problem, is_shipped  # noqa: E402


def build(cfg: dict, num_classes: int) -> tuple[UNet, GaussianDiffusion]:
    ucfg = UNetConfig(image_size=cfg["image_size"], num_classes=num_classes, **{k: tuple(v) if isinstance(v, list) else v for k, v in cfg["unet"].items()})
    return UNet(ucfg), GaussianDiffusion(ScheduleConfig(**cfg["schedule"]), cfg.get("min_snr_gamma"),
                                               cfg.get("loss_weighting", "min_snr"))


@torch.no_grad()
def ema_update(ema: torch.nn.Module, model: torch.nn.Module, step: int, max_decay: float) -> None:
    """One EMA step after optimiser step `step` (1-based), decay warmed up as (1 + step) / (10 + step)."""
    decay = min(max_decay, (1 + step) / (10 + step))
    for pe, pm in zip(ema.parameters(), model.parameters()):
        pe.mul_(decay).add_(pm.detach(), alpha=1 - decay)


def resolve(path: str, base: str) -> str:
    return path if os.path.isabs(path) else os.path.normpath(os.path.join(base, path))


def anneal_factor(elapsed_s: float, budget_s: float, anneal_s: float, floor: float) -> float:
    """1 until the last anneal_s seconds of the budget, then a cosine down to floor at the budget's end."""
    frac = min(1.0, max(0.0, (elapsed_s - (budget_s - anneal_s)) / anneal_s))
    return floor + (1.0 - floor) * 0.5 * (1.0 + np.cos(np.pi * frac))


def remaining_s(elapsed_s: float, steps_done: int, step: int, max_minutes: float | None, max_steps: int | None) -> float | None:
    """Seconds left until the first of the run's limits, at the rate of this invocation's steps so far."""
    left = []
    if max_minutes is not None:
        left.append(max(0.0, max_minutes * 60 - elapsed_s))
    if max_steps is not None and steps_done > 0:
        left.append(max(0, max_steps - step) * elapsed_s / steps_done)
    return min(left) if left else None


def read_group_list(path: str, known: set[str]) -> set[str]:
    """The tile groups a --hold-out-groups file names (a JSON list of strings), all of which must be in the data."""
    try:
        with open(path) as f:
            groups = json.load(f)
        if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
            raise ValueError("not a list of strings")
    except (OSError, ValueError) as e:
        raise SystemExit(f"--hold-out-groups {path}: {e}; accepted: a JSON list of tile group names, e.g. "
                         '["Crack/exp1_num_3191.jpg"] (the groups of manifest_extra.csv, or the file names)')
    unknown = sorted(set(groups) - known)
    if unknown:
        raise SystemExit(f"--hold-out-groups {path}: {len(unknown)} group(s) not in the data, e.g. {unknown[:3]}")
    return set(groups)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", required=True)
    ap.add_argument("--run", required=True, help="run directory (checkpoints, log)")
    ap.add_argument("--data", help="dataset root, overrides the config's data_root")
    ap.add_argument("--id", help="model id, overrides the config's model_id; required for data other than the shipped set")
    ap.add_argument("--init", help="weights.pt to start from when the run has no checkpoint")
    ap.add_argument("--max-minutes", type=float, default=None)
    ap.add_argument("--max-steps", type=int, default=None)
    ap.add_argument("--anneal-minutes", type=float, default=0.0,
                    help="with --max-minutes: over the run's last M minutes the learning rate falls along a cosine "
                         "from the config's lr to --anneal-floor times it (a resumed run starts at the full lr again)")
    ap.add_argument("--anneal-floor", type=float, default=0.1)
    ap.add_argument("--anneal-steps", type=int, default=0,
                    help="with --max-steps: the same cosine over the run's last N steps, by step count (so a resumed run "
                         "carries on along it; training/fold_generators.py)")
    ap.add_argument("--save-minutes", type=float, default=10.0)
    ap.add_argument("--max-per-class", type=int, default=None, help="smoke tests: use only N images per class")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--hold-out-groups", help="a JSON file with a list of tile groups to leave out of training as well as the "
                    "config's validation split (training/fold_generators.py: a fold-honest generator for the downstream protocol); "
                    "the exported manifest's training.heldOutGroups then names them")
    args = ap.parse_args(argv)
    if args.anneal_minutes and (args.max_minutes is None or not 0 < args.anneal_minutes <= args.max_minutes):
        ap.error("--anneal-minutes needs --max-minutes and must be in (0, max-minutes]")
    if args.anneal_steps and (args.max_steps is None or not 0 < args.anneal_steps <= args.max_steps or args.anneal_minutes):
        ap.error("--anneal-steps needs --max-steps, must be in (0, max-steps] and does not go with --anneal-minutes")
    if not 0 < args.anneal_floor <= 1:
        ap.error("--anneal-floor must be in (0, 1]")

    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    with open(args.config) as f:
        cfg = json.load(f)
    data_root = resolve(args.data or cfg["data_root"], repo)
    if args.id:
        if id_problem(args.id):
            ap.error(f"--id {id_problem(args.id)}")
        cfg["model_id"] = args.id
    elif not is_shipped(data_root) and id_problem(cfg["model_id"]):
        ap.error(f"--data is not the shipped Magnetic-tile set, so the config's model id {id_problem(cfg['model_id'])}: pass --id")
    os.makedirs(args.run, exist_ok=True)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

    classes, items = load_items(data_root, max_per_class=args.max_per_class)
    train_items, val_items = split_by_group(items, cfg["val_fraction"], cfg["split_seed"])
    if args.hold_out_groups:
        extra = read_group_list(args.hold_out_groups, {it.group for it in items})
        train_items = [it for it in train_items if it.group not in extra]
        if not train_items or {it.cls for it in train_items} != {it.cls for it in items}:
            ap.error(f"--hold-out-groups {args.hold_out_groups} leaves a class without training images")
        cfg["hold_out_groups"] = sorted(extra)
    cfg["classes"] = classes
    cfg["data_root_used"] = os.path.relpath(data_root, repo)
    cfg["dataset"] = dataset_record(data_root)
    cfg["train_groups"] = sorted({it.group for it in train_items})
    sampler = WindowSampler(train_items, len(classes), cfg["image_size"], cfg["jitter"], cfg["p_inpaint"], cfg["p_drop_mask"])

    model, diffusion = build(cfg, len(classes))
    ema, _ = build(cfg, len(classes))
    ema.load_state_dict(model.state_dict())
    ema.requires_grad_(False)
    print(f"classes={classes} train_images={len(train_items)} val_images={len(val_items)} "
          f"params={sum(p.numel() for p in model.parameters())/1e6:.2f}M "
          f"gflop_per_call={count_flops(model, cfg['image_size'])/1e9:.2f}", flush=True)
    model.to(device), ema.to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg["lr"], weight_decay=cfg["weight_decay"])
    step = 0
    rng = np.random.default_rng(cfg["seed"])
    last = os.path.join(args.run, "last.pt")
    if os.path.exists(last):
        ck = torch.load(last, map_location=device)
        model.load_state_dict(ck["model"]), ema.load_state_dict(ck["ema"]), opt.load_state_dict(ck["opt"])
        step = ck["step"]
        rng = np.random.default_rng([cfg["seed"], step])
        print(f"resumed from {last} at step {step}", flush=True)
    elif args.init:
        ck = torch.load(args.init, map_location=device)
        model.load_state_dict(ck["model"]), ema.load_state_dict(ck["ema"])
        step = ck["step"]
        rng = np.random.default_rng([cfg["seed"], step])
        print(f"initialised from {args.init} at step {step}", flush=True)

    def save():
        torch.save({"model": model.state_dict(), "ema": ema.state_dict(), "opt": opt.state_dict(), "step": step, "config": cfg}, last + ".tmp")
        os.replace(last + ".tmp", last)
        torch.save({"model": model.state_dict(), "ema": ema.state_dict(), "step": step, "config": cfg}, os.path.join(args.run, "weights.pt.tmp"))
        os.replace(os.path.join(args.run, "weights.pt.tmp"), os.path.join(args.run, "weights.pt"))
        print(f"saved step {step}", flush=True)

    stop = []
    previous = {sig: signal.signal(sig, lambda signum, _frame: stop.append(signum)) for sig in (signal.SIGTERM, signal.SIGINT)}
    t0 = last_save = time.time()
    start_step = step
    print(f"training from step {step} (Ctrl-C stops at the next step with the weights saved)", flush=True)
    log = open(os.path.join(args.run, "log.jsonl"), "a")
    null = len(classes)
    losses = []
    while True:
        if args.max_steps is not None and step >= args.max_steps:
            break
        if args.max_minutes is not None and time.time() - t0 > args.max_minutes * 60:
            break
        if stop:
            print(f"signal {stop[0]}: stopping at step {step}", flush=True)
            break
        b = sampler.batch(cfg["batch_size"], rng)
        tb = {k: torch.from_numpy(v).to(device) for k, v in b.items()}
        labels = tb["class_labels"].clone()
        labels[torch.from_numpy(rng.random(len(labels)) < cfg["class_dropout"]).to(device)] = null
        lr = cfg["lr"] * min(1.0, (step + 1) / cfg["warmup_steps"])
        if args.anneal_minutes:
            lr *= anneal_factor(time.time() - t0, args.max_minutes * 60, args.anneal_minutes * 60, args.anneal_floor)
        if args.anneal_steps:
            lr *= anneal_factor(step, args.max_steps, args.anneal_steps, args.anneal_floor)   # the same curve, in steps
        for g in opt.param_groups:
            g["lr"] = lr
        model.train()
        loss, _ = diffusion.training_loss(model, tb["x0"], {"class_labels": labels, "defect_mask": tb["defect_mask"],
                                                            "known_image": tb["known_image"], "keep_mask": tb["keep_mask"]})
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg["grad_clip"])
        opt.step()
        step += 1
        ema_update(ema, model, step, cfg["ema_decay"])
        losses.append(loss.item())
        if step % 50 == 0:
            rec = {"step": step, "loss": float(np.mean(losses)), "lr": lr, "elapsed_s": round(time.time() - t0, 1)}
            eta = remaining_s(time.time() - t0, step - start_step, step, args.max_minutes, args.max_steps)
            if eta is not None:
                rec["eta_s"] = round(eta)
            losses = []
            log.write(json.dumps(rec) + "\n"), log.flush()
            print(json.dumps(rec), flush=True)
        if time.time() - last_save > args.save_minutes * 60:
            save()
            last_save = time.time()
    save()
    log.close()
    for sig, handler in previous.items():
        signal.signal(sig, handler)
    return {"step": step, "interrupted": bool(stop)}


if __name__ == "__main__":
    main()
