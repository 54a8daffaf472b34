"""Quality against network evaluations: the 20-step guided teacher next to the distilled student at 1, 2, 4, 8 steps.

  /usr/bin/python3 training/quality_vs_evaluations.py --n 64 --seed 1000 --threads 2

Also the student at 4 deterministic DDIM steps (--no-ddim skips it): the same network sampled without consistency
sampling's fresh noise, to choose the student's sampler by measurement.

Runs training/evaluate_quality.py once per configuration on the same seeds, masks (the same seeded real mask shapes
per seed) and real validation windows, then prints one table per measure with a row per configuration and a
column per defect class, and the verdict the few-step issue asks for: a configuration stays "within one standard
deviation of the teacher" for a class when its KID gen-real is lower than the teacher's or above it by at most the teacher's KID std
over subsets, and its label consistency is no more than one binomial standard error (sqrt(p(1-p)/n) at the teacher's
p) below the teacher's. Writes <out>/<config>/report.json (evaluate_quality's) and <out>/summary.json.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import evaluate_quality  # noqa: E402

REPO = evaluate_quality.REPO


def configs(teacher: str, student: str, steps: list[int], ddim: bool) -> list[tuple[str, list[str]]]:
    """(name, evaluate_quality arguments); evaluations per window are read from the generated provenance."""
    out = [("teacher", ["--model", teacher])]
    out += [(f"student-{s}", ["--model", student, "--steps", str(s)]) for s in steps]
    if ddim:  # the deterministic alternative to consistency sampling's fresh noise: a DDIM step with the student's x0
        out.append(("student-4-ddim", ["--model", student, "--steps", "4", "--sampler", "ddim"]))
    return out


def evaluations(report_dir: str) -> float:
    """Mean modelEvaluations per window, read from the generator's metadata.jsonl (what provenance records)."""
    n = tot = 0
    with open(os.path.join(report_dir, "generated", "metadata.jsonl")) as f:
        for line in f:
            tot += json.loads(line)["modelEvaluations"]
            n += 1
    return tot / n


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--teacher", default="public/models/magtile-defect-64")
    ap.add_argument("--student", default="public/models/magtile-defect-64-fast")
    ap.add_argument("--steps", default="1,2,4,8", help="student step counts")
    ap.add_argument("--n", type=int, default=64)
    ap.add_argument("--seed", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default=os.path.join(REPO, "training", "reports", "quality_vs_evaluations"))
    ap.add_argument("--no-ddim", action="store_true", help="skip the student at 4 deterministic DDIM steps")
    ap.add_argument("--only", help="comma-separated config names to (re)run; the others are read from <out>")
    args = ap.parse_args(argv)
    cfgs = configs(args.teacher, args.student, [int(s) for s in args.steps.split(",")], not args.no_ddim)
    only = set(args.only.split(",")) if args.only else None
    reports = {}
    for name, extra in cfgs:
        out = os.path.join(args.out, name)
        if only is None or name in only:
            evaluate_quality.main(extra + ["--n", str(args.n), "--seed", str(args.seed), "--threads", str(args.threads), "--out", out])
        with open(os.path.join(out, "report.json")) as f:
            reports[name] = json.load(f)
        reports[name]["evaluations"] = evaluations(out)
    classes = list(reports["teacher"]["perClass"])
    t = reports["teacher"]["perClass"]

    measures = [
        ("label consistency", lambda r: f"{r['labelConsistency']:.2f}"),
        ("KID gen-real (mean ± std over subsets)", lambda r: f"{r['kid']['generatedVsReal']['mean']:.2f} ± {r['kid']['generatedVsReal']['std']:.2f}"),
        ("placement: mask contrast own / other mask", lambda r: f"{evaluate_quality.fmt(r['maskContrast']['generatedOwnMask'])} / {evaluate_quality.fmt(r['maskContrast']['generatedOtherMask'])}"),
        ("brightness spread (real in header)", lambda r: f"{r['brightnessSpread']['generated']:.3f}"),
        ("diversity (real in header)", lambda r: f"{r['diversity']['generated']:.3f}"),
        ("near-copies raw / normalised", lambda r: f"{r['memorisation']['nearCopySuspects']} / {r['memorisation']['normalised']['nearCopySuspects']}"),
        ("HF energy (real in header)", lambda r: f"{r['highFrequency']['generatedMean']:.3f}"),
    ]
    real_hdr = {"brightness spread (real in header)": lambda c: f" (real {t[c]['brightnessSpread']['real']:.3f})",
                "diversity (real in header)": lambda c: f" (real {t[c]['diversity']['real']:.3f})",
                "HF energy (real in header)": lambda c: f" (real {t[c]['highFrequency']['realMean']:.3f})"}
    lines = [f"n = {args.n} per class, seeds {args.seed}..{args.seed + args.n - 1}, same masks; teacher {reports['teacher']['model']['id']} "
             f"{reports['teacher']['model']['version']}, student {reports[cfgs[1][0]]['model']['id']} {reports[cfgs[1][0]]['model']['version']}", ""]
    for title, f in measures:
        hdr = real_hdr.get(title)
        lines.append(f"**{title}**")
        lines.append("")
        lines.append("| config | evaluations / window | " + " | ".join(c + (hdr(c) if hdr else "") for c in classes) + " |")
        lines.append("|---|---|" + "---|" * len(classes))
        for name, _ in cfgs:
            r = reports[name]
            lines.append(f"| {name} | {r['evaluations']:.1f} | " + " | ".join(f(r["perClass"][c]) for c in classes) + " |")
        lines.append("")
    verdict = {}
    lines.append("**within one standard deviation of the teacher (KID and label consistency)**")
    lines.append("")
    lines.append("| config | " + " | ".join(classes) + " | all |")
    lines.append("|---|" + "---|" * (len(classes) + 1))
    for name, _ in cfgs[1:]:
        row = {}
        for c in classes:
            s, tt = reports[name]["perClass"][c], t[c]
            dk = s["kid"]["generatedVsReal"]["mean"] - tt["kid"]["generatedVsReal"]["mean"]
            kid_ok = abs(dk) <= tt["kid"]["generatedVsReal"]["std"] or dk < 0
            p = tt["labelConsistency"]
            lc_ok = s["labelConsistency"] >= p - math.sqrt(max(p * (1 - p), 1e-9) / args.n)
            row[c] = {"kidDelta": dk, "kidOk": bool(kid_ok), "labelOk": bool(lc_ok), "ok": bool(kid_ok and lc_ok)}
        verdict[name] = row
        cell = lambda v: ("yes" if v["ok"] else "no") + f" (ΔKID {v['kidDelta']:+.2f}{'' if v['labelOk'] else ', label'})"  # noqa: E731
        lines.append(f"| {name} | " + " | ".join(cell(row[c]) for c in classes) + f" | {'yes' if all(v['ok'] for v in row.values()) else 'no'} |")
    table = "\n".join(lines)
    print(table)
    with open(os.path.join(args.out, "summary.json"), "w") as f:
        json.dump({"n": args.n, "seed": args.seed, "configs": [c[0] for c in cfgs],
                   "evaluations": {k: v["evaluations"] for k, v in reports.items()}, "verdict": verdict, "markdown": table}, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
