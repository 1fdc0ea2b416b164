"""A same-sitting before/after of one bench row: this checkout against a git revision.

On a shared machine two runs minutes apart differ more than one change does, so
the row is measured in child processes that alternate between this checkout's
``src`` and the revision's (``git archive``, put first on ``PYTHONPATH``; the
bench's own code stays this checkout's), and the medians are compared.
"""

from __future__ import annotations

import io
import json
import os
import statistics
import subprocess
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def tree_at(revision: str, into: Path) -> Path:
    """``src/cove`` as of ``revision`` under ``into``: the directory to put on ``PYTHONPATH``."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", revision, "src/cove"], check=True, capture_output=True
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into / "src"


def alternate(
    command: list[str], trees: dict[str, Path | None], rounds: int
) -> dict[str, list[dict[str, float]]]:
    """Run ``command`` (which prints one JSON object last) ``rounds`` times per tree, the
    trees' order flipped each round; None is this checkout."""
    results: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
    names = list(trees)
    for round_ in range(rounds):
        for name in names if round_ % 2 == 0 else names[::-1]:
            env = dict(os.environ)
            tree = trees[name]
            if tree is not None:
                env["PYTHONPATH"] = os.pathsep.join(
                    filter(None, [str(tree), env.get("PYTHONPATH")])
                )
            out = subprocess.run(
                [sys.executable, *command], env=env, check=True, capture_output=True, text=True
            ).stdout
            results[name].append(json.loads(out.strip().splitlines()[-1]))
    return results


def medians(samples: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.median(s[key] for s in samples) for key in samples[0]}
