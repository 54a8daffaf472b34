"""One line per recipe: the reports `npm run downstream -- --tag <name>` wrote into one --out folder, side by side.

  /usr/bin/python3 training/compare_recipes.py training/reports/downstream/default [--split dev|final]

For each dev-<tag>.json (or final-<tag>.json): the synthetic images it used, the recipe (share, images per class,
gate), the synthetic arm's macro-F1 and pixel AP, and its paired gain over the better baseline with the 95% CI.
The baselines are shared by every recipe (the same cached runs), so the lines differ only in the synthetic arm.
"""
from __future__ import annotations

import argparse
import glob
import json
import os


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
                        "baselines": {b: (rep["arms"][b]["macroF1"], rep["arms"][b]["pixelAP"]) for b in ("real", "classic") if b in rep["arms"]}})
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folder")
    ap.add_argument("--split", choices=("dev", "final"), default="dev")
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
    return rs


if __name__ == "__main__":
    main()
