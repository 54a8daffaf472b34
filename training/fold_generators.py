"""Fold-honest generators for the downstream protocol: one denoiser per development fold, trained without that
fold's tile groups (and without the final test's), so that a development fold's synthetic images come from a
generator that never saw its test tiles.

  /usr/bin/python3 training/fold_generators.py --out training/runs/folds [--parallel 3] [--max-minutes 60]
  /usr/bin/python3 training/fold_generators.py --out training/runs/folds --export public/models   # then export them
  npm run generate -- --model public/models/magtile-defect-64-fold0 --class defects --n 300 --seed 1 --out syn/fold0   # each k
  npm run downstream -- ... --fold-generators public/models/magtile-defect-64-fold0,...fold1,...fold2 \
      --fold-synthetic syn/fold0,syn/fold1,syn/fold2        # the development folds, fold-honest

Why: the shipped generator trained on every development fold's tiles, and recipes chosen there favoured leaning
harder on its images, which did not carry over to the tiles it never saw (training/reports/downstream/default/
PLAN-share.md). The folds are the protocol's own (ddstudio/downstream.py protocol_folds: the same --data,
--generator and --folds give the same folds as training/downstream.py). Fold k's generator trains with
training/train.py --hold-out-groups <out>/fold<k>/hold_out.json (that fold's groups plus the generator's own
held-out ones), the same config and, by default, as many steps as the generator (its manifest's training.steps),
and the end of its run annealed over --anneal-steps, so that what differs is the tiles it saw (and, approximately,
where the shipped run's time-based anneal began).

Each fold's run is <out>/fold<k> (train.py's last.pt / weights.pt / log.jsonl): the same command resumes every fold
from its last step, --max-minutes bounds this invocation, --parallel runs that many folds at once (on a GPU the
small denoisers leave it mostly idle, so three at once cost about as long as one). --compact writes
<out>/fold<k>.pt (model and EMA weights in float16, step, config: ~11 MB, what a device machine can send back),
--export <dir> exports each finished fold to <dir>/<id>-fold<k> (training/export.py; from weights.pt, or from
fold<k>.pt when only that came back). A fold is finished when its run reached --max-steps. A run folder holding
init.pt (weights brought back from another machine) and no last.pt starts from it (train.py --init).
training/device_folds.sh runs all of this on a GPU machine in one call.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ddstudio.data import load_items  # noqa: E402
from ddstudio.downstream import protocol_folds  # noqa: E402
from ddstudio.unet import float16_checkpoint  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)


def hold_outs(data: str, generator: str, folds: int) -> tuple[dict, list[list[str]]]:
    """The generator's manifest and, per development fold, the sorted tile groups its fold generator must not see."""
    with open(os.path.join(generator, "manifest.json")) as f:
        manifest = json.load(f)
    held = manifest.get("training", {}).get("heldOutGroups")
    if not held:
        raise SystemExit(f"--generator {generator}: its manifest records no training.heldOutGroups, so the protocol's final "
                         "fold is not the generator's held-out tiles; accepted: a model folder that training/export.py wrote")
    _, items = load_items(data)
    final, dev = protocol_folds(items, held, folds)
    return manifest, [sorted(d | final) for d in dev]


def last_step(run: str) -> int:
    for name in ("weights.pt", "init.pt"):
        path = os.path.join(run, name)
        if os.path.exists(path):
            return int(torch.load(path, map_location="cpu")["step"])
    return 0


