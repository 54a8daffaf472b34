"""Does training with the synthetic images help? The downstream protocol, on any data laid out like
../shared/datasets/magnetic-tile (<root>/<Class>/<stem>.jpg|png + <stem>_mask.png, tile groups from
manifest_extra.csv when present, else every file its own group).

  /usr/bin/python3 training/downstream.py --data ../shared/datasets/magnetic-tile/train \
      --synthetic <npm run generate folder | studio export .zip> --generator public/models/magtile-defect-64 \
      --out training/reports/downstream/default            # development folds
  ... --final                                              # the final test, once the settings are fixed

For every fold (tile groups, never files: ddstudio/downstream.py group_folds) and seed, two small networks are
trained from scratch on 64x64 native-resolution windows of the other folds' real images, in each arm:
  real        real windows only
  classic     real windows with classic augmentation (flips, 90-degree turns, brightness/contrast, noise)
  synthetic   real windows plus the synthetic windows (a batch element of a class is synthetic with probability
              --synthetic-share when the class has synthetic images)
  synthetic+classic   both (not in the default arms)
  flips       real windows with left-right / up-down flips only (grain and exposure kept; not in the default arms)
  synthetic+flips     real plus synthetic windows, with those flips (not in the default arms)
and scored on the fold's real windows: a 6-class classifier (macro-F1 over the defect classes) and a segmentation
network (per-class pixel AP, IoU and Dice at 0.5, false-positive rate on defect-free windows). The report gives each
arm's mean over folds and seeds, and the paired difference of the synthetic arm against the better baseline (the
one of the baselines run, real / classic / flips, with the higher mean), with a 95% t confidence interval over the (fold, seed) pairs.

Honesty: the hyper-parameters below are fixed in this file, not tuned on any test score. The final test fold is
the generator's own held-out tile groups (its manifest's training.heldOutGroups: tiles the generator never saw),
or, for a generator without that record, the last of --folds folds, which the development runs leave out. A
generator that saw a development fold's tiles inflates the synthetic arm there: only --final numbers are reported
as the gain, unless the development folds are fold-honest: --fold-generators / --fold-synthetic give fold k images
of a generator trained without its tiles (training/fold_generators.py), checked against that model's manifest and
the images' recorded model sha256. Results are cached per run in <out>/runs.jsonl (the command resumes; --max-minutes stops between runs).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import time
from collections import Counter

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ddstudio.data import load_items  # noqa: E402
from ddstudio.downstream import (Windows, classic_augment, defect_stats, exposure_spread, f1_scores, flip_augment,  # noqa: E402
                                 free_index, item_pairs, new_nets, predict, protocol_folds, read_synthetic, seg_measures,
                                 match_exposure, select_synthetic, to_tensor)

# Fixed before any result was looked at (issue #18): the same for every arm, fold and seed. steps: 400 until the
# schedule rule of training/reports/downstream/default/PLAN-schedule.md (the real-only arm on the development folds)
# chose 1200.
HYPER = {"steps": 1200, "batch": 32, "lr": 2e-3, "windows_per_defect_image": 4, "windows_per_free_image": 1,
         "test_windows_per_defect_image": 4, "test_windows_per_free_image": 1, "window_seed": 1234,
         "layout": "channels_last"}
# How the synthetic arms use the synthetic set: the settings the development folds compare (--synthetic-share,
# --synthetic-per-class, --gate, --synthetic-exposure); recorded with every synthetic run and in the report. share:
# 0.5 until the rule of training/reports/downstream/default/PLAN-share.md (development folds, 1200 steps) chose 0.75.
RECIPE = {"share": 0.75, "perClass": None, "gate": None}
ARMS = ("real", "classic", "synthetic", "synthetic+classic", "flips", "synthetic+flips")
BASELINES = ("real", "classic", "flips")
AUGMENT = {"classic": classic_augment, "flips": flip_augment}
T95 = {1: 12.71, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262, 10: 2.228,
       12: 2.179, 15: 2.131, 20: 2.086, 30: 2.042}


def t95(dof: int) -> float:
    """The two-sided 95% t quantile, from the table's largest dof not above `dof` (so never too small)."""
    return T95[max(k for k in T95 if k <= max(dof, 1))]


