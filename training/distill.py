"""Distil the guided 20-step teacher into a few-step, guidance-free student (one batch-1 call per step).

  /usr/bin/python3 training/distill.py --teacher training/checkpoints/magtile-defect-64.pt \
      --run training/runs/distill --max-minutes 120 --threads 2

What it learns: the teacher's whole sampler as one map. The teacher runs exactly as the studio's default does
(DPM-Solver++(2M), 20 linspace steps, classifier-free guidance 1.5 inside the sigma interval (0.28, 5.42], the
inpainting blend after every step), from seeded noise, on conditions drawn like training batches (class, real
defect mask shapes, known image + keep mask half the time) from the TRAINING tile groups only. Every state x_t the
teacher visits is a training input for the student at that t, and its target is where that trajectory ends: the
teacher's finished window x_0. So the student predicts, from any noisy window, the clean window the guided ODE
solver would reach from it: trajectory (knowledge) distillation, Luhman & Luhman 2021 (arXiv:2101.02388), applied
to every point of the trajectory as in consistency distillation's ideal target (Song et al. 2023, arXiv:2303.01469,
eq. (5): f(x_t, t) = x_0 along the ODE); guidance is folded in because the targets are guided (Meng et al. 2023,
arXiv:2210.03142, stage one). The loss is on x_0 in the regenerated area only (the kept area is pasted anyway),
through the same v-prediction output the contract has: x0 = alpha_t x_t - sigma_t v.

Sampling the student (src/core/diffusion/samplers/consistency.ts): x0 = f(x_t, t) at t = 999, re-noise it to the next grid
timestep with fresh seeded noise, repeat (multistep consistency sampling, Song et al. 2023, Algorithm 1). 1, 2, 4 or
8 evaluations use the same network.

Why not progressive distillation: each of its rounds runs the teacher twice per student step (guided: 4 calls) and
needs thousands of steps; three rounds (32 -> 4) do not fit the CPU hours this project has. Here the teacher's cost
is paid once per trajectory and each trajectory gives 20 training pairs; the pool of trajectories grows while the
student trains (--gen-every), so later steps see more distinct noise seeds.

Resumable: <run>/pool/*.pt (trajectory chunks) and <run>/last.pt; <run>/weights.pt is what export.py takes.
SIGTERM / Ctrl-C / --max-minutes stop at a step boundary with everything saved. CUDA is used when present.
"""
from __future__ import annotations

import argparse
import copy
import glob
import json
import os
import signal
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ddstudio.data import WindowSampler, load_items, split_by_group  # noqa: E402
from ddstudio.diffusion import ScheduleConfig, make_alphas_cumprod  # noqa: E402
from ddstudio.samplers import create_sampler, guidance_applies, sample_loop  # noqa: E402
from train import build, ema_update, resolve  # noqa: E402

TEACHER_SAMPLER = {"sampler": "dpmpp2m", "steps": 20, "spacing": "linspace", "guidance": 1.5, "interval": (0.28, 5.42)}


def teacher_chunk(teacher, sched: ScheduleConfig, batch: dict, null: int, seed: int, device, ts=TEACHER_SAMPLER):
    """Runs the teacher's default sampler on one batch of conditions; returns the states it visited and x_0."""
    sampler = create_sampler(ts["sampler"], sched, ts["steps"], ts["spacing"])
    ac = sampler.alphas_cumprod
    labels = torch.from_numpy(batch["class_labels"]).to(device)
    cond = {k: torch.from_numpy(batch[k]).to(device) for k in ("defect_mask", "known_image", "keep_mask")}
    g = len(labels)
    states = []

    @torch.no_grad()
    def model_fn(x, t):
        states.append(x.astype(np.float16))
        xt = torch.from_numpy(np.ascontiguousarray(x)).to(device)
        tt = torch.full((g,), float(t), device=device)
        if guidance_applies(float(ac[t]), ts["interval"]):
            both = teacher(torch.cat([xt, xt]), torch.cat([tt, tt]), torch.cat([labels, torch.full_like(labels, null)]),
                           *(torch.cat([c, c]) for c in cond.values()))
            c, u = both[:g].double(), both[g:].double()
            return (u + ts["guidance"] * (c - u)).float().cpu().numpy()
        return teacher(xt, tt, labels, *cond.values()).cpu().numpy()

    rng = np.random.default_rng(seed)
    x = rng.standard_normal((g, 1) + batch["x0"].shape[2:]).astype(np.float32)
    inpaint = batch["keep_mask"].max() > 0
    x0 = sample_loop(sampler, model_fn, x, rng, known=batch["known_image"] if inpaint else None,
                     keep_mask=batch["keep_mask"] if inpaint else None)
    return {"states": np.stack(states), "timesteps": np.asarray(sampler.timesteps, np.int64), "x0": x0,
            "class_labels": batch["class_labels"], "defect_mask": batch["defect_mask"].astype(np.uint8),
            "known_image": batch["known_image"].astype(np.float16), "keep_mask": batch["keep_mask"].astype(np.uint8)}