def compact(run: str, out_path: str) -> None:
    ck = torch.load(os.path.join(run, "weights.pt"), map_location="cpu")
    torch.save(float16_checkpoint(ck, ck["config"]), out_path + ".tmp")
    os.replace(out_path + ".tmp", out_path)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=os.path.join(REPO, "..", "shared", "datasets", "magnetic-tile", "train"))
    ap.add_argument("--generator", default=os.path.join(REPO, "public", "models", "magtile-defect-64"),
                    help="the protocol's generator: its held-out tile groups are the final fold, its config and steps are reused")
    ap.add_argument("--config", default=os.path.join(HERE, "configs", "default.json"))
    ap.add_argument("--folds", type=int, default=4, help="as training/downstream.py --folds")
    ap.add_argument("--only", help="comma list of the development folds to train (default: all)")
    ap.add_argument("--out", required=True, help="runs folder: <out>/fold<k>")
    ap.add_argument("--max-steps", type=int, help="steps per fold generator (default: the generator's manifest training.steps)")
    ap.add_argument("--max-minutes", type=float, help="bound this invocation (each fold resumes where it stopped)")
    ap.add_argument("--parallel", type=int, default=1)
    ap.add_argument("--threads", type=int, help="torch threads per fold process")
    ap.add_argument("--save-minutes", type=float, default=5.0)
    ap.add_argument("--anneal-steps", type=int, default=1700,
                    help="the learning rate's cosine over the last N steps (train.py --anneal-steps). The shipped generator's "
                         "last 40 minutes were annealed (README), about 1700 steps at ~1.4 s a step: the default approximates that")
    ap.add_argument("--compact", action="store_true", help="also write <out>/fold<k>.pt (float16 weights, ~11 MB)")
    ap.add_argument("--export", help="export every finished fold generator to <dir>/<id>-fold<k> instead of training")
    args = ap.parse_args(argv)

    manifest, holds = hold_outs(args.data, args.generator, args.folds)
    steps = args.max_steps or manifest["training"]["steps"]
    todo = list(range(len(holds))) if not args.only else [int(k) for k in args.only.split(",")]
    bad = [k for k in todo if not 0 <= k < len(holds)]
    if bad:
        ap.error(f"--only {bad}: there are {len(holds)} development folds (0..{len(holds) - 1})")
    base_id = manifest["id"]

    if args.export:
        for k in todo:
            run = os.path.join(args.out, f"fold{k}")
            weights = os.path.join(run, "weights.pt")
            weights = weights if os.path.exists(weights) else os.path.join(args.out, f"fold{k}.pt")
            if not os.path.exists(weights):
                raise SystemExit(f"fold {k}: neither {run}/weights.pt nor {args.out}/fold{k}.pt; train it first")
            ck = torch.load(weights, map_location="cpu")
            if ck["step"] < steps:
                raise SystemExit(f"fold {k}: trained {ck['step']} of {steps} steps; run the training command again to finish it")
            seen = set(holds[k]) & set(ck["config"]["train_groups"])
            if seen:
                raise SystemExit(f"fold {k}: {weights} trained on {len(seen)} tile group(s) of development fold {k} or the "
                                 f"final test (e.g. {sorted(seen)[:3]}): it is not fold-honest")
            out = os.path.join(args.export, f"{base_id}-fold{k}")
            cmd = [sys.executable, os.path.join(HERE, "export.py"), "--weights", weights, "--out", out, "--id", f"{base_id}-fold{k}",
                   "--data", args.data]
            print(" ".join(cmd), flush=True)
            subprocess.run(cmd, check=True)
        return 0

    procs: list[tuple[int, subprocess.Popen]] = []
    queue = [k for k in todo if last_step(os.path.join(args.out, f"fold{k}")) < steps]
    t0 = time.time()
    for k in todo:
        if k not in queue:
            print(f"fold {k}: finished ({steps} steps)", flush=True)
    while queue or procs:
        while queue and len(procs) < args.parallel:
            k = queue.pop(0)
            run = os.path.join(args.out, f"fold{k}")
            os.makedirs(run, exist_ok=True)
            with open(os.path.join(run, "hold_out.json"), "w") as f:
                json.dump(holds[k], f, indent=0)
            cmd = [sys.executable, os.path.join(HERE, "train.py"), "--config", args.config, "--run", run, "--data", args.data,
                   "--id", f"{base_id}-fold{k}", "--hold-out-groups", os.path.join(run, "hold_out.json"),
                   "--max-steps", str(steps), "--save-minutes", str(args.save_minutes)]
            if args.anneal_steps:
                cmd += ["--anneal-steps", str(min(args.anneal_steps, steps))]
            if args.max_minutes is not None:
                left = args.max_minutes - (time.time() - t0) / 60
                if left <= 0.2:
                    queue.insert(0, k)
                    break
                cmd += ["--max-minutes", f"{left:.2f}"]
            if args.threads:
                cmd += ["--threads", str(args.threads)]
            if os.path.exists(os.path.join(run, "init.pt")) and not os.path.exists(os.path.join(run, "last.pt")):
                cmd += ["--init", os.path.join(run, "init.pt")]   # a fold continued from weights brought back (device_folds.sh)
            print(f"fold {k}: {' '.join(cmd)}", flush=True)
            with open(os.path.join(run, "stdout.log"), "a") as log:   # the child keeps its own copy of the handle
                procs.append((k, subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)))
        if not procs:
            break
        time.sleep(2)
        for k, p in list(procs):
            if p.poll() is not None:
                procs.remove((k, p))
                run = os.path.join(args.out, f"fold{k}")
                print(f"fold {k}: train.py exited {p.returncode} at step {last_step(run)} of {steps}", flush=True)
                if p.returncode != 0:
                    raise SystemExit(f"fold {k}: train.py failed; see {run}/stdout.log")
                if args.compact:
                    compact(run, os.path.join(args.out, f"fold{k}.pt"))
    left = [k for k in todo if last_step(os.path.join(args.out, f"fold{k}")) < steps]
    print(json.dumps({"finished": [k for k in todo if k not in left], "unfinished": left, "steps": steps,
                      "minutes": round((time.time() - t0) / 60, 1)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
