"""Train the evaluation classifier (6 classes, 64x64 native-resolution windows) and export it.

  /usr/bin/python3 training/train_classifier.py --max-minutes 6 --threads 1
  /usr/bin/python3 training/train_classifier.py --export-only      # re-export training/runs/classifier/best.pt

Data and split are the denoiser's (training/configs/default.json: data_root, val_fraction 0.2, split_seed 0,
image_size, jitter): trained on the train tile groups, validated on the held-out tile groups, which the denoiser
never saw either. Class-balanced batches (class uniform, image uniform within class), flips + brightness
(WindowSampler.window). A fixed validation set (--val-per-class un-augmented windows per class from the val
groups, fixed rng) gives per-class and macro accuracy; the best checkpoint by macro accuracy is kept.
Classes without validation images (possible only for a class with a single tile group) are left out of the
macro average and reported as null.

Writes training/runs/classifier/{best.pt,last.pt,log.jsonl} and exports <export>/model.onnx (outputs logits
and features, dynamic batch; reloaded with onnxruntime-node and compared with PyTorch), manifest.json and
reference_features.json (features of real training-split windows: no photo pixels ship to the browser). The
manifest records the split: heldOutGroups (validated on, never trained on) and trainGroups.

A user's data (any --data other than the shipped Magnetic-tile set) needs --id (the classifier's own id, not an
embedded one), --out (the export folder) and --run; the manifest names the data and its citation as
training/export.py does (ddstudio/userdata.py). training/train_all.py runs it beside the denoiser with the same
--config, so both train on the same tile-group split. SIGINT / SIGTERM end training at the next step with the
best checkpoint saved and exported.
"""
from __future__ import annotations

import argparse
import base64
import json
import math
import os
import signal
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ddstudio.classifier import (FEATURE_DIM, EvalClassifier, fixed_windows, load_checkpoint, macro,  # noqa: E402
                                 per_class_accuracy, predict, save_checkpoint)
from ddstudio.data import WindowSampler, load_items, split_by_group  # noqa: E402
from ddstudio.metrics import nn_distances  # noqa: E402
from ddstudio.onnx_check import compare  # noqa: E402
from ddstudio.userdata import EMBEDDED_MODEL_IDS, dataset_record, find_citation, id_problem, is_shipped  # noqa: E402
from export import sha256_file  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODEL_ID = "magtile-classifier-64"


def split_text(cfg: dict) -> str:
    return f"tile_group, val_fraction {cfg['val_fraction']}, seed {cfg['split_seed']}, at least one held-out group per class"

def split_groups(items) -> list[str]:
    """The sorted tile groups of a side of the split (manifest heldOutGroups / trainGroups)."""
    return sorted({it.group for it in items})


VAL_SEED = 12345     # fixed validation windows
REF_SEED = 54321     # reference (training-split) windows


def resolve(p: str) -> str:
    return p if os.path.isabs(p) else os.path.normpath(os.path.join(REPO, p))


def load_split(cfg: dict, data: str | None, max_per_class: int | None = None):
    root = resolve(data or cfg["data_root"])
    classes, items = load_items(root, max_per_class=max_per_class)
    train, val = split_by_group(items, cfg["val_fraction"], cfg["split_seed"])
    return root, classes, train, val


