"""Train a YOLOv5 helmet detector with ultralytics and export it to ONNX.

Writes OUTPUT_DIR/best.pt, OUTPUT_DIR/best.onnx and OUTPUT_DIR/metrics.json. ultralytics does
the training, validation, early stopping and export itself; this module hands it the step's
arguments and copies its results to the fixed names the next step reads.
"""
from __future__ import annotations

import argparse
from pathlib import Path
from types import ModuleType

from atomic_files import copy_atomic, write_json_atomic

DEFAULT_WEIGHTS = "yolov5s.pt"


def train(framework: ModuleType, args: argparse.Namespace) -> dict:
    """Run training and export; returns the metrics written to metrics.json."""
    data = Path(args.data)
    if not data.is_file():
        raise FileNotFoundError(f"data file not found: {data} (run the prepare step first)")
    out = Path(args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    weights = args.weights or DEFAULT_WEIGHTS
    model = framework.YOLO(weights)
    results = model.train(
        data=str(data),
        epochs=args.epoch,
        device=args.device,
        workers=args.workers,
        batch=args.batch,
        imgsz=args.img,
        patience=args.patience,
        seed=args.seed,
        project=str(out),
        name="run",
        exist_ok=True,
    )
    best = Path(model.trainer.best)
    copy_atomic(best, out / "best.pt")
    best_model = framework.YOLO(str(out / "best.pt"))
    onnx_path = Path(best_model.export(format="onnx", imgsz=args.img))
    if onnx_path.resolve() != (out / "best.onnx").resolve():
        copy_atomic(onnx_path, out / "best.onnx")
    metrics = {k: float(v) for k, v in (getattr(results, "results_dict", None) or {}).items()}
    metrics_doc = {
        "framework": "ultralytics",
        "epochs": args.epoch,
        "weights": weights,
        "image_size": args.img,
        "metrics": metrics,
    }
    write_json_atomic(out / "metrics.json", metrics_doc)
    return metrics_doc
