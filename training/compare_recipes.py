"""One line per recipe: the reports `npm run downstream -- --tag <name>` wrote into one --out folder, side by side.

  /usr/bin/python3 training/compare_recipes.py training/reports/downstream/default [--split dev|final] [--against TAG]

For each dev-<tag>.json (or final-<tag>.json): the synthetic images it used, the recipe (share, images per class,
gate), the synthetic arm's macro-F1 and pixel AP, and its paired gain over the better baseline with the 95% CI.
The baselines are shared by every recipe (the same cached runs), so the lines differ only in the synthetic arm.
--against TAG: also each recipe's synthetic arm(s) against TAG's synthetic arm, paired over the (fold, seed) runs both have (from
the folder's runs.jsonl), with the protocol's 95% t interval.
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import downstream  # noqa: E402  (the protocol's own paired interval)


def fmt_gain(g: dict | None) -> str:
    if not g or "mean" not in g:
        return "-"
    if g["ci95"] is None:   # one run: no interval
        return f"{g['mean']:+.3f} [one run] vs {g['baseline']}"
    lo, hi = g["ci95"]
    return f"{g['mean']:+.3f} [{lo:+.3f}, {hi:+.3f}] vs {g['baseline']}"


def rows(folder: str, split: str) -> list[dict]:
    out = []
    for path in sorted(glob.glob(os.path.join(folder, f"{split}*.json")), key=lambda p: (os.path.basename(p) != f"{split}.json", p)):
        with open(path) as f:
            rep = json.load(f)
        tag = os.path.basename(path)[len(split):-len(".json")].lstrip("-") or "(untagged)"
        recipe = rep.get("recipe") or {}
        syn = rep.get("synthetic") or {}
        for arm, g in (rep.get("gain") or {}).items():
            a = rep["arms"].get(arm, {})
            out.append({"tag": tag, "arm": arm, "images": sum((syn.get("images") or {}).values()), "onPhotos": syn.get("onPhotos", 0),
                        "share": recipe.get("share"), "perClass": recipe.get("perClass"),
                        "gate": (recipe.get("gate") or {}).get("flagged"), "exposure": recipe.get("exposure", "as-generated"),
                        "steps": (rep.get("hyper") or {}).get("steps"), "runs": a.get("runs"),
                        "macroF1": a.get("macroF1"), "pixelAP": a.get("pixelAP"),
                        "gainF1": fmt_gain(g.get("macroF1")), "gainAP": fmt_gain(g.get("pixelAP")),
                        "baselines": {b: (rep["arms"][b]["macroF1"], rep["arms"][b]["pixelAP"]) for b in downstream.BASELINES if b in rep["arms"]}})
    return out


def synthetic_runs(folder: str, split: str, tag: str, arm: str, cached: list[dict]) -> dict:
    """(fold, seed) -> the cached run of `arm` in the report <split>-<tag>.json (same schedule, set, recipe)."""
    name = split + ("" if tag == "(untagged)" else f"-{tag}")
    with open(os.path.join(folder, name + ".json")) as f:
        rep = json.load(f)
    return {(r["fold"], r["seed"]): r for r in cached
            if r["split"] == split and r["arm"] == arm and r["hyper"] == rep["hyper"]
            and r["setup"].get("recipe") == rep["recipe"] and r["setup"].get("synthetic") == rep["synthetic"]}


def paired(a: dict, b: dict, metric: str) -> dict | None:
    """a - b over the (fold, seed) runs both have, with the protocol's interval; None below two pairs."""
    d = [a[k][metric] - b[k][metric] for k in sorted(set(a) & set(b)) if a[k][metric] is not None and b[k][metric] is not None]
    return downstream.paired_interval(d) if len(d) >= 2 else None


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folder")
    ap.add_argument("--split", choices=("dev", "final"), default="dev")
    ap.add_argument("--against", metavar="TAG", help="pair every recipe's synthetic arm with this recipe's")
    args = ap.parse_args(argv)
    rs = rows(args.folder, args.split)
    if not rs:
        raise SystemExit(f"{args.folder}: no {args.split}*.json reports; accepted: the --out folder of npm run downstream")
    seen = set()
    for r in rs:   # one line per schedule: reports at other step counts have their own baselines
        line = ", ".join(f"{b} macro-F1 {f:.3f} pixel AP {p:.3f}" for b, (f, p) in r["baselines"].items())
        if (r["steps"], line) not in seen:
            seen.add((r["steps"], line))
            print(f"baselines at {r['steps']} steps: {line}")
    print(f"{'recipe':<20} {'arm':<18} {'images':>6} {'photos':>6} {'share':>5} {'gate':>4} {'exposure':>12} {'steps':>5} {'runs':>4} {'F1':>6} {'AP':>6}   gain macro-F1 (95% CI)              gain pixel AP (95% CI)")
    for r in rs:
        print(f"{r['tag']:<20} {r['arm']:<18} {r['images']:>6} {r['onPhotos']:>6} {r['share'] or '-':>5} {r['gate'] if r['gate'] is not None else '-':>4} {r['exposure']:>12} {r['steps'] or '-':>5} "
              f"{r['runs'] or 0:>4} {r['macroF1'] or 0:>6.3f} {r['pixelAP'] or 0:>6.3f}   {r['gainF1']:<34} {r['gainAP']}")
    if args.against:
        tags = {r["tag"] for r in rs}
        if args.against not in tags:
            raise SystemExit(f"--against {args.against}: no {args.split} report with that tag; accepted: {', '.join(sorted(tags))}")
        with open(os.path.join(args.folder, "runs.jsonl")) as f:
            cached = [json.loads(line) for line in f]
        base = synthetic_runs(args.folder, args.split, args.against, "synthetic", cached)
        steps = next(r["steps"] for r in rs if r["tag"] == args.against)
        for r in rs:
            if r["steps"] != steps:   # runs at another schedule share no pairs
                continue
            runs = synthetic_runs(args.folder, args.split, r["tag"], r["arm"], cached)
            if runs == base:   # the same cached runs (another report that also ran this recipe's synthetic arm)
                continue
            cells = [(m, paired(runs, base, m)) for m in ("macroF1", "pixelAP")]
            print(f"{r['tag']} {r['arm']} - {args.against} synthetic: " + ", ".join(
                f"{m} {g['mean']:+.3f} [{g['ci95'][0]:+.3f}, {g['ci95'][1]:+.3f}] over {g['n']} runs" if g else f"{m} fewer than 2 paired runs"
                for m, g in cells))
    return rs


if __name__ == "__main__":
    main()
