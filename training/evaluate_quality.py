"""Measured quality of a denoiser's samples, per defect class, against real held-out windows.

  /usr/bin/python3 training/evaluate_quality.py --model public/models/magtile-defect-64 \
      --classifier training/runs/classifier/best.pt --n 32 --steps 20 --guidance 2 --out training/reports/quality

Generates --n windows per defect class with the real TypeScript sampler (subprocess: npx tsx scripts/generate.ts
... --backend native, from the repo root; masks are random real shapes from the model's mask_library.json), then
measures, with the evaluation classifier (PyTorch .pt, or the exported .onnx through onnxruntime-node):

- label consistency: share of generated windows the classifier assigns to the requested class (next to the
  classifier's accuracy on the real reference windows of that class, the ceiling to read it against);
- KID (unbiased MMD^2, kernel (x.y/d + 1)^3, mean/std over subsets of at most half the smaller set) on classifier
  features between generated and REAL VALIDATION windows (tile groups neither the denoiser nor the classifier
  trained on), with references: KID between two disjoint random halves of those real windows, and KID between
  real Free and that class; plus KID between generated and real training-split windows, and between real
  training-split and real validation windows (the gap between tile groups: a model that reproduced its training
  windows exactly would score this against the validation windows);
- diversity: mean pairwise feature distance, generated vs real;
- memorisation: per generated window the min RMS pixel distance (in [-1,1] units) to real training windows of
  that class (--train-crops crops x 4 flips); min and 1st percentile, next to the same for real validation
  windows vs the same training crops; generated windows closer than that real 1st percentile are near-copy
  suspects. Random crops sample the photos on a grid of positions, so a copy shifted off those positions is
  missed: this is a screen, not a proof. The same screen runs on contrast-normalised windows (zero mean, unit
  std): raw RMS distance is dominated by brightness for nearly flat windows, which then come close to any flat
  training crop without copying it;
- high-frequency noise: share of generated windows whose mean |Laplacian| exceeds the 99th percentile of real
  windows of that class.
- placement: mask contrast (mean pixel value in a 4-pixel ring around the defect mask minus the mean inside it;
  positive = darker inside) of each generated window with its own mask, with another generated window's mask
  (control: a defect that ignores its mask scores the same both ways), and of real windows with their masks;
- brightness spread: std over windows of the window mean (the photos span six exposures), generated vs real.

Every class has a validation tile group (split_by_group gives a class without one its lowest-hash group). Should a
dataset class have only one tile group, the real reference falls back to training-split windows and the report
says so ("reference": "train").

Writes <out>/report.json, <out>/grid.png (rows = classes; left: real reference windows, right: generated; 2x
nearest), <out>/generated/ (the CLI's output) and prints a markdown table. --quick: tiny settings for tests.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time

import numpy as np
from PIL import Image, ImageDraw

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ddstudio.classifier import fixed_windows  # noqa: E402
from ddstudio.data import FREE_CLASS, load_items, split_by_group, to_unit  # noqa: E402
from ddstudio.metrics import hf_energy, kid, mask_contrast, mean_pairwise_distance, nn_distances  # noqa: E402
from export import sha256_file  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_CLASSIFIER_PT = os.path.join(REPO, "training", "runs", "classifier", "best.pt")
DEFAULT_CLASSIFIER_ONNX = os.path.join(REPO, "public", "models", "magtile-classifier-64", "model.onnx")
REAL_SEED = 2024      # real reference windows (validation split)
TRAIN_SEED = 4048     # real training-split crops (memorisation, KID vs train)


def resolve(p: str) -> str:
    return p if os.path.isabs(p) else os.path.normpath(os.path.join(REPO, p))


class Classifier:
    """Features/logits from the PyTorch checkpoint or the exported ONNX file (onnxruntime-node)."""

    def __init__(self, path: str, threads: int = 1):
        self.path = path
        if path.endswith(".onnx"):
            with open(os.path.join(os.path.dirname(path), "manifest.json")) as f:
                self.classes = json.load(f)["classes"]
            self.kind = "onnx (onnxruntime-node)"
        else:
            import torch
            torch.set_num_threads(threads)
            from ddstudio.classifier import load_checkpoint
            self.model, ck = load_checkpoint(path)
            self.classes = ck["classes"]
            self.kind = f"pytorch (step {ck['step']})"

    def __call__(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self.path.endswith(".onnx"):
            from ddstudio.onnx_check import run_onnxruntime
            out = run_onnxruntime(self.path, {"image": np.ascontiguousarray(x, np.float32)})
            return out["logits"], out["features"]
        from ddstudio.classifier import predict
        return predict(self.model, x)


def generate(model_dir: str, cls: str, n: int, seed: int, steps: int, guidance: float, guidance_interval: str, sampler: str,
             spacing: str, out: str, threads: int) -> tuple[np.ndarray, np.ndarray]:
    """The CLI's windows (N,1,H,W) in [-1,1] and the masks it conditioned them on (N,H,W) 0/1."""
    cmd = ["npx", "tsx", "scripts/generate.ts", "--model", model_dir, "--class", cls, "--n", str(n), "--seed", str(seed),
           "--steps", str(steps), "--guidance", str(guidance), "--guidance-interval", guidance_interval, "--sampler", sampler,
           "--spacing", spacing, "--out", out, "--backend", "native", "--threads", str(threads)]
    r = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"generator failed ({r.returncode}): {' '.join(cmd)}\n{r.stderr[-2000:]}")
    imgs, masks = [], []
    for s in range(seed, seed + n):
        p = os.path.join(out, "images", cls, f"{cls}_s{s}.png")
        imgs.append(to_unit(np.asarray(Image.open(p).convert("L"), dtype=np.uint8)))
        masks.append((np.asarray(Image.open(os.path.join(out, "masks", cls, f"{cls}_s{s}.png")).convert("L")) > 127).astype(np.uint8))
    return np.stack(imgs)[:, None], np.stack(masks)