class Pool:
    """Teacher trajectories on disk (one file per chunk) and in memory."""

    def __init__(self, folder: str):
        self.folder = folder
        os.makedirs(folder, exist_ok=True)
        self.chunks = [torch.load(p) for p in sorted(glob.glob(os.path.join(folder, "chunk_*.pt")))]

    def add(self, chunk: dict) -> None:
        path = os.path.join(self.folder, f"chunk_{len(self.chunks):05d}.pt")
        torch.save(chunk, path + ".tmp")
        os.replace(path + ".tmp", path)
        self.chunks.append(chunk)

    def trajectories(self) -> int:
        return sum(len(c["x0"]) for c in self.chunks)

    def batch(self, n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        out = {k: [] for k in ("x_t", "t", "x0", "class_labels", "defect_mask", "known_image", "keep_mask")}
        for _ in range(n):
            c = self.chunks[rng.integers(len(self.chunks))]
            j = int(rng.integers(len(c["x0"])))
            i = int(rng.integers(len(c["timesteps"])))
            out["x_t"].append(c["states"][i, j].astype(np.float32))
            out["t"].append(float(c["timesteps"][i]))
            out["x0"].append(c["x0"][j])
            for k in ("class_labels", "defect_mask", "known_image", "keep_mask"):
                out[k].append(c[k][j])
        res = {k: np.stack(v) for k, v in out.items()}
        res["t"] = res["t"].astype(np.float32)
        for k in ("defect_mask", "known_image", "keep_mask"):
            res[k] = res[k].astype(np.float32)
        return res


def x0_loss(student, alphas_cumprod: torch.Tensor, b: dict) -> torch.Tensor:
    """Mean squared x_0 error over the regenerated pixels (keep_mask 0) of each window, averaged over windows."""
    a = alphas_cumprod[b["t"].long()].view(-1, 1, 1, 1)
    v = student(b["x_t"], b["t"], b["class_labels"], b["defect_mask"], b["known_image"], b["keep_mask"])
    x0 = a.sqrt() * b["x_t"] - (1 - a).sqrt() * v
    w = 1 - b["keep_mask"]
    per = (((x0 - b["x0"]) ** 2) * w).sum(dim=(1, 2, 3)) / w.sum(dim=(1, 2, 3)).clamp(min=1)
    return per.mean()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--teacher", required=True, help="weights.pt of the teacher (its EMA weights are used)")
    ap.add_argument("--run", required=True)
    ap.add_argument("--data", help="dataset root, overrides the teacher config's data_root")
    ap.add_argument("--max-minutes", type=float, default=None)
    ap.add_argument("--max-steps", type=int, default=None)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--ema-decay", type=float, default=0.995)
    ap.add_argument("--chunk", type=int, default=32, help="trajectories per teacher batch")
    ap.add_argument("--initial-chunks", type=int, default=8, help="teacher batches before the first student step")
    ap.add_argument("--gen-every", type=int, default=12, help="student steps between teacher batches")
    ap.add_argument("--max-trajectories", type=int, default=20000)
    ap.add_argument("--save-minutes", type=float, default=10.0)
    ap.add_argument("--max-per-class", type=int, default=None, help="smoke tests: use only N images per class")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--init", help="continue an earlier student: its weights.pt (EMA weights) start the student and its EMA "
                    "instead of the teacher; its trajectory count offsets the teacher batches' seeds so new ones are drawn")
    args = ap.parse_args(argv)

    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    tck = torch.load(args.teacher, map_location="cpu")
    cfg = dict(tck["config"])
    data_root = resolve(args.data or cfg["data_root"], repo)
    classes, items = load_items(data_root, classes=cfg.get("classes"), max_per_class=args.max_per_class)
    train_items, _ = split_by_group(items, cfg["val_fraction"], cfg["split_seed"])
    sampler = WindowSampler(train_items, len(classes), cfg["image_size"], cfg["jitter"], cfg["p_inpaint"], cfg["p_drop_mask"])
    teacher, _ = build(cfg, len(classes))
    teacher.load_state_dict(tck["ema"])
    teacher.eval().requires_grad_(False).to(device)
    student = copy.deepcopy(teacher).train().requires_grad_(True)
    ema = copy.deepcopy(teacher)
    init = None
    if args.init:
        ick = torch.load(args.init, map_location="cpu")
        student.load_state_dict(ick["ema"]), ema.load_state_dict(ick["ema"])
        prev = ick["config"].get("distillation", {})
        init = {"from": os.path.relpath(os.path.abspath(args.init), repo), "student_steps": prev.get("student_steps", 0),
                "trajectories": prev.get("trajectories", 0)}
        print(f"student starts from {args.init} ({init['student_steps']} steps, {init['trajectories']} trajectories)", flush=True)
    chunk_offset = -(-init["trajectories"] // args.chunk) if init else 0
    sched = ScheduleConfig(**cfg["schedule"])
    alphas_cumprod = torch.from_numpy(make_alphas_cumprod(sched)).float().to(device)
    opt = torch.optim.AdamW(student.parameters(), lr=args.lr, weight_decay=0.0)

    os.makedirs(args.run, exist_ok=True)
    pool = Pool(os.path.join(args.run, "pool"))
    step = 0
    last = os.path.join(args.run, "last.pt")
    if os.path.exists(last):
        ck = torch.load(last, map_location=device)
        student.load_state_dict(ck["model"]), ema.load_state_dict(ck["ema"]), opt.load_state_dict(ck["opt"])
        step = ck["step"]
        print(f"resumed from {last} at step {step}", flush=True)
    dcfg = {**cfg, "distillation": {"teacher": os.path.relpath(os.path.abspath(args.teacher), repo), "teacher_step": tck["step"],
                                    "teacher_sampler": {**TEACHER_SAMPLER, "interval": list(TEACHER_SAMPLER["interval"])},
                                    "target": "trajectory endpoint x0", "lr": args.lr, "batch": args.batch,
                                    **({"init": init} if init else {})}}

    def save():
        # totals over this run and the student it continues (--init)
        dcfg["distillation"]["trajectories"] = pool.trajectories() + (init["trajectories"] if init else 0)
        dcfg["distillation"]["student_steps"] = step + (init["student_steps"] if init else 0)
        torch.save({"model": student.state_dict(), "ema": ema.state_dict(), "opt": opt.state_dict(), "step": step, "config": dcfg}, last + ".tmp")
        os.replace(last + ".tmp", last)
        w = os.path.join(args.run, "weights.pt")
        torch.save({"model": student.state_dict(), "ema": ema.state_dict(), "step": tck["step"], "config": dcfg}, w + ".tmp")
        os.replace(w + ".tmp", w)
        print(f"saved step {step} ({pool.trajectories()} trajectories)", flush=True)

    def grow():
        k = chunk_offset + len(pool.chunks)
        brng = np.random.default_rng([cfg["seed"], 7, k])
        batch = sampler.batch(args.chunk, brng)
        t = time.time()
        pool.add(teacher_chunk(teacher, sched, batch, len(classes), seed=10_000 + k, device=device))
        return time.time() - t

    stop = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, _frame: stop.append(signum))
    t0 = last_save = time.time()
    log = open(os.path.join(args.run, "log.jsonl"), "a")

    def out_of_time():
        return bool(stop) or (args.max_minutes is not None and time.time() - t0 > args.max_minutes * 60)

    while len(pool.chunks) < args.initial_chunks and not out_of_time():
        dt = grow()
        print(f"teacher chunk {len(pool.chunks)}: {args.chunk} trajectories in {dt:.1f} s", flush=True)
    rng = np.random.default_rng([cfg["seed"], 11, step])
    losses, gen_s = [], 0.0
    while not out_of_time() and (args.max_steps is None or step < args.max_steps):
        if step % args.gen_every == 0 and pool.trajectories() < args.max_trajectories:
            gen_s += grow()
        b = {k: torch.from_numpy(v).to(device) for k, v in pool.batch(args.batch, rng).items()}
        loss = x0_loss(student, alphas_cumprod, b)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(student.parameters(), 1.0)
        opt.step()
        step += 1
        ema_update(ema, student, step, args.ema_decay)
        losses.append(loss.item())
        if step % 25 == 0:
            rec = {"step": step, "loss": float(np.mean(losses)), "trajectories": pool.trajectories(),
                   "teacher_s": round(gen_s, 1), "elapsed_s": round(time.time() - t0, 1)}
            losses = []
            log.write(json.dumps(rec) + "\n"), log.flush()
            print(json.dumps(rec), flush=True)
        if time.time() - last_save > args.save_minutes * 60:
            save()
            last_save = time.time()
    if stop:
        print(f"signal {stop[0]}: stopping at step {step}", flush=True)
    save()
    return {"step": step, "interrupted": bool(stop)}


if __name__ == "__main__":
    main()