def sampler(real: Windows, synth: Windows | None, share: float, classes_present: list[int], rng: np.random.Generator):
    """Class-uniform batches; within a class uniform over windows; synthetic with probability `share`."""
    by_real = {c: np.flatnonzero(real.y == c) for c in classes_present}
    by_syn = {c: np.flatnonzero(synth.y == c) for c in classes_present} if synth is not None else {}

    def batch(n: int):
        xs, ms, ys = [], [], []
        for c in rng.choice(classes_present, n):
            src, idx = real, by_real[c]
            if len(by_syn.get(c, ())) and rng.random() < share:
                src, idx = synth, by_syn[c]
            j = idx[rng.integers(len(idx))]
            xs.append(src.x[j]), ms.append(src.m[j]), ys.append(c)
        return to_tensor(np.stack(xs)), torch.from_numpy(np.stack(ms).astype(np.float32)).unsqueeze(1), torch.tensor(ys)
    return batch


def train_pair(real: Windows, synth: Windows | None, arm: str, num_classes: int, seed: int, hyper: dict, share: float):
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    g = torch.Generator().manual_seed(seed)
    present = sorted(set(real.y.tolist()))
    draw = sampler(real, synth if arm.startswith("synthetic") else None, share, present, rng)
    clf, seg = new_nets(num_classes)
    opt = torch.optim.Adam(list(clf.parameters()) + list(seg.parameters()), lr=hyper["lr"])
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=hyper["lr"], total_steps=hyper["steps"])
    augment = AUGMENT.get(arm.split("+")[-1])   # "classic", "synthetic+flips", ...: the part after the last "+"
    clf.train(), seg.train()
    for _ in range(hyper["steps"]):
        x, m, y = draw(hyper["batch"])
        if augment is not None:
            x, geo = augment(x, g)
            m = geo(m)
        loss = F.cross_entropy(clf(x), y) + F.binary_cross_entropy_with_logits(seg(x), m)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
    return clf, seg


def score(clf, seg, test: Windows, defect: list[int], free: int | None) -> dict:
    pred = predict(clf, test.x).argmax(1)
    f1 = f1_scores(pred, test.y, defect)
    s = seg_measures(predict(seg, test.x)[:, 0].astype(np.float64), test, defect, free)
    aps = [v for v in s["ap"].values() if v is not None]
    return {"macroF1": float(np.mean(list(f1.values()))), "f1": f1, "pixelAP": float(np.mean(aps)) if aps else None, **s}


def mean_or_none(values) -> float | None:
    """The mean of the values that are not None; None when there are none (a report writes null, never NaN)."""
    vs = [v for v in values if v is not None]
    return float(np.mean(vs)) if vs else None


def paired_interval(d: list[float]) -> dict | None:
    """Mean of paired differences with its 95% t interval; one difference has no interval (ci95 null)."""
    if not d:
        return None
    if len(d) == 1:
        return {"mean": float(d[0]), "ci95": None, "n": 1}
    m, half = float(np.mean(d)), t95(len(d) - 1) * float(np.std(d, ddof=1)) / math.sqrt(len(d))
    return {"mean": m, "ci95": [m - half, m + half], "n": len(d)}


