"""How far apart are a class's tile groups? The KID target applied to real windows alone, one group at a time.

  /usr/bin/python3 training/group_gap.py [--classifier public/models/magtile-classifier-64/model.onnx]

evaluate_quality.py judges generated windows of a class against the real windows of its held-out tile group(s):
KID(generated, held-out) should be below the midpoint of KID(two halves of the held-out windows) and
KID(real Free, held-out). A model trained on the other groups can at best make windows like those groups. This
script asks whether real windows of the other groups meet that target: for every tile group g of a defect class
(training and validation split alike), it computes, on the evaluation classifier's features,

  KID(windows of g, windows of the class's other groups)   vs   (KID(halves of g) + KID(Free, g)) / 2

and prints per class how many groups "pass". A class whose groups mostly fail cannot be expected to pass
against a single held-out group either: its tile groups differ from one another by more than the target allows.
Real photos only; no model is run. Windows are the same un-augmented defect-centred crops as the evaluation's.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ddstudio.classifier import fixed_windows  # noqa: E402
from ddstudio.data import FREE_CLASS, load_items, split_by_group  # noqa: E402
from ddstudio.metrics import kid  # noqa: E402
from evaluate_quality import DEFAULT_CLASSIFIER_ONNX, REPO, Classifier, resolve  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--classifier", default=DEFAULT_CLASSIFIER_ONNX)
    ap.add_argument("--config", default=os.path.join(REPO, "training", "configs", "default.json"))
    ap.add_argument("--data", help="dataset root, overrides the config's data_root")
    ap.add_argument("--per-group", type=int, default=48, help="windows per tile group")
    ap.add_argument("--rest", type=int, default=300, help="windows from the class's other groups")
    ap.add_argument("--free", type=int, default=100, help="real Free windows")
    ap.add_argument("--num-subsets", type=int, default=50)
    ap.add_argument("--classes", default=None, help="comma-separated defect classes (default: all but Free)")
    ap.add_argument("--out", default=None, help="write the results as JSON here")
    args = ap.parse_args(argv)

    with open(args.config) as f:
        cfg = json.load(f)
    clf = Classifier(resolve(args.classifier))
    root = resolve(args.data or cfg["data_root"])
    _, items = load_items(root, clf.classes)
    _, val_items = split_by_group(items, cfg["val_fraction"], cfg["split_seed"])
    val_groups = {it.group for it in val_items}
    size, jitter = cfg["image_size"], cfg["jitter"]
    nc = len(clf.classes)
    free = clf.classes.index(FREE_CLASS)
    xf, _, _ = fixed_windows([it for it in items if it.cls == free], nc, args.free, size, 11, jitter)
    _, ff = clf(xf)
    classes = args.classes.split(",") if args.classes else [c for c in clf.classes if c != FREE_CLASS]

    results = {}
    print("| class | groups | pass (real other groups vs one group) | median KID group-rest | median midpoint | held-out group(s): KID group-rest / midpoint |")
    print("|---|---|---|---|---|---|")
    for ci_name in classes:
        ci = clf.classes.index(ci_name)
        cls_items = [it for it in items if it.cls == ci]
        groups = sorted({it.group for it in cls_items})
        # windows of every group and of the rest, classified in one call (each call starts onnxruntime)
        sets, batch = [], []
        for k, g in enumerate(groups):
            xg, _, _ = fixed_windows([it for it in cls_items if it.group == g], nc, args.per_group, size, 100 + k, jitter)
            xr, _, _ = fixed_windows([it for it in cls_items if it.group != g], nc, args.rest, size, 200 + k, jitter)
            if len(xg) and len(xr):
                sets.append((k, g, len(xg), len(xr)))
                batch.extend([xg, xr])
        _, feats = clf(np.concatenate(batch))
        rows, off = [], 0
        for k, g, ng, nr in sets:
            fg, fr = feats[off:off + ng], feats[off + ng:off + ng + nr]
            off += ng + nr
            perm = np.random.default_rng(k).permutation(len(fg))
            h = len(fg) // 2
            halves = kid(fg[perm[:h]], fg[perm[h:2 * h]], args.num_subsets, seed=k)[0]
            free_g = kid(ff, fg, args.num_subsets, seed=k)[0]
            gap = kid(fg, fr, args.num_subsets, seed=k)[0]
            mid = (halves + free_g) / 2
            rows.append({"group": g, "images": sum(it.group == g for it in cls_items), "heldOut": g in val_groups,
                         "kidGroupRest": gap, "kidHalves": halves, "kidFreeGroup": free_g, "midpoint": mid, "pass": bool(gap < mid)})
        passed = sum(r["pass"] for r in rows)
        held = [r for r in rows if r["heldOut"]]
        results[ci_name] = {"groups": rows, "passed": passed}
        print(f"| {ci_name} | {len(rows)} | {passed} of {len(rows)} | {np.median([r['kidGroupRest'] for r in rows]):.2f} | "
              f"{np.median([r['midpoint'] for r in rows]):.2f} | "
              f"{', '.join('%.2f / %.2f' % (r['kidGroupRest'], r['midpoint']) for r in held) or '-'} |", flush=True)
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"classifier": os.path.relpath(resolve(args.classifier), REPO), "perGroup": args.per_group,
                       "rest": args.rest, "free": args.free, "classes": results}, f, indent=2)
            f.write("\n")
    return results


if __name__ == "__main__":
    main()