def train(args, cfg: dict) -> str:
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    root, classes, train_items, val_items = load_split(cfg, args.data, args.max_per_class)
    size = cfg["image_size"]
    sampler = WindowSampler(train_items, len(classes), size, jitter=cfg["jitter"], brightness=args.brightness)
    xv, yv, _ = fixed_windows(val_items, len(classes), args.val_per_class, size, VAL_SEED, cfg["jitter"])
    counts = {n: (sum(it.cls == c for it in train_items), sum(it.cls == c for it in val_items)) for c, n in enumerate(classes)}
    print(f"classes={classes} train/val images per class={counts} val windows={len(xv)}", flush=True)
    missing = [n for c, n in enumerate(classes) if not (yv == c).any()]
    if missing:
        print(f"WARNING: no validation tile groups for {missing} with this split: their accuracy is null and "
              f"left out of the macro average", flush=True)

    model = EvalClassifier(len(classes))
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    os.makedirs(args.run, exist_ok=True)
    log = open(os.path.join(args.run, "log.jsonl"), "w")
    best, best_path = -1.0, os.path.join(args.run, "best.pt")
    meta = {"classes": classes, "image_size": size, "data_root_used": os.path.relpath(root, REPO), "dataset": dataset_record(root),
            "val_fraction": cfg["val_fraction"], "split_seed": cfg["split_seed"], "val_per_class": args.val_per_class,
            "train_groups": sorted({it.group for it in train_items})}
    t0 = time.time()
    step, run_loss = 0, 0.0
    stop: list[int] = []
    previous = {sig: signal.signal(sig, lambda signum, _frame: stop.append(signum)) for sig in (signal.SIGTERM, signal.SIGINT)}
    while True:
        elapsed = time.time() - t0
        frac = max(step / args.max_steps if args.max_steps else 0.0, elapsed / (args.max_minutes * 60))
        done = frac >= 1.0 or bool(stop)
        if step and (step % args.eval_every == 0 or done):
            acc = per_class_accuracy(predict(model, xv)[0], yv, classes)
            m = macro(acc)
            rec = {"step": step, "minutes": round(elapsed / 60, 2), "loss": round(run_loss / args.eval_every, 4),
                   "macro": round(m, 4), "per_class": acc,
                   "eta_s": round(elapsed * (1 - frac) / frac) if 0 < frac < 1 and not stop else 0}
            log.write(json.dumps(rec) + "\n"), log.flush()
            print(json.dumps(rec), flush=True)
            run_loss = 0.0
            if m > best:
                best = m
                save_checkpoint(best_path, model, {**meta, "step": step, "per_class_accuracy": acc, "macro_accuracy": m})
        if done:
            break
        lr = args.lr * min(1.0, (step + 1) / args.warmup) * 0.5 * (1 + math.cos(math.pi * min(frac, 1.0)))
        for g in opt.param_groups:
            g["lr"] = lr
        cs = rng.integers(len(sampler.present), size=args.batch)
        xs = [sampler.window(sampler.present[c], rng)[0] for c in cs]
        x = torch.from_numpy(np.stack(xs)[:, None])
        y = torch.as_tensor([sampler.present[c] for c in cs], dtype=torch.long)
        model.train()
        logits, _ = model(x)
        loss = F.cross_entropy(logits, y, label_smoothing=args.label_smoothing)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        run_loss += float(loss)
        step += 1
    if best < 0:  # stopped before the first evaluation: keep what there is
        acc = per_class_accuracy(predict(model, xv)[0], yv, classes)
        best = macro(acc)
        save_checkpoint(best_path, model, {**meta, "step": step, "per_class_accuracy": acc, "macro_accuracy": best})
    save_checkpoint(os.path.join(args.run, "last.pt"), model, {**meta, "step": step})
    log.close()
    for sig, handler in previous.items():
        signal.signal(sig, handler)
    args.interrupted = bool(stop)
    if stop:
        print(f"signal {stop[0]}: stopped at step {step}", flush=True)
    print(f"trained {step} steps in {(time.time() - t0) / 60:.1f} min; best macro accuracy {best:.3f}", flush=True)
    return best_path


def _pct(d: np.ndarray) -> dict | None:
    if not len(d):
        return None
    return {"count": int(len(d)), "min": float(d.min()), "p1": float(np.percentile(d, 1)), "p5": float(np.percentile(d, 5)),
            "p50": float(np.percentile(d, 50))}


