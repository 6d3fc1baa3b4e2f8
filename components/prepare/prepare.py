#!/usr/bin/env python3
"""Turn a Pascal VOC data set (VOC2028 of SafetyHelmet) into YOLOv5 labels, image lists and data.yaml.

Every XML file becomes one label file of `class cx cy w h` lines, normalised to the image size
given in the XML. Objects of unknown classes and malformed files are counted and skipped; one bad
file never stops the run. The same input gives byte-identical output.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path


class PrepareError(Exception):
    """A problem the user can act on; printed as one line on stderr."""


@dataclass
class Report:
    images: int = 0
    objects: int = 0
    unknown_class_objects: dict[str, int] = field(default_factory=dict)
    malformed_files: list[str] = field(default_factory=list)
    missing_images: list[str] = field(default_factory=list)
    train: int = 0
    val: int = 0


def log(message: str) -> None:
    print(f"prepare: {message}", flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="prepare.py",
        description="Convert Pascal VOC annotations under DATAPATH into YOLOv5 labels, train/val lists and data.yaml.",
    )
    p.add_argument("--datapath", required=True, help="folder holding VOC2028/ (or Annotations/ and JPEGImages/ directly)")
    p.add_argument("--classes", default="hat,person", help="comma-separated class names, in class-index order (default: hat,person)")
    p.add_argument("--val-ratio", type=float, default=0.1, help="share of images for validation, 0..1 (default: 0.1)")
    p.add_argument("--seed", type=int, default=0, help="seed of the train/val split (default: 0)")
    args = p.parse_args(argv)
    if not 0 <= args.val_ratio < 1:
        p.error("--val-ratio must be at least 0 and below 1")
    return args


def find_voc_root(datapath: Path) -> Path:
    if not datapath.is_dir():
        raise PrepareError(f"data folder not found: {datapath}")
    for candidate in (datapath / "VOC2028", datapath, *sorted(p for p in datapath.iterdir() if p.is_dir())):
        if (candidate / "Annotations").is_dir():
            return candidate
    raise PrepareError(f"no Annotations/ folder in {datapath} or {datapath}/VOC2028; run the ingest step first")


def _number(node: ET.Element | None, tag: str) -> float:
    text = node.findtext(tag) if node is not None else None
    if text is None:
        raise ValueError(f"missing <{tag}>")
    return float(text)


def convert_annotation(xml_text: str, classes: list[str], report: Report) -> list[str]:
    """YOLO label lines for one VOC annotation. Raises ValueError for a malformed file."""
    root = ET.fromstring(xml_text)
    size = root.find("size")
    width, height = _number(size, "width"), _number(size, "height")
    if width <= 0 or height <= 0:
        raise ValueError(f"image size {width}x{height} is not positive")
    lines = []
    unknown: dict[str, int] = {}
    for obj in root.iter("object"):
        name = (obj.findtext("name") or "").strip()
        if name not in classes:
            unknown[name] = unknown.get(name, 0) + 1
            continue
        box = obj.find("bndbox")
        xmin, ymin = _number(box, "xmin"), _number(box, "ymin")
        xmax, ymax = _number(box, "xmax"), _number(box, "ymax")
        # Clamp to the image: VOC boxes at the edge sometimes run a pixel past it.
        xmin, xmax = max(0.0, min(xmin, width)), max(0.0, min(xmax, width))
        ymin, ymax = max(0.0, min(ymin, height)), max(0.0, min(ymax, height))
        if xmax <= xmin or ymax <= ymin:
            raise ValueError(f"empty box for {name!r}")
        cx, cy = (xmin + xmax) / 2 / width, (ymin + ymax) / 2 / height
        w, h = (xmax - xmin) / width, (ymax - ymin) / height
        lines.append(f"{classes.index(name)} {cx:.6f} {cy:.6f} {w:.6f} {h:.6f}")
    # Counted only once the whole file is known to be good.
    report.objects += len(lines)
    for name, n in unknown.items():
        report.unknown_class_objects[name] = report.unknown_class_objects.get(name, 0) + n
    return lines


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)


def prepare(datapath: Path, classes: list[str], val_ratio: float = 0.1, seed: int = 0) -> Report:
    voc = find_voc_root(datapath)
    images_dir = voc / "JPEGImages"
    labels_dir = voc / "labels"
    labels_dir.mkdir(exist_ok=True)
    # YOLOv5 finds labels by replacing /images/ with /labels/ in an image path.
    images_link = voc / "images"
    if not images_link.exists():
        images_link.symlink_to("JPEGImages")

    report = Report()
    kept: list[str] = []
    for xml_path in sorted((voc / "Annotations").glob("*.xml")):
        stem = xml_path.stem
        try:
            lines = convert_annotation(xml_path.read_text(encoding="utf-8"), classes, report)
        except (ET.ParseError, ValueError, UnicodeDecodeError) as e:
            report.malformed_files.append(f"{xml_path.name}: {e}")
            continue
        if not (images_dir / f"{stem}.jpg").is_file():
            report.missing_images.append(f"{stem}.jpg")
            continue
        _write(labels_dir / f"{stem}.txt", "".join(f"{line}\n" for line in lines))
        kept.append(stem)
        report.images += 1

    order = list(kept)
    random.Random(seed).shuffle(order)
    n_val = round(len(order) * val_ratio)
    if val_ratio > 0 and n_val == 0 and len(order) > 1:
        n_val = 1
    val, train = sorted(order[:n_val]), sorted(order[n_val:])
    report.train, report.val = len(train), len(val)
    _write(voc / "train.txt", "".join(f"./images/{s}.jpg\n" for s in train))
    _write(voc / "val.txt", "".join(f"./images/{s}.jpg\n" for s in val))
    names = ", ".join(json.dumps(c) for c in classes)
    _write(
        voc / "data.yaml",
        f"# YOLOv5 data set written by prepare.py\npath: {json.dumps(str(voc))}\ntrain: train.txt\nval: val.txt\n"
        f"nc: {len(classes)}\nnames: [{names}]\n",
    )
    _write(voc / "prepare-report.json", json.dumps(report.__dict__, indent=2, sort_keys=True) + "\n")
    return report


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    classes = [c.strip() for c in args.classes.split(",") if c.strip()]
    if not classes:
        print("prepare: error: --classes names no class", file=sys.stderr)
        return 2
    try:
        r = prepare(Path(args.datapath), classes, args.val_ratio, args.seed)
    except PrepareError as e:
        print(f"prepare: error: {e}", file=sys.stderr)
        return 1
    log(f"{r.images} images, {r.objects} objects -> {r.train} train / {r.val} val")
    if r.unknown_class_objects:
        log(f"skipped objects of unknown classes: {dict(sorted(r.unknown_class_objects.items()))}")
    for m in r.malformed_files:
        log(f"skipped malformed annotation {m}")
    for m in r.missing_images:
        log(f"skipped annotation without image {m}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
