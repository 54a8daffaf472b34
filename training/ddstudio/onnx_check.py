"""Reload an exported ONNX file with onnxruntime and compare with PyTorch outputs.

Debian has no Python onnxruntime package, so the check runs onnxruntime-node (the runtime the command-line
generator uses) through training/check_onnx.mjs. It prints and returns the max abs difference per output.
"""
from __future__ import annotations

import json
import os
import subprocess
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
CHECKER = os.path.join(os.path.dirname(HERE), "check_onnx.mjs")


def tensor_json(a: np.ndarray) -> dict:
    dtype = {np.dtype("float32"): "float32", np.dtype("int64"): "int64"}[a.dtype]
    return {"dtype": dtype, "dims": list(a.shape), "data": a.reshape(-1).tolist()}


def run_onnxruntime(onnx_path: str, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    with tempfile.TemporaryDirectory() as d:
        inp, out = os.path.join(d, "in.json"), os.path.join(d, "out.json")
        with open(inp, "w") as f:
            json.dump({k: tensor_json(v) for k, v in feeds.items()}, f)
        subprocess.run(["node", CHECKER, onnx_path, inp, out], check=True)
        with open(out) as f:
            res = json.load(f)
    return {k: np.asarray(v["data"], dtype=np.float32).reshape(v["dims"]) for k, v in res.items()}


def compare(onnx_path: str, feeds: dict[str, np.ndarray], expected: dict[str, np.ndarray], atol: float) -> dict[str, float]:
    got = run_onnxruntime(onnx_path, feeds)
    diffs = {}
    for name, want in expected.items():
        if name not in got:
            raise AssertionError(f"ONNX output '{name}' missing; outputs are {sorted(got)}")
        diffs[name] = float(np.abs(got[name] - want).max())
        print(f"onnxruntime vs PyTorch, output {name}: max abs diff {diffs[name]:.3g} (tolerance {atol})", flush=True)
        if not diffs[name] <= atol:
            raise AssertionError(f"ONNX output '{name}' differs from PyTorch by {diffs[name]} > {atol}")
    return diffs