def summarise(runs: list[dict], classes: list[str], defect: list[int], arms: list[str]) -> dict:
    out = {"arms": {}, "gain": {}}
    for arm in arms:
        rs = [r for r in runs if r["arm"] == arm]
        if not rs:
            continue
        out["arms"][arm] = {"runs": len(rs), **{m: mean_or_none(r[m] for r in rs) for m in ("macroF1", "pixelAP", "freeFpr")},
                            "perClass": {classes[c]: {"f1": mean_or_none(r["f1"].get(str(c)) for r in rs),
                                                      "pixelAP": mean_or_none(r["ap"].get(str(c)) for r in rs)}
                                         for c in defect}}
    for syn in [a for a in arms if a.startswith("synthetic")]:
        if syn not in out["arms"]:
            continue
        gain = {}
        for metric, key in (("macroF1", "f1"), ("pixelAP", "ap")):
            bases = [a for a in BASELINES if a in out["arms"]]
            if not bases:
                continue
            best = max(bases, key=lambda a: -math.inf if out["arms"][a][metric] is None else out["arms"][a][metric])
            pairs = {(r["fold"], r["seed"]): r for r in runs if r["arm"] == best}

            def diff(get):
                return paired_interval([get(r) - get(pairs[(r["fold"], r["seed"])]) for r in runs
                                        if r["arm"] == syn and (r["fold"], r["seed"]) in pairs
                                        and get(r) is not None and get(pairs[(r["fold"], r["seed"])]) is not None])
            gain[metric] = {"baseline": best, **(diff(lambda r, m=metric: r[m]) or {}),
                            "perClass": {classes[c]: diff(lambda r, c=c, k=key: r[k].get(str(c))) for c in defect}}
        out["gain"][syn] = gain
    return out


def print_table(summary: dict, classes: list[str], defect: list[int]) -> None:
    names = [classes[c] for c in defect]
    print(f"{'arm':<18} {'macro-F1':>8} {'pixel AP':>8} {'free FPR':>8}   " + " ".join(f"{n[:8]:>8}" for n in names) + "   (per class: F1 / pixel AP)")
    for arm, a in summary["arms"].items():
        pc = " ".join(f"{a['perClass'][n]['f1']:.2f}/{(a['perClass'][n]['pixelAP'] or 0):.2f}" for n in names)
        fpr = f"{a['freeFpr']:.4f}" if a["freeFpr"] is not None else "-"
        f3 = lambda v: "-" if v is None else f"{v:.3f}"   # noqa: E731  (a metric no run had)
        print(f"{arm:<18} {f3(a['macroF1']):>8} {f3(a['pixelAP']):>8} {fpr:>8}   {pc}")
    for syn, g in summary["gain"].items():
        for metric, d in g.items():
            if "mean" not in d:
                continue
            ci = f"95% CI [{d['ci95'][0]:+.3f}, {d['ci95'][1]:+.3f}]" if d["ci95"] else "no interval"
            print(f"{syn} - {d['baseline']} ({metric}): {d['mean']:+.3f}, {ci} over {d['n']} runs")


def read_gate(path: str) -> tuple[set[str], dict]:
    """The images an `npm run evaluate` report flags (its per-image "images" list), as "<class>/<file stem>"."""
    try:
        with open(path) as f:
            text = f.read()
        # `npm run evaluate > file` puts npm's two banner lines before the JSON: start at the first line that opens it
        start = next((m.start() for m in re.finditer(r"^\{", text, re.M)), 0)
        rep = json.loads(text[start:])
        images = rep["images"]
        flagged = {f"{i['className']}/{os.path.splitext(i['name'])[0]}" for i in images if i["flags"]}
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise SystemExit(f"--gate {path}: {e!r}; accepted: the JSON `npm run evaluate -- --dataset <the same set>` prints "
                         "(its \"images\" list of per-image flags)")
    return flagged, {"report": os.path.basename(path), "judged": len(images), "flagged": len(flagged)}