def export(args, cfg: dict, weights: str) -> dict:
    model, ck = load_checkpoint(weights)
    classes, size = ck["classes"], ck["image_size"]
    os.makedirs(args.export, exist_ok=True)
    onnx_path = os.path.join(args.export, "model.onnx")
    x = np.random.default_rng(7).uniform(-1, 1, (3, 1, size, size)).astype(np.float32)
    with torch.no_grad():
        lo, fe = model(torch.from_numpy(x))
        torch.onnx.export(model, (torch.from_numpy(x),), onnx_path, input_names=["image"], output_names=["logits", "features"],
                          opset_version=17, do_constant_folding=True,
                          dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}, "features": {0: "batch"}})
    diffs = compare(onnx_path, {"image": x}, {"logits": lo.numpy(), "features": fe.numpy()}, args.atol)
    assert max(diffs.values()) < args.atol, diffs

    # Reference features of real training-split windows, and real-vs-real nearest-neighbour statistics.
    _, _, train_items, val_items = load_split(cfg, args.data, args.max_per_class)
    xr, yr, gr = fixed_windows(train_items, len(classes), args.ref_per_class, size, REF_SEED, cfg["jitter"])
    xv, yv, _ = fixed_windows(val_items, len(classes), args.val_per_class, size, VAL_SEED, cfg["jitter"])
    _, fr = predict(model, xr)
    _, fv = predict(model, xv)
    ref_classes, nn_stats = {}, {}
    for c, name in enumerate(classes):
        sel = yr == c
        f = fr[sel].astype("<f4")
        if not len(f):
            continue
        ref_classes[name] = {"count": int(len(f)), "tileGroups": int(len(set(gr[sel]))),
                             "features": base64.b64encode(np.ascontiguousarray(f).tobytes()).decode(),
                             "mean": [round(float(v), 6) for v in f.mean(0)]}
        # leave-tile-group-out: each reference window to its nearest reference window from ANOTHER tile group
        g = gr[sel]
        lgo = np.asarray([nn_distances(f[i:i + 1], f[g != g[i]])[0] if (g != g[i]).any() else np.nan for i in range(len(f))])
        nn_stats[name] = {"valToTrain": _pct(nn_distances(fv[yv == c], f)),
                          "trainLeaveGroupOut": _pct(lgo[np.isfinite(lgo)])}
    ref = {"format": "defect-diffusion-reference-features", "formatVersion": 1, "classifierId": args.id,
           "classifierSha256": sha256_file(onnx_path), "featureDim": FEATURE_DIM, "dtype": "float32", "byteOrder": "little",
           "source": f"classifier features of {args.ref_per_class} un-augmented {size}x{size} windows per class from the "
                     f"TRAINING-split tile groups ({split_text(cfg)}), rng seed {REF_SEED}; no photo pixels are stored",
           "classes": ref_classes,
           "nearestNeighbour": {
               "metric": "L2 distance between 64-dim classifier features",
               "note": "valToTrain: each fixed validation window (held-out tile groups) to its nearest reference window "
                       "of the same class; null when the class has no validation tile groups. trainLeaveGroupOut: each "
                       "reference window to its nearest reference window of the same class from another tile group. "
                       "A generated window much closer to a reference window than p1 of these is a memorisation suspect.",
               "perClass": nn_stats}}
    with open(os.path.join(args.export, "reference_features.json"), "w") as f:
        json.dump(ref, f, separators=(",", ":"))

    acc = ck["per_class_accuracy"]
    dataset = ck.get("dataset") or dataset_record(resolve(args.data or cfg["data_root"]))
    citation, citation_source = find_citation(resolve(args.data or cfg["data_root"]), args.citation)
    img = ["batch", 1, size, size]
    manifest = {
        "format": "defect-diffusion-model", "formatVersion": 1, "task": "classifier", "id": args.id,
        "version": f"1.0.0+step{ck['step']}", "file": "model.onnx", "sha256": sha256_file(onnx_path),
        "sizeBytes": os.path.getsize(onnx_path),
        "image": {"width": size, "height": size, "channels": 1, "pixelRange": [-1, 1], "pixelScale": 1.0,
                  "pixelScaleNote": "native resolution of the training photos: 1 model pixel = 1 photo pixel"},
        "inputs": [{"name": "image", "role": "image", "dtype": "float32", "shape": img}],
        "outputs": [{"name": "logits", "role": "logits", "dtype": "float32", "shape": ["batch", len(classes)]},
                    {"name": "features", "role": "features", "dtype": "float32", "shape": ["batch", FEATURE_DIM]}],
        "classes": classes, "featureDim": FEATURE_DIM, "referenceFeatures": "reference_features.json",
        # The split it was validated and trained on: an evaluation never holds out a group it was trained on
        # (src/core/quality/heldOut.ts), and for this data holds out exactly these.
        "heldOutGroups": split_groups(val_items), "trainGroups": split_groups(train_items),
        "validation": {"perClassAccuracy": acc, "macroAccuracy": ck["macro_accuracy"], "windowsPerClass": ck["val_per_class"],
                       "split": split_text(cfg),
                       "note": "un-augmented windows from the held-out tile groups; null = no validation tile group of "
                               "that class in this split (left out of the macro average)"},
        "training": {"steps": ck["step"], "parameters": sum(p.numel() for p in model.parameters()),
                     "dataset": dataset["name"], "datasetFiles": dataset["files"], "datasetFileListSha256": dataset["fileListSha256"],
                     "citation": citation, "citationSource": citation_source},
        "onnxParity": {"maxAbsDiff": max(diffs.values()), "perOutput": diffs, "tolerance": args.atol, "runtime": "onnxruntime-node"},
    }
    with open(os.path.join(args.export, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    print(json.dumps({"onnx": onnx_path, "bytes": manifest["sizeBytes"], "maxAbsDiff": manifest["onnxParity"]["maxAbsDiff"],
                      "macro": ck["macro_accuracy"], "per_class": acc,
                      "reference_features_bytes": os.path.getsize(os.path.join(args.export, "reference_features.json"))}))
    return manifest


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default=os.path.join(REPO, "training", "configs", "default.json"))
    ap.add_argument("--data", help="dataset root, overrides the config's data_root")
    ap.add_argument("--export", "--out", dest="export", help=f"export folder (default for the shipped data: public/models/{MODEL_ID})")
    ap.add_argument("--id", help=f"classifier id for the manifest (default for the shipped data: {MODEL_ID})")
    ap.add_argument("--citation", help="the training data's citation and licence (default: a CITATION / README file in the data folder)")
    ap.add_argument("--no-export", action="store_true")
    ap.add_argument("--export-only", action="store_true", help="export <run>/best.pt without training")
    ap.add_argument("--max-minutes", type=float, default=6.0)
    ap.add_argument("--max-steps", type=int, default=None)
    ap.add_argument("--max-per-class", type=int, default=None, help="smoke tests: use only N images per class")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--weight-decay", type=float, default=1e-4)
    ap.add_argument("--warmup", type=int, default=50)
    ap.add_argument("--label-smoothing", type=float, default=0.05)
    ap.add_argument("--brightness", type=float, default=0.1)
    ap.add_argument("--eval-every", type=int, default=50)
    ap.add_argument("--val-per-class", type=int, default=40)
    ap.add_argument("--ref-per-class", type=int, default=100)
    ap.add_argument("--atol", type=float, default=1e-4)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--run", default=None, help="run folder (default for the shipped data: training/runs/classifier)")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    with open(args.config) as f:
        cfg = json.load(f)
    if is_shipped(resolve(args.data or cfg["data_root"])):
        args.id = args.id or MODEL_ID
        args.export = args.export or os.path.join(REPO, "public", "models", MODEL_ID)
        args.run = args.run or os.path.join(REPO, "training", "runs", "classifier")
        if id_problem(args.id) and args.id not in EMBEDDED_MODEL_IDS:
            ap.error(f"--id {id_problem(args.id)}")
    else:
        missing = [f for f, v in (("--id", args.id), ("--out", args.export), ("--run", args.run)) if not v]
        if missing:
            ap.error(f"--data is not the shipped Magnetic-tile set: give {', '.join(missing)} (nothing is written into the repository for it)")
        if id_problem(args.id):
            ap.error(f"--id {id_problem(args.id)}")
    args.interrupted = False
    weights = os.path.join(args.run, "best.pt") if args.export_only else train(args, cfg)
    manifest = None if args.no_export else export(args, cfg, weights)
    return {"manifest": manifest, "interrupted": args.interrupted, "weights": weights}


if __name__ == "__main__":
    main()
