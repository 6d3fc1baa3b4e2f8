"""Write output files atomically: into NAME.tmp beside the target, then rename over it.

A step killed mid-write (pod eviction, OOM) then leaves either the old file or the new one,
never a truncated best.pt or metrics.json that a later step would read.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Callable


def write_atomic(path: Path, write: Callable[[Path], None]) -> Path:
    """Call write(tmp_path), then move the result onto path; no tmp file is left on failure."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def write_text_atomic(path: Path, text: str) -> Path:
    return write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_json_atomic(path: Path, doc: object, indent: int | None = 2) -> Path:
    return write_text_atomic(path, json.dumps(doc, indent=indent, sort_keys=True) + "\n")


def copy_atomic(source: Path, target: Path) -> Path:
    return write_atomic(target, lambda tmp: shutil.copyfile(source, tmp))