def migrate(r: dict) -> dict:
    """Runs cached before the recipe existed: synthetic_share sat in the hyper-parameters and the setup named the
    synthetic set by its counts only. Their baseline runs stay valid; their synthetic runs (no content hash) do not."""
    if "synthetic_share" in r.get("hyper", {}):
        r = {**r, "hyper": {k: v for k, v in r["hyper"].items() if k != "synthetic_share"},
             "setup": {k: v for k, v in r["setup"].items() if k != "synthetic"}}
        if r["arm"].startswith("synthetic"):
            r["setup"]["synthetic"] = "before-recipe"
    return r


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="real data root: <root>/<Class>/<stem>.jpg|png + <stem>_mask.png")
    ap.add_argument("--synthetic", help="npm run generate output folder or studio export .zip (needed for the synthetic arms)")
    ap.add_argument("--generator", help="the generator's model folder: its manifest's training.heldOutGroups become the final test fold")
    ap.add_argument("--fold-generators", help="comma list, one model folder per development fold (training/fold_generators.py "
                    "trains them): each must have held out its fold's tile groups and the final test's (manifest training.heldOutGroups)")
    ap.add_argument("--fold-synthetic", help="comma list, one generate folder or export zip per development fold, each made by "
                    "that fold's --fold-generators model: the development folds then train on synthetic images from a "
                    "generator that never saw their test tiles (fold-honest), instead of --synthetic")
    ap.add_argument("--folds", type=int, default=4)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--first-seed", type=int, default=0,
                    help="run seeds first..first+seeds-1 (two processes can share a run's seeds: merge their runs.jsonl)")
    ap.add_argument("--arms", default="real,classic,synthetic")
    ap.add_argument("--final", action="store_true", help="score the final test fold (only once the settings are fixed)")
    ap.add_argument("--synthetic-share", type=float, default=RECIPE["share"],
                    help="probability a batch element of a class is synthetic, when the class has synthetic images (default %(default)s)")
    ap.add_argument("--synthetic-per-class", type=int, help="use the first N synthetic images of each class in seed order (default: all)")
    ap.add_argument("--gate", help="an `npm run evaluate` report of the synthetic set: leave out the images it flags (the studio's auto-reject)")
    ap.add_argument("--synthetic-exposure", choices=("as-generated", "match"), default="as-generated",
                    help="match: give each synthetic window a brightness offset so that each class's spread of exposures "
                         "matches the fold's real training windows' (generated exposures vary less than real ones)")
    ap.add_argument("--tag", help="name of this recipe: the report is written as dev-<tag>.json / final-<tag>.json")
    ap.add_argument("--out", required=True)
    ap.add_argument("--max-minutes", type=float)
    ap.add_argument("--threads", type=int)
    ap.add_argument("--steps", type=int, help="override the fixed step count (smoke tests; a schedule comparison on the development folds; "
                    "recorded with every run and in the report)")
    ap.add_argument("--max-per-class", type=int, help="smoke tests only: the first N images per class")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    arms = [a.strip() for a in args.arms.split(",") if a.strip()]
    bad = [a for a in arms if a not in ARMS]
    if bad:
        ap.error(f"unknown arm(s) {bad}; accepted: {', '.join(ARMS)}")
    if any(a.startswith("synthetic") for a in arms) and not args.synthetic and (args.final or not args.fold_synthetic):
        ap.error("the synthetic arms need --synthetic <generate folder | export zip> (or, on the development folds, --fold-synthetic)")
    if bool(args.fold_synthetic) != bool(args.fold_generators):
        ap.error("--fold-synthetic and --fold-generators go together: one synthetic set and its model folder per development fold")
    if args.fold_synthetic and args.gate:
        ap.error("--gate judges one synthetic set; it cannot be used with --fold-synthetic")
    hyper = {**HYPER, **({"steps": args.steps} if args.steps else {})}
    if not 0 < args.synthetic_share <= 1:
        ap.error(f"--synthetic-share must be in (0, 1], got {args.synthetic_share}")
    if args.synthetic_per_class is not None and args.synthetic_per_class < 1:
        ap.error(f"--synthetic-per-class must be at least 1, got {args.synthetic_per_class}")
    if args.tag is not None and not re.fullmatch(r"[A-Za-z0-9_.-]{1,40}", args.tag):
        ap.error(f"--tag {args.tag!r}: accepted: 1-40 letters, digits, '_', '-', '.'")
    flagged, gate_info = read_gate(args.gate) if args.gate else (None, None)
    recipe = {"share": args.synthetic_share, "perClass": args.synthetic_per_class, "gate": gate_info,
              # only when set, so that runs cached before the option existed keep their key
              **({"exposure": args.synthetic_exposure} if args.synthetic_exposure != "as-generated" else {})}
    t0 = time.time()

    classes, items = load_items(args.data, max_per_class=args.max_per_class)
    free = free_index(classes)
    defect = [c for c in range(len(classes)) if c != free]
    held = None
    if args.generator:
        with open(os.path.join(args.generator, "manifest.json")) as f:
            gm = json.load(f)
        held = gm.get("training", {}).get("heldOutGroups")
        if gm.get("classes") and [c for c in gm["classes"]] != classes:
            print(f"note: the generator's classes {gm['classes']} differ from the data's {classes}; synthetic images of "
                  "classes the data lacks are skipped", flush=True)
    final, dev = protocol_folds(items, held, args.folds)
    if held:
        final_source = f"the generator's held-out tile groups ({args.generator} training.heldOutGroups)"
    else:
        final_source = f"the last of {args.folds} tile-group folds" + ("" if not args.generator else
                       " (the generator's manifest records no heldOutGroups: it may have seen these tiles)")
    plan = [("final", 0, final)] if args.final else [("dev", i, g) for i, g in enumerate(dev)]

    def read_set(path: str, gate: set[str] | None) -> tuple[list, dict, dict]:
        read_pairs, read_info = read_synthetic(path, classes)
        generators = dict(Counter(p[5] or "unrecorded" for p in read_pairs))   # images per model sha256: reported, not a cache key
        pairs, picked = select_synthetic(read_pairs, args.synthetic_per_class, gate)
        if gate is not None and not gate & {p[4] for p in read_pairs} and gate_info["flagged"]:
            raise SystemExit(f"--gate {args.gate} flags {gate_info['flagged']} images, none of them in {path}: "
                             "was it made for another set? accepted: `npm run evaluate -- --dataset` of this same set")
        info = {**read_info, "images": {c: sum(1 for p in pairs if p[2] == i) for i, c in enumerate(classes)},
                "onPhotos": sum(1 for p in pairs if p[3] is not None), "read": read_info["images"], **picked}
        return pairs, info, generators
    synth_pairs, synth_info, synth_generators = [], None, None
    if args.synthetic:
        synth_pairs, synth_info, synth_generators = read_set(args.synthetic, flagged)
        print(f"synthetic: {synth_info['images']} images used ({synth_info['onPhotos']} on real photos; "
              f"{synth_info['dropped']} of those read left out by the recipe)", flush=True)
    gen_sha = gm.get("sha256") if args.generator else None
    # Fold-honest development folds: fold k trains on synthetic images of a generator that held out fold k's tiles.
    fold_sets: dict[int, tuple[list, dict]] = {}
    fold_report = None
    if args.fold_synthetic and not args.final:   # the final fold always trains on --synthetic
        paths = [q for q in args.fold_synthetic.split(",") if q]
        models = [q for q in args.fold_generators.split(",") if q]
        if len(paths) != len(dev) or len(models) != len(dev):
            ap.error(f"--fold-synthetic and --fold-generators need one entry per development fold: {len(dev)} folds, "
                     f"got {len(paths)} sets and {len(models)} model folders")
        fold_report = []
        for k, (path, model) in enumerate(zip(paths, models)):
            with open(os.path.join(model, "manifest.json")) as f:
                fm = json.load(f)
            seen = (dev[k] | final) - set(fm.get("training", {}).get("heldOutGroups") or [])
            if seen:
                raise SystemExit(f"--fold-generators {model}: the model trained on {len(seen)} tile group(s) of development fold {k} "
                                 f"or the final test (e.g. {sorted(seen)[:3]}); accepted: a model trained without them "
                                 "(training/fold_generators.py writes them, fold k in order)")
            pairs, info, gens = read_set(path, None)
            other = {sha: n for sha, n in gens.items() if sha != fm.get("sha256")}
            if other:
                raise SystemExit(f"--fold-synthetic {path}: {sum(other.values())} image(s) were not made by {model} (model sha256 "
                                 f"{', '.join(sha[:12] for sha in other)}, not {str(fm.get('sha256'))[:12]}); accepted: "
                                 "`npm run generate -- --model <that folder>` output, whose metadata.jsonl records the model")
            fold_sets[k] = (pairs, info)
            fold_report.append({"fold": k, "generator": fm.get("id"), "generatorSha256": fm.get("sha256"), **info})
            print(f"development fold {k}: {info['images']} images from {fm.get('id')}, which never saw the fold's tiles", flush=True)
    group_of = {os.path.basename(it.path): it.group for it in items}

    def synthetic_for(held: set[str], fold: int | None = None, label: str | None = None) -> Windows | None:
        """The synthetic windows a fold may train on, as generated: none generated on a photo of a held-out tile group
        (with `label`, says how many of the images made on photos that leaves). A development fold with its own
        fold-honest set (--fold-synthetic) takes that set."""
        pairs = fold_sets[fold][0] if fold in fold_sets else synth_pairs
        if not args.synthetic and fold not in fold_sets:
            return None
        keep = [p for p in pairs if p[3] is None or group_of.get(p[3]) not in held]
        on_photos = sum(1 for p in pairs if p[3] is not None)
        if label is not None and on_photos:
            print(f"{label}: {sum(1 for p in keep if p[3] is not None)} of the {on_photos} images made on real photos are used "
                  "(the others sit on photos of tile groups it holds out)", flush=True)
        return Windows.cut([p[:3] for p in keep], hyper["windows_per_defect_image"], hyper["windows_per_free_image"], free, hyper["window_seed"])

    def as_used(w: Windows | None, real: Windows) -> Windows | None:
        """The recipe's exposure step: with --synthetic-exposure match, spread like the fold's real training windows."""
        return match_exposure(w, real, hyper["window_seed"])[0] if w is not None and args.synthetic_exposure == "match" else w
    # What a cached run must share with this invocation to be reused (besides the hyper-parameters and test groups).
    base_setup = {"data": os.path.basename(os.path.normpath(args.data)), "files": len(items),
                  "folds": args.folds, "maxPerClass": args.max_per_class, "metric": "ap-ties-v2"}

    def setup_for(arm: str, split: str, fold: int) -> dict:
        """Baseline runs do not depend on the synthetic set or recipe, so every recipe shares them. A fold-honest
        development run records its fold's own set and generator."""
        if not arm.startswith("synthetic"):
            return base_setup
        if split == "dev" and fold in fold_sets:
            return {**base_setup, "synthetic": fold_sets[fold][1], "recipe": recipe,
                    "generatorSha256": fold_report[fold]["generatorSha256"]}
        return {**base_setup, "synthetic": synth_info, "recipe": recipe}

    os.makedirs(args.out, exist_ok=True)
    cache = os.path.join(args.out, "runs.jsonl")
    runs = []
    if os.path.exists(cache):
        with open(cache) as f:
            runs = [migrate(json.loads(line)) for line in f]
    runs = [r for r in runs if r["arm"] in arms and r.get("hyper") == hyper and r.get("setup") == setup_for(r["arm"], r["split"], r["fold"])]
    done = {(r["split"], r["fold"], r["arm"], r["seed"], tuple(r["testGroups"])) for r in runs}
    stopped = False
    tests = []   # every fold's test windows, for the report's defect statistics
    for split, fi, test_groups in plan:
        train_items = [it for it in items if it.group not in test_groups and it.group not in final]
        test_items = [it for it in items if it.group in test_groups]
        real = Windows.cut(item_pairs(train_items), hyper["windows_per_defect_image"], hyper["windows_per_free_image"], free, hyper["window_seed"] + fi)
        test = Windows.cut(item_pairs(test_items), hyper["test_windows_per_defect_image"], hyper["test_windows_per_free_image"], free, hyper["window_seed"] + 100 + fi)
        synth = as_used(synthetic_for(set(test_groups) | set(final), fi if split == "dev" else None, f"{split} fold {fi}"), real)
        tests.append(test)
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            for arm in arms:
                if (split, fi, arm, seed, tuple(sorted(test_groups))) in done:
                    continue
                if args.max_minutes is not None and time.time() - t0 > args.max_minutes * 60:
                    stopped = True
                    break
                t = time.time()
                clf, seg = train_pair(real, synth, arm, len(classes), seed, hyper, recipe["share"])
                s = score(clf, seg, test, defect, free)
                rec = {"split": split, "fold": fi, "arm": arm, "seed": seed, "hyper": hyper, "setup": setup_for(arm, split, fi), "seconds": round(time.time() - t, 1),
                       "testGroups": sorted(test_groups), "trainWindows": len(real), "testWindows": len(test),
                       "syntheticWindows": len(synth) if synth is not None else 0,
                       **{k: ({str(c): v for c, v in s[k].items()} if isinstance(s[k], dict) else s[k]) for k in s}}
                runs.append(rec)
                with open(cache, "a") as f:
                    f.write(json.dumps(rec) + "\n")
                print(f"{split} fold {fi} seed {seed} {arm:<10} macro-F1 {s['macroF1']:.3f}  pixel AP {s['pixelAP'] or 0:.3f}  ({rec['seconds']} s)", flush=True)
    # Diversity: each class's spread of window brightness, real (every training tile group, none of the final test's)
    # against the synthetic windows as generated and as the recipe uses them
    exposure = None
    pool = Windows.cut(item_pairs([it for it in items if it.group not in final]), hyper["windows_per_defect_image"],
                       hyper["windows_per_free_image"], free, hyper["window_seed"])
    if args.synthetic:
        as_generated = synthetic_for(set(final))
        spreads = [exposure_spread(w) for w in (pool, as_generated, as_used(as_generated, pool))]
        exposure = {classes[c]: dict(zip(("real", "synthetic", "used"), (sp.get(c) for sp in spreads))) for c in defect}
    # What the defects look like: the real training windows (every tile group but the final test's), the synthetic
    # set as generated, and the windows this split is scored on
    test_all = Windows(*(np.concatenate([getattr(t, k) for t in tests]) for k in ("x", "m", "y")))
    pool_stats = defect_stats(pool)
    syn_stats = defect_stats(as_generated) if args.synthetic else {}
    test_stats = defect_stats(test_all)
    defects = {classes[c]: {"real": pool_stats.get(c), "synthetic": syn_stats.get(c), "test": test_stats.get(c)} for c in defect}
    split_runs = [r for r in runs if r["split"] == ("final" if args.final else "dev")]
    summary = summarise(split_runs, classes, defect, arms)
    report = {"data": os.path.basename(os.path.normpath(args.data)), "classes": classes, "hyper": hyper, "recipe": recipe, "armsRun": arms,
              "split": "final" if args.final else "dev", "finalTestGroups": sorted(final), "finalTestSource": final_source,
              # true only when every synthetic image the final fold trains on was made by that generator
              "finalTestHeldFromGenerator": bool(held) and (synth_generators is None or set(synth_generators) <= {gen_sha}),
              "syntheticGenerators": synth_generators,
              "devFoldsHeldFromGenerator": bool(fold_sets), "devSynthetic": fold_report,
              "devFolds": [sorted(g) for g in dev], "synthetic": synth_info, "exposureSpread": exposure, "defectStats": defects,
              "complete": not stopped, **summary}
    name = ("final" if args.final else "dev") + (f"-{args.tag}" if args.tag else "")
    with open(os.path.join(args.out, name + ".json"), "w") as f:
        json.dump(report, f, indent=1, allow_nan=False)   # strict JSON: missing numbers are null (mean_or_none)
    print(f"\n{report['split']} split, {len(split_runs)} runs; final test = {final_source}: {len(final)} tile groups")
    print_table(summary, classes, defect)
    if exposure:
        print("exposure spread (std of window mean brightness, [-1, 1] units), real / synthetic as generated / as used: "
              + ", ".join(f"{n} {e['real'] or 0:.3f} / {e['synthetic'] or 0:.3f} / {e['used'] or 0:.3f}" for n, e in exposure.items()))
    print("defects (mean mask share of a window, median contrast to the ring around it), real training / synthetic / "
          f"{report['split']} test windows: " + "; ".join(
              f"{n} " + " / ".join(f"{v['maskArea']:.3f} {v['contrast']:+.2f}" if v and v["contrast"] is not None else "-"
                                   for v in (e["real"], e["synthetic"], e["test"])) for n, e in defects.items()))
    if stopped:
        print("stopped by --max-minutes; run the same command again to continue")
    return report


if __name__ == "__main__":
    main()
