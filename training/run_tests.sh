#!/bin/sh
# Python tests: sampler parity reference, training + export smoke test. Uses Debian's python3 (with
# python3-torch, python3-onnx, python3-numpy, python3-pil); override with PYTHON=...
set -e
cd "$(dirname "$0")/.."
PY="${PYTHON:-/usr/bin/python3}"
[ -x "$PY" ] || PY=python3
exec "$PY" -m unittest discover -s training/tests -t training -v
