#!/usr/bin/env python3
"""Train a YOLOv5 helmet detector with ultralytics and export it to ONNX.

Writes OUTPUT_DIR/best.pt, OUTPUT_DIR/best.onnx and OUTPUT_DIR/metrics.json. The framework is
reached through one seam, `load_framework()`, so that argument handling can be tested without it.
"""
from __future__ import annotations

import argparse
import importlib
import json
import shutil
import sys
from pathlib import Path
from types import ModuleType

REQUIRED_FRAMEWORKS = ("ultralytics",)


class FrameworkMissing(Exception):
    pass


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="train_pipeline.py", description="Train a YOLOv5 detector on the prepared helmet data.")
    p.add_argument("--epoch", type=int, required=True, help="training epochs")
    p.add_argument("--device", required=True, help="CUDA device index(es) such as 0 or 0,1, or cpu")
    p.add_argument("--workers", type=int, required=True, help="data loader workers")
    p.add_argument("--output_dir", required=True, help="folder for best.pt, best.onnx and metrics.json")
    p.add_argument("--patience", type=int, default=50, help="epochs without improvement before stopping early (default: 50)")
    p.add_argument("--batch", type=int, default=16, help="batch size (default: 16)")
    p.add_argument("--img", type=int, default=640, help="image size in pixels (default: 640)")
    p.add_argument("--weights", default="yolov5s.pt", help="starting weights (default: yolov5s.pt)")
    p.add_argument("--data", default="/VOCdevkit/VOC2028/data.yaml", help="data.yaml written by the prepare step")
    args = p.parse_args(argv)
    for name in ("epoch", "workers", "batch", "img"):
        if getattr(args, name) < (0 if name == "workers" else 1):
            p.error(f"--{name} must be positive")
    return args


def load_framework() -> ModuleType:
    """Import ultralytics, or say exactly what is missing from this image."""
    missing = []
    for name in REQUIRED_FRAMEWORKS:
        try:
            module = importlib.import_module(name)
        except ImportError:
            missing.append(name)
    if missing:
        raise FrameworkMissing(
            f"this image lacks {', '.join(missing)}: it was built without its ML frameworks "
            "(e.g. offline from a plain Python base). Rebuild it from the default base image or a mirror "
            "(build args BASE_IMAGE / PIP_INDEX_URL) to train."
        )
    return module


def train(framework: ModuleType, args: argparse.Namespace) -> dict:
    """Run training and export; returns the metrics written to metrics.json."""
    data = Path(args.data)
    if not data.is_file():
        raise FileNotFoundError(f"data file not found: {data} (run the prepare step first)")
    out = Path(args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    model = framework.YOLO(args.weights)
    results = model.train(
        data=str(data),
        epochs=args.epoch,
        device=args.device,
        workers=args.workers,
        batch=args.batch,
        imgsz=args.img,
        patience=args.patience,
        project=str(out),
        name="run",
        exist_ok=True,
    )
    best = Path(model.trainer.best)
    shutil.copyfile(best, out / "best.pt")
    best_model = framework.YOLO(str(out / "best.pt"))
    onnx_path = Path(best_model.export(format="onnx", imgsz=args.img))
    if onnx_path.resolve() != (out / "best.onnx").resolve():
        shutil.copyfile(onnx_path, out / "best.onnx")
    metrics = {k: float(v) for k, v in (getattr(results, "results_dict", None) or {}).items()}
    metrics_doc = {"epochs": args.epoch, "weights": args.weights, "image_size": args.img, "metrics": metrics}
    (out / "metrics.json").write_text(json.dumps(metrics_doc, indent=2, sort_keys=True) + "\n")
    return metrics_doc


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        framework = load_framework()
        doc = train(framework, args)
    except FrameworkMissing as e:
        print(f"train: error: {e}", file=sys.stderr)
        return 3
    except FileNotFoundError as e:
        print(f"train: error: {e}", file=sys.stderr)
        return 1
    print(f"train: wrote {args.output_dir}/best.pt, best.onnx, metrics.json ({len(doc['metrics'])} metrics)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