def standardise(x: np.ndarray, floor: float = 0.02) -> np.ndarray:
    """Each window to zero mean and unit std (std floored, so a flat window's noise is not blown up)."""
    m = x.mean(axis=(1, 2, 3), keepdims=True)
    s = np.maximum(x.std(axis=(1, 2, 3), keepdims=True), floor)
    return ((x - m) / s).astype(np.float32)


def flips4(x: np.ndarray) -> np.ndarray:
    return np.concatenate([x, x[..., ::-1], x[..., ::-1, :], x[..., ::-1, ::-1]])


def _median(v: np.ndarray) -> float | None:
    v = v[~np.isnan(v)]
    return float(np.median(v)) if len(v) else None


def _stats(d: np.ndarray) -> dict | None:
    if not len(d):
        return None
    return {"min": float(d.min()), "p1": float(np.percentile(d, 1)), "p50": float(np.percentile(d, 50)), "count": int(len(d))}


def _kid(a, b, args, seed):
    if len(a) < 2 or len(b) < 2:
        return None
    # Subsets of at most half the smaller set, so the std over subsets reflects resampling (a subset as large
    # as a whole set is the same every time and its std is 0). Unbiased for any subset size; only the std
    # depends on it, so stds of rows with different subset sizes are not directly comparable.
    m, s, size = kid(a, b, args.num_subsets, min(args.subset_size, max(2, min(len(a), len(b)) // 2)), seed)
    return {"mean": m, "std": s, "subsetSize": size}


def to_u8(x: np.ndarray) -> np.ndarray:
    return np.clip(np.round((x + 1) * 127.5), 0, 255).astype(np.uint8)


def make_grid(rows: list[tuple[str, np.ndarray, np.ndarray]], k: int, path: str, scale: int = 2) -> None:
    size = rows[0][2].shape[-1] if rows else 64
    label_w, gap, pad = 70, 8, 2
    cell = size * scale + pad
    w = label_w + 2 * k * cell + gap
    h = 16 + len(rows) * cell
    canvas = Image.new("L", (w, h), 255)
    draw = ImageDraw.Draw(canvas)
    draw.text((label_w, 2), "real (reference)", fill=0)
    draw.text((label_w + k * cell + gap, 2), "generated", fill=0)
    for r, (name, real, gen) in enumerate(rows):
        y = 16 + r * cell
        draw.text((2, y + cell // 2 - 6), name, fill=0)
        for half, arr in enumerate((real, gen)):
            for j in range(min(k, len(arr))):
                tile = Image.fromarray(to_u8(arr[j, 0])).resize((size * scale, size * scale), Image.NEAREST)
                canvas.paste(tile, (label_w + half * (k * cell + gap) + j * cell, y))
    canvas.save(path)


def make_generated_grid(rows: list[tuple[str, np.ndarray, np.ndarray]], k: int, path: str, scale: int = 2) -> None:
    """Generated windows only (rows = classes): safe to publish, unlike grid.png, which holds real crops."""
    size = rows[0][2].shape[-1] if rows else 64
    label_w, pad = 70, 2
    cell = size * scale + pad
    canvas = Image.new("L", (label_w + k * cell, 16 + len(rows) * cell), 255)
    draw = ImageDraw.Draw(canvas)
    draw.text((label_w, 2), "generated", fill=0)
    for r, (name, _real, gen) in enumerate(rows):
        y = 16 + r * cell
        draw.text((2, y + cell // 2 - 6), name, fill=0)
        for j in range(min(k, len(gen))):
            tile = Image.fromarray(to_u8(gen[j, 0])).resize((size * scale, size * scale), Image.NEAREST)
            canvas.paste(tile, (label_w + j * cell, y))
    canvas.save(path)


def fmt(v, digits=3):
    if v is None:
        return "n/a"
    if isinstance(v, dict):
        return f"{v['mean']:.2e}±{v['std']:.1e}"
    return f"{v:.{digits}f}"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=os.path.join(REPO, "public", "models", "magtile-defect-64"))
    ap.add_argument("--classifier", default=None, help=f"best.pt or model.onnx (default: {DEFAULT_CLASSIFIER_PT} if present, else the exported ONNX)")
    ap.add_argument("--n", type=int, default=32, help="generated windows per class")
    # Sampling settings default to the model manifest's "defaults" (what the studio and the CLI use).
    ap.add_argument("--steps", type=int, default=None)
    ap.add_argument("--guidance", type=float, default=None)
    ap.add_argument("--guidance-interval", default=None, help="LOW,HIGH: guide only at noise levels sigma in (LOW, HIGH]; all: every step")
    ap.add_argument("--sampler", default=None)
    ap.add_argument("--spacing", default=None, help="timestep spacing: leading|trailing|linspace")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--classes", default=None, help="comma-separated (default: the model's defect classes)")
    ap.add_argument("--out", default=os.path.join(REPO, "training", "reports", "quality"))
    ap.add_argument("--config", default=os.path.join(REPO, "training", "configs", "default.json"))
    ap.add_argument("--data", help="dataset root, overrides the config's data_root")
    ap.add_argument("--real-per-class", type=int, default=100, help="real reference windows per class")
    ap.add_argument("--train-crops", type=int, default=300, help="training-split crops per class (x4 flips for memorisation)")
    ap.add_argument("--num-subsets", type=int, default=50)
    ap.add_argument("--subset-size", type=int, default=100)
    ap.add_argument("--grid-k", type=int, default=8, help="windows per half-row in the grid")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--quick", action="store_true", help="tiny run for tests: 2 classes, n 3, 2 steps, few real windows")
    args = ap.parse_args(argv)
    if args.quick:
        args.n, args.steps, args.real_per_class, args.train_crops, args.num_subsets, args.grid_k = 3, 2, 12, 24, 5, 3
    t0 = time.time()
    model_dir = resolve(args.model)
    with open(os.path.join(model_dir, "manifest.json")) as f:
        man = json.load(f)
    d = man["defaults"]
    args.steps = args.steps or d["steps"]
    args.guidance = d["guidance"] if args.guidance is None else args.guidance
    args.sampler = args.sampler or d["sampler"]
    if args.guidance_interval is None:
        args.guidance_interval = ",".join(str(v) for v in d["guidanceInterval"]) if "guidanceInterval" in d else "all"
    args.spacing = args.spacing or d["timestepSpacing"]
    with open(os.path.join(model_dir, "mask_library.json")) as f:
        lib_classes = list(json.load(f)["classes"])
    classes = args.classes.split(",") if args.classes else [c for c in man["classes"] if c in lib_classes and c != FREE_CLASS]
    if args.quick and not args.classes:
        classes = classes[:2]
    clf_path = resolve(args.classifier) if args.classifier else (DEFAULT_CLASSIFIER_PT if os.path.exists(DEFAULT_CLASSIFIER_PT) else DEFAULT_CLASSIFIER_ONNX)
    clf = Classifier(clf_path, args.threads)
    for c in classes + [FREE_CLASS]:
        if c not in clf.classes:
            raise SystemExit(f"class {c} is not a class of the classifier ({clf.classes})")
    with open(args.config) as f:
        cfg = json.load(f)
    size = man["image"]["width"]
    root = resolve(args.data or cfg["data_root"])
    _, items = load_items(root, clf.classes)
    train_items, val_items = split_by_group(items, cfg["val_fraction"], cfg["split_seed"])

    os.makedirs(args.out, exist_ok=True)
    gen_dir = os.path.join(args.out, "generated")
    shutil.rmtree(gen_dir, ignore_errors=True)

    # Real windows: validation reference (fallback: training split) and training crops, per classifier class index.
    need = [clf.classes.index(c) for c in classes] + [clf.classes.index(FREE_CLASS)]
    sub = lambda its: [it for it in its if it.cls in need]  # noqa: E731
    xv, yv, _, mv = fixed_windows(sub(val_items), len(clf.classes), args.real_per_class, size, REAL_SEED, cfg["jitter"], with_masks=True)
    xt, yt, gt, mt = fixed_windows(sub(train_items), len(clf.classes), args.train_crops, size, TRAIN_SEED, cfg["jitter"], with_masks=True)

    gens, gen_masks = {}, {}
    for c in classes:
        tg = time.time()
        gens[c], gen_masks[c] = generate(os.path.relpath(model_dir, REPO), c, args.n, args.seed, args.steps, args.guidance, args.guidance_interval, args.sampler, args.spacing, gen_dir, args.threads)
        print(f"generated {args.n} x {c} in {time.time() - tg:.1f} s", flush=True)

    # Control: pure noise windows (what an untrained denoiser emits). The class the classifier gives them shows
    # which class's label consistency is meaningless for noise-like samples.
    noise = np.clip(np.random.default_rng(7).standard_normal((32, 1, size, size)), -1, 1).astype(np.float32)
    all_x = np.concatenate([xv, xt] + [gens[c] for c in classes] + [noise])
    logits, feats = clf(all_x)
    noise_pred = logits[-len(noise):].argmax(1)
    nv, nt = len(xv), len(xt)
    fv, ft = feats[:nv], feats[nv:nv + nt]
    lv = logits[:nv]
    off = nv + nt
    fgen, lgen = {}, {}
    for c in classes:
        fgen[c], lgen[c] = feats[off:off + args.n], logits[off:off + args.n]
        off += args.n

    free = clf.classes.index(FREE_CLASS)
    per_class, grid_rows = {}, []
    for k, c in enumerate(classes):
        ci = clf.classes.index(c)
        use_val = bool((yv == ci).any())
        if use_val:
            xr, fr, lr, mr_ = xv[yv == ci], fv[yv == ci], lv[yv == ci], mv[yv == ci]
            xf, ff = xv[yv == free], fv[yv == free]
        else:
            xr, fr, lr, mr_ = xt[yt == ci], ft[yt == ci], logits[nv:nv + nt][yt == ci], mt[yt == ci]
            xf, ff = xt[yt == free], ft[yt == free]
        xg, fg = gens[c], fgen[c]
        perm = np.random.default_rng(k).permutation(len(fr))
        h = len(fr) // 2

        # memorisation: RMS pixel distance to training crops (+ flips) of this class
        xtc = xt[yt == ci]
        bank = flips4(xtc)
        rms = np.sqrt(xg[0].size)
        d_gen = nn_distances(xg, bank) / rms
        if use_val:
            d_real = nn_distances(xr, bank) / rms
            real_src = "validation windows vs training crops"
        else:  # leave-tile-group-out within the training crops
            g = gt[yt == ci]
            gb = np.concatenate([g] * 4)
            d_real = np.asarray([nn_distances(xtc[i:i + 1], bank[gb != g[i]])[0] / rms for i in range(len(xtc)) if (gb != g[i]).any()])
            real_src = "training crops vs training crops of other tile groups"
        thr = float(np.percentile(d_real, 1)) if len(d_real) else None
        # The same screen on contrast-normalised windows: RMS distance is dominated by brightness for nearly flat
        # windows, which then sit close to any flat training crop without being copies of it; a copy stays a copy
        # after normalisation. Real-vs-training reference as above (validation windows only).
        zbank = standardise(bank)
        dz_gen = nn_distances(standardise(xg), zbank) / rms
        dz_real = nn_distances(standardise(xr), zbank) / rms if use_val else np.zeros(0)
        zthr = float(np.percentile(dz_real, 1)) if len(dz_real) else None
        hf_real = hf_energy(np.concatenate([xr, xtc]) if use_val else xtc)
        hf_thr = float(np.percentile(hf_real, 99))
        hf_gen = hf_energy(xg)
        # Placement: is the generated defect where its mask says? Contrast with its own mask vs with another
        # generated window's mask (a control: same images, masks that do not belong to them) vs real windows.
        mg_ = gen_masks[c]
        con_own, con_other, con_real = mask_contrast(xg, mg_), mask_contrast(xg, np.roll(mg_, 1, axis=0)), mask_contrast(xr, mr_)

        per_class[c] = {
            "reference": "validation" if use_val else "train (no validation tile group of this class in the split)",
            "realWindows": int(len(fr)),
            "labelConsistency": float((lgen[c].argmax(1) == ci).mean()),
            "predictedClassCounts": {clf.classes[j]: int((lgen[c].argmax(1) == j).sum()) for j in range(len(clf.classes))},
            "classifierAccuracyOnReal": float((lr.argmax(1) == ci).mean()),
            "kid": {
                "generatedVsReal": _kid(fg, fr, args, 100 + k),
                "realHalves": _kid(fr[perm[:h]], fr[perm[h:]], args, 200 + k),
                "freeVsClass": _kid(ff, fr, args, 300 + k),
                "generatedVsTrain": _kid(fg, ft[yt == ci], args, 400 + k),
                # What a model that reproduced the training windows exactly would score against the held-out
                # tile groups: the gap between tile groups, a floor for generatedVsReal.
                "trainVsReal": _kid(ft[yt == ci], fr, args, 500 + k) if use_val else None,
            },
            "diversity": {"generated": mean_pairwise_distance(fg), "real": mean_pairwise_distance(fr)},
            "memorisation": {
                "metric": "min RMS pixel distance in [-1,1] units to training crops of the class (x4 flips)",
                "trainingCrops": int(len(xtc)),
                "generated": _stats(d_gen), "real": _stats(d_real), "realSource": real_src,
                "nearCopyThreshold": thr,
                "nearCopySuspects": int((d_gen < thr).sum()) if thr is not None else None,
                "nearCopySeeds": [int(args.seed + i) for i in np.nonzero(d_gen < thr)[0]] if thr is not None else [],
                "normalised": {"metric": "the same on windows standardised to zero mean, unit std (std floored at 0.02)",
                               "generated": _stats(dz_gen), "real": _stats(dz_real), "nearCopyThreshold": zthr,
                               "nearCopySuspects": int((dz_gen < zthr).sum()) if zthr is not None else None,
                               "nearCopySeeds": [int(args.seed + i) for i in np.nonzero(dz_gen < zthr)[0]] if zthr is not None else []},
            },
            "highFrequency": {"metric": "mean |4-neighbour Laplacian| in [-1,1] units", "realP99": hf_thr,
                              "generatedMean": float(hf_gen.mean()), "realMean": float(hf_real.mean()),
                              "generatedShareAboveRealP99": float((hf_gen > hf_thr).mean())},
            "maskContrast": {"metric": "mean pixel value in a 4-px ring around the mask minus the mean inside it, [-1,1] units (positive: darker inside)",
                             "generatedOwnMask": _median(con_own), "generatedOtherMask": _median(con_other), "real": _median(con_real),
                             "generatedShareDarkerInside": float(np.mean(con_own[~np.isnan(con_own)] > 0)) if (~np.isnan(con_own)).any() else None,
                             "realShareDarkerInside": float(np.mean(con_real[~np.isnan(con_real)] > 0)) if (~np.isnan(con_real)).any() else None},
            "brightnessSpread": {"metric": "std over windows of each window's mean pixel value, [-1,1] units (exposure variety)",
                                 "generated": float(xg.mean(axis=(1, 2, 3)).std()), "real": float(xr.mean(axis=(1, 2, 3)).std())},
        }
        spread = np.unique(np.linspace(0, len(xr) - 1, min(args.grid_k, len(xr))).round().astype(int))
        grid_rows.append((c, xr[spread], xg[:args.grid_k]))

    make_grid(grid_rows, args.grid_k, os.path.join(args.out, "grid.png"))
    make_generated_grid(grid_rows, args.grid_k, os.path.join(args.out, "generated_grid.png"))
    header = ("| class | ref | label consistency | clf acc on real | KID gen-real | KID real halves | KID Free-class | "
              "KID gen-train | KID train-real | diversity gen / real | NN pixel dist gen min / p1 | real min / p1 | near-copies raw / normalised | HF share |")
    lines = [header, "|" + "---|" * 14]
    for c, r in per_class.items():
        mg, mr = r["memorisation"]["generated"], r["memorisation"]["real"]
        lines.append(
            f"| {c} | {'val' if r['reference'] == 'validation' else 'train'} | {r['labelConsistency']:.2f} | {r['classifierAccuracyOnReal']:.2f} | "
            f"{fmt(r['kid']['generatedVsReal'])} | {fmt(r['kid']['realHalves'])} | {fmt(r['kid']['freeVsClass'])} | "
            f"{fmt(r['kid']['generatedVsTrain'])} | {fmt(r['kid']['trainVsReal'])} | {r['diversity']['generated']:.3f} / {r['diversity']['real']:.3f} | "
            f"{mg['min']:.3f} / {mg['p1']:.3f} | {fmt(mr['min'] if mr else None)} / {fmt(mr['p1'] if mr else None)} | "
            f"{r['memorisation']['nearCopySuspects']} / {r['memorisation']['normalised']['nearCopySuspects']} of {args.n} | {r['highFrequency']['generatedShareAboveRealP99']:.2f} |")
    lines += ["", "| class | mask contrast gen (own mask) | gen with another window's mask | real | share darker inside gen / real | brightness spread gen / real | HF energy gen / real |", "|---|---|---|---|---|---|---|"]
    for c, r in per_class.items():
        mc = r["maskContrast"]
        lines.append(f"| {c} | {fmt(mc['generatedOwnMask'])} | {fmt(mc['generatedOtherMask'])} | {fmt(mc['real'])} | "
                     f"{fmt(mc['generatedShareDarkerInside'])} / {fmt(mc['realShareDarkerInside'])} | "
                     f"{fmt(r['brightnessSpread']['generated'])} / {fmt(r['brightnessSpread']['real'])} | "
                     f"{fmt(r['highFrequency']['generatedMean'])} / {fmt(r['highFrequency']['realMean'])} |")
    table = "\n".join(lines)
    report = {
        "model": {"dir": os.path.relpath(model_dir, REPO), "id": man["id"], "version": man["version"], "sha256": man["sha256"]},
        "classifier": {"path": os.path.relpath(clf_path, REPO), "kind": clf.kind, "sha256": sha256_file(clf_path)},
        "generation": {"n": args.n, "steps": args.steps, "guidance": args.guidance, "guidanceInterval": args.guidance_interval, "sampler": args.sampler,
                       "timestepSpacing": args.spacing,
                       "seeds": [args.seed, args.seed + args.n - 1], "backend": "native", "masks": "random real shapes from mask_library.json",
                       "command": "npx tsx scripts/generate.ts --model <model> --class <C> --n N --seed S --steps .. --guidance .. --guidance-interval .. --sampler .. --spacing .. --backend native"},
        "real": {"dataset": os.path.relpath(root, REPO), "split": f"tile_group, val_fraction {cfg['val_fraction']}, seed {cfg['split_seed']}",
                 "referenceWindowsPerClass": args.real_per_class, "trainingCropsPerClass": args.train_crops,
                 "note": "real windows are un-augmented, centred on a random defect pixel with jitter (Free: random)"},
        "kid": {"kernel": "(x.y/d + 1)^3, d = 64 classifier features", "estimator": "unbiased MMD^2",
                "numSubsets": args.num_subsets, "subsetSize": "min(maxSubsetSize, half the smaller set)",
                "maxSubsetSize": args.subset_size},
        "controls": {"gaussianNoiseClippedPredictedClassCounts": {clf.classes[j]: int((noise_pred == j).sum()) for j in range(len(clf.classes))}},
        "quick": args.quick,
        "perClass": per_class,
        "markdown": table,
        "seconds": round(time.time() - t0, 1),
    }
    with open(os.path.join(args.out, "report.json"), "w") as f:
        json.dump(report, f, indent=2)
        f.write("\n")
    print(f"model {man['id']} {man['version']}, classifier {report['classifier']['kind']}, n={args.n} steps={args.steps} guidance={args.guidance} "
          f"guidance-interval={args.guidance_interval} spacing={args.spacing}")
    print(table)
    print(f"control: classifier on {len(noise)} clipped Gaussian-noise windows -> {report['controls']['gaussianNoiseClippedPredictedClassCounts']}")
    print(f"wrote {os.path.join(args.out, 'report.json')} and grid.png in {report['seconds']} s")
    return report


if __name__ == "__main__":
    main()
