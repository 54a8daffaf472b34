"""Export a trained denoiser to ONNX with its manifest (the model contract in shared docs/architecture.md).

  python3 training/export.py --weights training/runs/default/weights.pt --out public/models/magtile-defect-64

Writes <out>/model.onnx, <out>/manifest.json, <out>/mask_library.json (window-sized mask shapes),
<out>/part_masks.json (whole-part masks at native size, for photos) and model_io_<id>.json (a fixed input
and PyTorch's output, which the TypeScript tests check onnxruntime-node and onnxruntime-web against): into
training/reference/ for the embedded models' ids, else into <out> (or --reference-dir). Before writing the
manifest, the ONNX file is reloaded with onnxruntime and compared with PyTorch.

The manifest names its training data without a path of this machine (the data folder's name and a sha256 of
its sorted file list) and cites it from --citation, the shipped Magnetic-tile citation, or a CITATION /
README file in the data folder; without any, training.citation says it is uncited (ddstudio/userdata.py).
A model trained on data other than the shipped Magnetic-tile set needs its own --id (not an embedded one).

--masks-only rewrites just the two mask files of an exported model folder (same weights, same split).

A distilled student (training/distill.py writes weights.pt with a "distillation" config) is exported the same
way, with the teacher named from its manifest (--teacher-manifest) and the student's own sampler defaults:

  python3 training/export.py --weights training/runs/distill/weights.pt --out public/models/magtile-defect-64-fast \
      --teacher-manifest public/models/magtile-defect-64/manifest.json
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ddstudio.data import load_items  # noqa: E402
from ddstudio.masklib import build_mask_library, build_part_mask_library  # noqa: E402
from ddstudio.onnx_check import compare  # noqa: E402
from ddstudio.unet import UNet, UNetConfig, count_flops, float16_checkpoint  # noqa: E402
from ddstudio.userdata import EMBEDDED_MODEL_IDS, MAGTILE_CITATION, dataset_record, find_citation, id_problem, is_shipped  # noqa: E402

CITATION = MAGTILE_CITATION  # the shipped data's citation (ddstudio/userdata.py), not a default for other data
INPUT_NAMES = ["sample", "timestep", "class_labels", "defect_mask", "known_image", "keep_mask"]
OUTPUT_NAME = "model_output"
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def held_out_groups(data_root: str, classes: list[str], cfg: dict) -> list[str]:
    """The data's tile groups that are not among the training run's train_groups (sorted)."""
    _, items = load_items(data_root, classes)
    return sorted({it.group for it in items} - set(cfg["train_groups"]))


def write_mask_libraries(out: str, data_root: str, classes: list[str], size: int, cfg: dict) -> None:
    """mask_library.json and part_masks.json from the model's training tile groups only (never its validation ones)."""
    _, items = load_items(data_root, classes)
    train_groups = set(cfg.get("train_groups", []))
    items = [it for it in items if not train_groups or it.group in train_groups]
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "mask_library.json"), "w") as f:
        json.dump(build_mask_library(items, classes, size), f, separators=(",", ":"))
    with open(os.path.join(out, "part_masks.json"), "w") as f:
        json.dump(build_part_mask_library(items, classes), f, separators=(",", ":"))


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def b64(a: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(a).astype("<f4" if a.dtype == np.float32 else "<i8").tobytes()).decode()


