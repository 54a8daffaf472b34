"""What a model folder says about the data it was trained on, and the ids it may not take.

A model trained on a user's parts must not borrow the Magnetic-tile citation, must not take the id of a model
the studio embeds, and must not carry a path of the machine it was trained on. This module holds those rules
once for training/train.py, training/train_classifier.py, training/export.py and training/train_all.py:

- find_citation: --citation, else (for the shipped Magnetic-tile data) its citation, else the first paragraph
  of a CITATION / CITATION.txt / README / README.md file in the data folder, else UNCITED, said visibly.
- dataset_record: the data folder's name (its basename) and a sha256 of its sorted relative file list.
- id_problem: why a model id cannot be used (the manifest rule of src/core/model/manifest.ts, the embedded ids).
"""
from __future__ import annotations

import hashlib
import os
import re

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# The shipped Magnetic-tile data (README: "Training your own model"); a data root under it is not a user's.
SHIPPED_DATA = os.path.join(REPO, "..", "shared", "datasets", "magnetic-tile")
MAGTILE_CITATION = ('Y. Huang, C. Qiu, K. Yuan, "Surface defect saliency of magnetic tile", The Visual Computer 36(1):85-96, '
                    '2020, doi:10.1007/s00371-018-1588-5. Images from github.com/abin24/Magnetic-tile-defect-datasets. '
                    '(commit cc4eb530b57b9cb7225bf76023873043ffd50655).')
UNCITED = "uncited (no --citation given and no CITATION file in the data folder)"
CITATION_FILES = ("CITATION", "CITATION.txt", "README", "README.md")
MAX_CITATION_CHARS = 2000
# The models the studio embeds (public/models/<id>; magtile-defect-64-fast is the distilled student). A user's
# model with one of these ids would collide with it in the model list and in every provenance record.
EMBEDDED_MODEL_IDS = ("magtile-defect-64", "magtile-defect-64-fast", "magtile-classifier-64")
ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def is_shipped(root: str) -> bool:
    shipped = os.path.realpath(SHIPPED_DATA)
    r = os.path.realpath(root)
    return r == shipped or r.startswith(shipped + os.sep)


def id_problem(model_id: str) -> str | None:
    """Why model_id cannot name a user's model, or None."""
    if not ID_RE.match(model_id):
        return f'must be 1-64 characters of letters, digits, ".", "_" or "-", got {model_id!r}'
    if model_id in EMBEDDED_MODEL_IDS:
        return f'"{model_id}" is the id of a model the studio embeds ({", ".join(EMBEDDED_MODEL_IDS)}); give your model its own id'
    return None


def first_paragraph(text: str) -> str:
    """The first paragraph of a text or Markdown file: leading blank and Markdown heading lines skipped, lines
    up to the next blank line joined by spaces."""
    lines, started = [], False
    for line in text.splitlines():
        s = line.strip()
        if not started and (not s or s.startswith("#")):
            continue
        if started and (not s or s.startswith("#")):
            break
        started = True
        lines.append(s)
    return " ".join(lines)[:MAX_CITATION_CHARS]


def find_citation(data_root: str, given: str | None = None) -> tuple[str, str]:
    """(citation, where it came from) for a model trained on data_root."""
    if given and given.strip():
        return given.strip()[:MAX_CITATION_CHARS], "--citation"
    if is_shipped(data_root):
        return MAGTILE_CITATION, "the shipped Magnetic-tile dataset"
    for name in CITATION_FILES:
        p = os.path.join(data_root, name)
        if os.path.isfile(p):
            with open(p, encoding="utf-8", errors="replace") as f:
                text = first_paragraph(f.read())
            if text:
                return text, f"{name} in the data folder (first paragraph)"
    return UNCITED, "none"


def relative_files(root: str) -> list[str]:
    """Every file under root (hidden files and folders left out), as sorted '/'-separated relative paths."""
    out = []
    for d, dirs, files in os.walk(root):
        dirs[:] = [x for x in dirs if not x.startswith(".")]
        for fn in files:
            if not fn.startswith("."):
                out.append(os.path.relpath(os.path.join(d, fn), root).replace(os.sep, "/"))
    return sorted(out)


def dataset_name(root: str) -> str:
    name = os.path.basename(os.path.normpath(os.path.realpath(root)))
    return f"magnetic-tile/{name}" if is_shipped(root) and name != "magnetic-tile" else name


def dataset_record(root: str) -> dict:
    """The dataset as a manifest records it: a name and a fingerprint of its file list, never its path."""
    files = relative_files(root)
    return {"name": dataset_name(root), "files": len(files),
            "fileListSha256": hashlib.sha256("\n".join(files).encode("utf-8")).hexdigest()}
