"""Read the data set the prepare step wrote: data.yaml, the train/val image lists and YOLO labels.

data.yaml is read with a small parser for the subset of YAML that data set files use (top-level
`key: value` lines with JSON-style or bare scalars, flow lists `[a, b]`, and block lists or
`index: name` maps under `names:`), so that no YAML package is needed. Labels are found the way
YOLOv5 finds them: the last `/images/` of an image path replaced by `/labels/`, suffix `.txt`.
Plain Python, no torch.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from step_errors import DataError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")

# class index, then centre x, centre y, width, height as fractions of the image size
YoloObject = tuple[int, float, float, float, float]


@dataclass(frozen=True)
class DataSpec:
    root: Path
    classes: list[str]
    train: Path
    val: Path


@dataclass(frozen=True)
class LabelledImage:
    image: Path
    objects: tuple[YoloObject, ...]


def _scalar(text: str) -> object:
    text = text.strip()
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        pass
    if text.startswith("[") and text.endswith("]"):
        return [_scalar(part) for part in text[1:-1].split(",") if part.strip()]
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    if " #" in text:  # a trailing comment after a bare value
        return _scalar(text.split(" #", 1)[0])
    return text


def parse_simple_yaml(text: str) -> dict[str, object]:
    """Top-level keys of a data set YAML file; nested blocks become lists or dicts."""
    doc: dict[str, object] = {}
    key = None
    for raw in text.splitlines():
        line = raw.rstrip()
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace() and not line.startswith("-"):
            key, _, value = line.partition(":")
            key = key.strip()
            doc[key] = _scalar(value)
            continue
        item = line.strip()
        if key is None:
            raise ValueError(f"indented line before any key: {raw!r}")
        if item.startswith("- "):
            existing = doc.get(key)
            doc[key] = (existing if isinstance(existing, list) else []) + [_scalar(item[2:])]
        else:
            sub_key, _, value = item.partition(":")
            existing = doc.get(key)
            block = existing if isinstance(existing, dict) else {}
            block[str(_scalar(sub_key))] = _scalar(value)
            doc[key] = block
    return doc


def _class_names(doc: dict[str, object], source: Path) -> list[str]:
    names = doc.get("names")
    if isinstance(names, dict):
        names = [names[k] for k in sorted(names, key=lambda k: int(k))]
    nc = doc.get("nc")
    if names is None and isinstance(nc, int):
        names = [f"class{i}" for i in range(nc)]
    if not isinstance(names, list) or not names:
        raise DataError(f"{source} names no classes (expected `names: [...]`)")
    if isinstance(nc, int) and nc != len(names):
        raise DataError(f"{source} says nc: {nc} but names {len(names)} classes")
    return [str(n) for n in names]


def read_data_yaml(path: Path) -> DataSpec:
    if not path.is_file():
        raise DataError(f"data file not found: {path} (run the prepare step first)")
    try:
        doc = parse_simple_yaml(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        raise DataError(f"cannot read {path}: {e}") from e
    root = Path(str(doc.get("path") or path.parent))
    if not root.is_absolute():
        root = path.parent / root
    splits = {}
    for split in ("train", "val"):
        if not doc.get(split):
            raise DataError(f"{path} has no `{split}:` entry")
        entry = Path(str(doc[split]))
        splits[split] = entry if entry.is_absolute() else root / entry
    return DataSpec(root=root, classes=_class_names(doc, path), train=splits["train"], val=splits["val"])


def read_image_list(source: Path) -> list[Path]:
    """Images of a split: the lines of a list file (relative to its folder), or a folder's images."""
    if source.is_dir():
        return sorted(p for p in source.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not source.is_file():
        raise DataError(f"image list not found: {source} (run the prepare step first)")
    images = []
    for line in source.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            entry = Path(line)
            images.append(entry if entry.is_absolute() else source.parent / entry)
    return images


def label_path_for(image: Path) -> Path:
    """YOLOv5's rule: .../images/x.jpg -> .../labels/x.txt (the last images/ folder of the path)."""
    parts = list(image.parts)
    for i in range(len(parts) - 2, -1, -1):
        if parts[i] == "images":
            parts[i] = "labels"
            break
    return Path(*parts).with_suffix(".txt")


def parse_label_text(text: str, num_classes: int, source: str) -> tuple[YoloObject, ...]:
    objects = []
    for number, line in enumerate(text.splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        where = f"{source}:{number}"
        if len(fields) != 5:
            raise DataError(f"{where}: expected `class cx cy w h`, got {line.strip()!r}")
        try:
            cls, values = int(fields[0]), tuple(float(f) for f in fields[1:])
        except ValueError as e:
            raise DataError(f"{where}: not a number in {line.strip()!r}") from e
        if not 0 <= cls < num_classes:
            raise DataError(f"{where}: class {cls} outside 0..{num_classes - 1}")
        if not all(0.0 <= v <= 1.0 for v in values):
            raise DataError(f"{where}: coordinates must be normalised to 0..1, got {line.strip()!r}")
        objects.append((cls, *values))
    return tuple(objects)


def load_split(spec: DataSpec, split: str) -> list[LabelledImage]:
    """Every image of a split with its objects; a missing label file means no objects, as in YOLOv5."""
    images = read_image_list(spec.train if split == "train" else spec.val)
    missing = [str(p) for p in images if not p.is_file()]
    if missing:
        shown = ", ".join(missing[:3]) + (f" and {len(missing) - 3} more" if len(missing) > 3 else "")
        raise DataError(f"{len(missing)} image(s) of the {split} list not found: {shown}")
    result = []
    for image in images:
        label = label_path_for(image)
        text = label.read_text(encoding="utf-8") if label.is_file() else ""
        result.append(LabelledImage(image, parse_label_text(text, len(spec.classes), str(label))))
    return result