def fixed_inputs(size: int, num_classes: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(1234)
    b = 2
    mask = np.zeros((b, 1, size, size), np.float32)
    mask[:, :, size // 4: size // 2, size // 3: size // 2] = 1
    keep = np.ones((b, 1, size, size), np.float32)
    keep[1, :, size // 8: size * 3 // 4, size // 8: size * 3 // 4] = 0
    keep[0] = 0
    return {
        "sample": rng.standard_normal((b, 1, size, size)).astype(np.float32),
        "timestep": np.asarray([999.0, 137.0], np.float32),
        "class_labels": np.asarray([2, num_classes], np.int64),
        "defect_mask": mask,
        "known_image": (rng.random((b, 1, size, size)).astype(np.float32) * 2 - 1) * keep,
        "keep_mask": keep,
    }


def distillation_block(distilled: dict, teacher_manifest: str) -> dict:
    """The manifest's "distillation" object (src/core/model/manifest.ts Distillation) for a student of that teacher."""
    with open(teacher_manifest) as f:
        t = json.load(f)
    ts = distilled["teacher_sampler"]
    return {
        "teacher": {"id": t["id"], "version": t["version"], "sha256": t["sha256"]},
        "guidanceBakedIn": ts["guidance"],
        "teacherSampler": {"sampler": ts["sampler"], "steps": ts["steps"], "timestepSpacing": ts["spacing"],
                           "guidanceInterval": list(ts["interval"])},
        "previewSteps": 1,
        "method": "trajectory-endpoint distillation (training/distill.py), sampled by multistep consistency sampling",
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--raw", action="store_true", help="export the raw weights instead of the EMA")
    ap.add_argument("--reference-dir", help="where model_io_<id>.json goes (default: training/reference for the embedded "
                                            "models' ids, else --out)")
    ap.add_argument("--atol", type=float, default=1e-4)
    ap.add_argument("--data", help="dataset root for the mask library (default: the one the model was trained on)")
    ap.add_argument("--id", help="model id for the manifest (default: the config's model_id; a distilled student: <teacher id>-fast); "
                                 "required, and not an embedded model's id, for a model of other data than the shipped set")
    ap.add_argument("--citation", help="the training data's citation and licence (default: a CITATION / README file in the data folder)")
    ap.add_argument("--teacher-manifest", help="a distilled student: the teacher's manifest.json (id, version, sha256)")
    ap.add_argument("--masks-only", action="store_true", help="only (re)write <out>/mask_library.json and <out>/part_masks.json")
    ap.add_argument("--checkpoint-out", help="also write the weights to resume from (model + EMA in float16, step, config; "
                                             "no optimizer state), e.g. training/checkpoints/<id>.pt, for committing")
    args = ap.parse_args(argv)

    ck = torch.load(args.weights, map_location="cpu")
    cfg = ck["config"]
    distilled = cfg.get("distillation")
    if distilled and not args.teacher_manifest:
        ap.error("these weights are a distilled student: give --teacher-manifest (the teacher's manifest.json)")
    data_root = args.data or os.path.join(REPO, cfg.get("data_root_used", cfg["data_root"]))
    model_id = args.id or (cfg["model_id"] + "-fast" if distilled else cfg["model_id"])
    problem = id_problem(model_id)
    if problem and not (model_id in EMBEDDED_MODEL_IDS and is_shipped(data_root)):
        ap.error(f"model id {problem}" + ("" if args.id else " (pass --id)"))
    citation, citation_source = find_citation(data_root, args.citation)
    dataset = cfg.get("dataset") or dataset_record(data_root)
    classes = cfg["classes"]
    size = cfg["image_size"]
    if args.masks_only:
        write_mask_libraries(args.out, data_root, classes, size, cfg)
        return None
    ucfg = UNetConfig(image_size=size, num_classes=len(classes), **{k: tuple(v) if isinstance(v, list) else v for k, v in cfg["unet"].items()})
    model = UNet(ucfg)
    model.load_state_dict(ck["model"] if args.raw else ck["ema"])
    model.eval()
    os.makedirs(args.out, exist_ok=True)
    onnx_path = os.path.join(args.out, "model.onnx")

    feeds = fixed_inputs(size, len(classes))
    with torch.no_grad():
        expected = model(*[torch.from_numpy(feeds[n]) for n in INPUT_NAMES]).numpy()
        torch.onnx.export(
            model, tuple(torch.from_numpy(feeds[n]) for n in INPUT_NAMES), onnx_path,
            input_names=INPUT_NAMES, output_names=[OUTPUT_NAME], opset_version=17,
            dynamic_axes={n: {0: "batch"} for n in INPUT_NAMES + [OUTPUT_NAME]}, do_constant_folding=True)
    diffs = compare(onnx_path, feeds, {OUTPUT_NAME: expected}, args.atol)

    img = ["batch", 1, size, size]
    s = cfg["schedule"]
    manifest = {
        "format": "defect-diffusion-model",
        "formatVersion": 1,
        "task": "denoiser",
        "id": model_id,
        "version": f"1.0.0+step{ck['step']}" + (f".distill{distilled['student_steps']}" if distilled else ""),
        "file": "model.onnx",
        "sha256": sha256_file(onnx_path),
        "sizeBytes": os.path.getsize(onnx_path),
        "image": {"width": size, "height": size, "channels": 1, "pixelRange": [-1, 1], "pixelScale": 1.0,
                  "pixelScaleNote": "native resolution of the training photos: 1 model pixel = 1 photo pixel"},
        "schedule": {"numTrainTimesteps": s["num_train_timesteps"], "betaSchedule": s["beta_schedule"],
                     "betaStart": s.get("beta_start", 0.0001), "betaEnd": s.get("beta_end", 0.02),
                     "predictionType": s["prediction_type"]},
        "inputs": [
            {"name": "sample", "role": "sample", "dtype": "float32", "shape": img},
            {"name": "timestep", "role": "timestep", "dtype": "float32", "shape": ["batch"]},
            {"name": "class_labels", "role": "classLabels", "dtype": "int64", "shape": ["batch"]},
            {"name": "defect_mask", "role": "defectMask", "dtype": "float32", "shape": img},
            {"name": "known_image", "role": "knownImage", "dtype": "float32", "shape": img},
            {"name": "keep_mask", "role": "keepMask", "dtype": "float32", "shape": img},
        ],
        "outputs": [{"name": OUTPUT_NAME, "role": "modelOutput", "dtype": "float32", "shape": img}],
        "classes": classes,
        "nullClassIndex": len(classes),
        "conditions": {"defectMask": True, "inpainting": True},
        # linspace: the grid starts at T-1 (pure noise, like trailing) and its last model call is at t = 0. With
        # trailing the last call is at t = T/N - 1 (49 for 20 steps), whose noise hides the tiles' fine grain,
        # and the windows come out smooth (evaluate_quality.py --spacing: Crack high-frequency energy 0.12 vs
        # real 0.18 with trailing, 0.18 with linspace; KID to the real windows falls for 4 of 5 classes).
        # guidance 1.5: evaluate_quality.py --guidance 1 / 1.25 / 1.5 / 2 on the step-12120 model: lower guidance
        # gives KID closer to the real windows for every class, label consistency 0.94 / 0.96 / 0.98 / 0.99.
        # guidanceInterval (0.28, 5.42]: guidance only at those noise levels (the interval Kynkaanniemi et al. 2024
        # found for EDM2); evaluate_quality.py --guidance-interval on the step-12120 model: Uneven KID 2.20 -> 1.28,
        # Break 0.73 -> 0.58, the others equal or lower, and 7 of the 20 steps need one batch-1 call instead of two.
        # Guiding the last steps (sigma <= 0.28) was what hurt Uneven: (0, 5.42] gives 2.10. On the step-16272
        # model: Uneven 0.66 with the interval, 1.55 with guidance 1.5 at every step.
        "defaults": {"sampler": "dpmpp2m", "steps": 20, "guidance": 1.5, "timestepSpacing": "linspace",
                     "guidanceInterval": [0.28, 5.42]},
        **({"distillation": distillation_block(distilled, args.teacher_manifest)} if distilled else {}),
        "training": {
            "steps": ck["step"], "weights": "raw" if args.raw else "ema",
            "parameters": sum(p.numel() for p in model.parameters()),
            "flopsPerCall": count_flops(model, size),
            "dataset": dataset["name"], "datasetFiles": dataset["files"], "datasetFileListSha256": dataset["fileListSha256"],
            "citation": citation, "citationSource": citation_source,
            # tile groups the denoiser never trained on: training/downstream.py takes them as its final test fold
            **({"heldOutGroups": held_out_groups(data_root, classes, cfg)} if cfg.get("train_groups") else {}),
        },
        "onnxParity": {"maxAbsDiff": diffs[OUTPUT_NAME], "tolerance": args.atol, "runtime": "onnxruntime-node"},
    }
    if distilled:
        # Multistep consistency sampling on a trailing grid: 4 calls at t = 999, 749, 499, 249 (a linspace grid
        # would spend its last call at t = 0, where the window is already finished). Guidance is in the weights.
        manifest["defaults"] = {"sampler": "consistency", "steps": 4, "guidance": 1, "timestepSpacing": "trailing"}
        manifest["training"]["distillation"] = {k: distilled[k] for k in ("target", "trajectories", "student_steps", "lr", "batch") if k in distilled}
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    write_mask_libraries(args.out, data_root, classes, size, cfg)
    reference_dir = args.reference_dir or (os.path.join(REPO, "training", "reference") if model_id in EMBEDDED_MODEL_IDS else args.out)
    os.makedirs(reference_dir, exist_ok=True)
    ref = {"modelId": manifest["id"], "sha256": manifest["sha256"], "tolerance": args.atol,
           "inputs": {k: {"dtype": "int64" if v.dtype == np.int64 else "float32", "dims": list(v.shape), "base64": b64(v)} for k, v in feeds.items()},
           "outputs": {OUTPUT_NAME: {"dtype": "float32", "dims": list(expected.shape), "base64": b64(expected)}}}
    with open(os.path.join(reference_dir, f"model_io_{manifest['id']}.json"), "w") as f:
        json.dump(ref, f)
    if args.checkpoint_out:
        os.makedirs(os.path.dirname(os.path.abspath(args.checkpoint_out)), exist_ok=True)
        torch.save(float16_checkpoint(ck, cfg), args.checkpoint_out)
    print(json.dumps({"onnx": onnx_path, "bytes": manifest["sizeBytes"], "sha256": manifest["sha256"],
                      "gflop_per_call": manifest["training"]["flopsPerCall"] / 1e9, "step": ck["step"]}))
    return manifest


if __name__ == "__main__":
    main()
