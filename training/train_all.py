"""From a folder of photos to a model the studio loads, in one command.

  npm run train -- --data <folder> --id <model-id> --out <model folder> [--minutes 60] [--citation "..."] [--resume]

(npm runs /usr/bin/python3 training/train_all.py, or $PYTHON; relative paths are taken from the folder npm was
started in.) The data folder is <folder>/<Class>/<stem>.jpg|png with optional <stem>_mask.png (white = defect),
a defect-free class named "Free" if there is one, and optionally a manifest_extra.csv (image, tile_group) that
keeps the photos of one part on one side of the validation split. Stages:

  1. check the folder (ddstudio/datacheck.py): what it found, what it warns about, what it refuses (then stop);
  2. train the denoiser (training/train.py) for --denoiser-share of --minutes, the last part annealed;
  3. train the evaluation classifier (training/train_classifier.py) for the rest, on the same tile-group split
     (same config: val_fraction, split_seed), and export it with its reference features to <out>/classifier;
  4. export the denoiser (training/export.py): <out>/model.onnx, manifest.json, mask_library.json, part_masks.json,
     model_io_<id>.json, and <out>/<id>.zip, which the studio's "Load model" accepts;
  5. with --distill-share S (default 0: off), distil the exported denoiser into a few-step student
     (training/distill.py) for that share of --minutes, taken from the denoiser's, and export it as a second model,
     <out>/fast (id <id>-fast, sampled in 1-8 network calls instead of the teacher's 33) with <out>/fast/<id>-fast.zip.
     Distillation pays off on a GPU or with hours of CPU: the student of the shipped model took 1845 steps (about
     2 CPU hours here) to come within the teacher's noise on 3 of 5 classes.

Training state lives in <out>/run (checkpoints, logs, state.json). Ctrl-C stops at the next step with the weights
saved; the same command with --resume continues the denoiser from its last step (a classifier stage that was
stopped is trained again from the start: it is the short one). CUDA is used by the denoiser when present.
Nothing is written outside --out.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
import zipfile

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import export  # noqa: E402
import train  # noqa: E402
import train_classifier  # noqa: E402
from ddstudio.classifier import load_checkpoint  # noqa: E402
from ddstudio.datacheck import check_dataset  # noqa: E402
from ddstudio.userdata import dataset_record, find_citation, id_problem  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_CONFIG = os.path.join(REPO, "training", "configs", "default.json")
# What src/dataset/modelZip.ts reads; classifier/ is the model's own evaluation classifier, its judge in the studio
# (src/core/quality/judgeChoice.ts).
ZIP_FILES = ("manifest.json", "model.onnx", "mask_library.json", "part_masks.json",
             "classifier/manifest.json", "classifier/model.onnx", "classifier/reference_features.json")
EXIT_REFUSED, EXIT_INTERRUPTED = 2, 130


def user_path(p: str) -> str:
    """A path as the user typed it: npm runs scripts from the package root and says where it was started in INIT_CWD."""
    return os.path.abspath(os.path.join(os.environ.get("INIT_CWD") or os.getcwd(), os.path.expanduser(p)))


def minutes(s: float) -> str:
    return f"{s / 60:.1f} min"


class Run:
    """<out>/run/state.json: which stages are done and how much of the budget each has used."""

    def __init__(self, out: str):
        self.dir = os.path.join(out, "run")
        self.path = os.path.join(self.dir, "state.json")
        self.state: dict = {}
        if os.path.exists(self.path):
            with open(self.path) as f:
                self.state = json.load(f)

    def stage(self, name: str) -> dict:
        return self.state.setdefault("stages", {}).setdefault(name, {"done": False, "seconds": 0.0})

    def save(self) -> None:
        os.makedirs(self.dir, exist_ok=True)
        with open(self.path + ".tmp", "w") as f:
            json.dump(self.state, f, indent=2)
        os.replace(self.path + ".tmp", self.path)


def parse(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="the data folder: <Class>/<stem>.jpg|png (+ <stem>_mask.png)")
    ap.add_argument("--id", required=True, help="your model's id (letters, digits, '.', '_', '-'; not an embedded model's id)")
    ap.add_argument("--out", required=True, help="the model folder to write (checkpoints go to <out>/run)")
    ap.add_argument("--minutes", type=float, default=60.0, help="time budget for training both networks (default 60)")
    ap.add_argument("--citation", help="the data's citation and licence (default: a CITATION / README file in the data folder)")
    ap.add_argument("--resume", action="store_true", help="continue the run in <out>/run")
    ap.add_argument("--config", default=DEFAULT_CONFIG, help="network and training config (default: the default model's)")
    ap.add_argument("--denoiser-share", type=float, default=0.75, help="share of --minutes for the denoiser (default 0.75)")
    ap.add_argument("--distill-share", type=float, default=0.0, help="share of --minutes for distilling a few-step student "
                    "(taken from the denoiser's share; default 0: no student)")
    ap.add_argument("--threads", type=int, default=None, help="CPU threads (default: torch's choice)")
    ap.add_argument("--max-steps", type=int, default=None, help="also stop each network after N steps (smoke tests)")
    args = ap.parse_args(argv)
    if id_problem(args.id):
        ap.error(f"--id {id_problem(args.id)}")
    if id_problem(args.id + "-classifier"):
        ap.error(f"--id: with '-classifier' appended (the evaluation classifier's id) it {id_problem(args.id + '-classifier')}")
    if not 0 < args.denoiser_share < 1:
        ap.error("--denoiser-share must be in (0, 1)")
    if not 0 <= args.distill_share < args.denoiser_share:
        ap.error("--distill-share must be in [0, --denoiser-share): it is taken from the denoiser's time")
    if args.minutes <= 0:
        ap.error("--minutes must be positive")
    args.data, args.out, args.config = user_path(args.data), user_path(args.out), user_path(args.config)
    return ap, args


def write_zip(out: str, model_id: str, classifier_dir: str | None = None) -> str:
    """<out>/<id>.zip of ZIP_FILES; the classifier/ files from classifier_dir (default <out>/classifier)."""
    path = os.path.join(out, f"{model_id}.zip")
    cdir = classifier_dir or os.path.join(out, "classifier")
    with zipfile.ZipFile(path + ".tmp", "w", zipfile.ZIP_DEFLATED) as z:
        for name in ZIP_FILES:
            z.write(os.path.join(cdir, name.split("/", 1)[1]) if name.startswith("classifier/") else os.path.join(out, name), name)
    os.replace(path + ".tmp", path)
    return path


def main(argv=None) -> int:
    ap, args = parse(argv)
    with open(args.config) as f:
        cfg = json.load(f)
    run = Run(args.out)
    if run.state and not args.resume:
        ap.error(f"{args.out} already holds a run ({run.path}); pass --resume to continue it, or choose another --out")
    if args.resume and not run.state:
        ap.error(f"--resume: there is no run to continue in {args.out} (no run/state.json)")
    if not run.state and os.path.isdir(args.out) and os.listdir(args.out):
        ap.error(f"{args.out} is not empty and holds no run; choose a new or empty folder for the model")

    stages = 5 if args.distill_share else 4
    print(f"[1/{stages}] checking {args.data}", flush=True)
    report = check_dataset(args.data, cfg["image_size"], cfg["val_fraction"], cfg["split_seed"])
    print(report.text(), flush=True)
    if not report.ok:
        return EXIT_REFUSED
    dataset = dataset_record(args.data)
    citation, source = find_citation(args.data, args.citation)
    print(f"  citation ({source}): {citation}", flush=True)
    if run.state:
        if run.state.get("id") != args.id or run.state.get("dataset") != dataset:
            ap.error(f"--resume: the run in {args.out} is of model {run.state.get('id')!r} on data {run.state.get('dataset')}, "
                     f"not {args.id!r} on {dataset}")
    else:
        run.state = {"id": args.id, "dataset": dataset, "config": os.path.basename(args.config)}
    run.state["minutes"] = args.minutes
    run.save()
    if args.threads:
        torch.set_num_threads(args.threads)
    threads = args.threads or torch.get_num_threads()
    budget = {"denoiser": args.minutes * 60 * (args.denoiser_share - args.distill_share),
              "classifier": args.minutes * 60 * (1 - args.denoiser_share)}
    if args.distill_share:
        budget["distill"] = args.minutes * 60 * args.distill_share
    device = "CUDA" if torch.cuda.is_available() else f"CPU, {threads} thread{'' if threads == 1 else 's'}"
    distill_text = f", distillation {minutes(budget['distill'])}" if "distill" in budget else ""
    print(f"  budget {minutes(args.minutes * 60)}: denoiser {minutes(budget['denoiser'])}, classifier {minutes(budget['classifier'])}"
          f"{distill_text} (then about a minute of export); denoiser on {device}", flush=True)
    t_start = time.time()

    def left_after(stage: str) -> float:
        return sum(max(0.0, budget[s] - run.stage(s)["seconds"]) for s in budget if s != stage and not run.stage(s)["done"])

    den_run, cls_run = os.path.join(run.dir, "denoiser"), os.path.join(run.dir, "classifier")
    st = run.stage("denoiser")
    if not st["done"]:
        rem = budget["denoiser"] - st["seconds"]
        print(f"[2/{stages}] denoiser: {minutes(rem)} left of {minutes(budget['denoiser'])}"
              f"{' (resuming)' if os.path.exists(os.path.join(den_run, 'last.pt')) else ''}; whole run ETA "
              f"{minutes(rem + left_after('denoiser'))}. Progress every 50 steps (eta_s: seconds left of this stage)", flush=True)
        targv = ["--config", args.config, "--run", den_run, "--data", args.data, "--id", args.id,
                 "--max-minutes", f"{max(rem, 0.0) / 60:.4f}", "--save-minutes", "5"]
        if rem > 120:  # anneal the last fifth of the budget (at most the time this invocation has)
            targv += ["--anneal-minutes", f"{min(rem, 0.2 * budget['denoiser']) / 60:.4f}"]
        if args.max_steps is not None:
            targv += ["--max-steps", str(args.max_steps)]
        if args.threads:
            targv += ["--threads", str(args.threads)]
        t0 = time.time()
        res = train.main(targv)
        st["seconds"] += time.time() - t0
        st["step"] = res["step"]
        st["done"] = not res["interrupted"]
        run.save()
        if res["interrupted"]:
            print(f"stopped: the denoiser's weights are saved at step {res['step']} in {den_run}; run the same command with "
                  f"--resume to continue ({minutes(budget['denoiser'] - st['seconds'])} of its budget left)", flush=True)
            return EXIT_INTERRUPTED
    else:
        print(f"[2/{stages}] denoiser: done earlier (step {st.get('step')})", flush=True)

    st = run.stage("classifier")
    cls_out = os.path.join(args.out, "classifier")
    if not st["done"]:
        st["seconds"] = 0.0   # a stopped classifier stage starts again (no optimizer state is kept for it)
        print(f"[3/{stages}] evaluation classifier ({args.id}-classifier): {minutes(budget['classifier'])}, same tile-group split; "
              f"progress every 50 steps", flush=True)
        cargv = ["--config", args.config, "--data", args.data, "--run", cls_run, "--id", f"{args.id}-classifier",
                 "--out", cls_out, "--max-minutes", f"{budget['classifier'] / 60:.4f}", "--threads", str(threads)]
        if args.citation:
            cargv += ["--citation", args.citation]
        if args.max_steps is not None:
            cargv += ["--max-steps", str(args.max_steps)]
        t0 = time.time()
        res = train_classifier.main(cargv)
        st["seconds"] = time.time() - t0
        st["done"] = not res["interrupted"]
        run.save()
        if res["interrupted"]:
            print(f"stopped during the classifier; the denoiser is done. Run the same command with --resume: the classifier "
                  f"is trained again ({minutes(budget['classifier'])}) and both are exported", flush=True)
            return EXIT_INTERRUPTED
        st["macroAccuracy"] = res["manifest"]["validation"]["macroAccuracy"]
        run.save()
    else:
        print(f"[3/{stages}] evaluation classifier: done earlier", flush=True)
    # Both networks must have trained on the same tile groups, or the classifier's judgement of the denoiser's
    # held-out classes is not held out.
    den_groups = torch.load(os.path.join(den_run, "weights.pt"), map_location="cpu")["config"]["train_groups"]
    _, cls_meta = load_checkpoint(os.path.join(cls_run, "best.pt"))
    if sorted(den_groups) != sorted(cls_meta["train_groups"]):
        raise AssertionError("the denoiser and the classifier trained on different tile groups; the split rule differs")

    print(f"[4/{stages}] exporting", flush=True)
    eargv = ["--weights", os.path.join(den_run, "weights.pt"), "--out", args.out, "--data", args.data, "--id", args.id]
    if args.citation:
        eargv += ["--citation", args.citation]
    manifest = export.main(eargv)
    zip_path = write_zip(args.out, args.id)
    run.state["exported"] = {"sha256": manifest["sha256"], "steps": manifest["training"]["steps"]}
    run.save()
    fast = None
    if "distill" in budget:
        fast = distill_stage(args, run, budget["distill"], den_run, threads, stages)
        if fast is None:
            return EXIT_INTERRUPTED
    acc = run.stage("classifier").get("macroAccuracy")
    print(f"\ndone in {minutes(time.time() - t_start)} (this invocation). Model {args.id}, {manifest['training']['steps']} denoiser steps, "
          f"classes {', '.join(manifest['classes'])}", flush=True)
    print(f"  model folder:  {args.out}", flush=True)
    print(f"  studio zip:    {zip_path}   (Load model in the studio accepts it)", flush=True)
    print(f"  classifier:    {cls_out}   (macro accuracy on held-out tile groups: "
          f"{'n/a' if acc is None else f'{acc:.3f}'})", flush=True)
    print(f"  citation:      {manifest['training']['citation']}", flush=True)
    if fast:
        print(f"  fast student:  {fast['out']}   ({fast['id']}, {fast['steps']} distillation steps; zip {fast['zip']})", flush=True)
    print(f"  try it:        npm run generate -- --model {args.out} --class {manifest['classes'][0]} --n 4 --out <folder>", flush=True)
    return 0


def distill_stage(args, run: Run, budget_s: float, den_run: str, threads: int, stages: int) -> dict | None:
    """Distils <den_run>/weights.pt into <out>/fast; None when stopped (resumable: <out>/run/distill)."""
    import distill  # only this stage needs it
    st = run.stage("distill")
    dist_run, fast_out, fast_id = os.path.join(run.dir, "distill"), os.path.join(args.out, "fast"), f"{args.id}-fast"
    if not st["done"]:
        rem = budget_s - st["seconds"]
        print(f"[5/{stages}] distilling a few-step student ({fast_id}): {minutes(rem)} left of {minutes(budget_s)}; "
              f"progress every 25 steps", flush=True)
        dargv = ["--teacher", os.path.join(den_run, "weights.pt"), "--run", dist_run, "--data", args.data,
                 "--max-minutes", f"{max(rem, 0.0) / 60:.4f}", "--threads", str(threads)]
        if args.max_steps is not None:   # smoke tests: a few small teacher batches
            dargv += ["--max-steps", str(args.max_steps), "--chunk", "4", "--initial-chunks", "1"]
        t0 = time.time()
        res = distill.main(dargv)
        st["seconds"] += time.time() - t0
        st["step"] = res["step"]
        st["done"] = not res["interrupted"]
        run.save()
        if res["interrupted"]:
            print(f"stopped during distillation (step {res['step']}, saved in {dist_run}); the teacher is exported. Run the same "
                  f"command with --resume to continue", flush=True)
            return None
    eargv = ["--weights", os.path.join(dist_run, "weights.pt"), "--out", fast_out, "--data", args.data, "--id", fast_id,
             "--teacher-manifest", os.path.join(args.out, "manifest.json")]
    if args.citation:
        eargv += ["--citation", args.citation]
    export.main(eargv)
    return {"out": fast_out, "id": fast_id, "steps": st.get("step"), "zip": write_zip(fast_out, fast_id, os.path.join(args.out, "classifier"))}


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("\nstopped between steps; nothing is lost that was saved. Run the same command with --resume to continue", flush=True)
        sys.exit(EXIT_INTERRUPTED)
