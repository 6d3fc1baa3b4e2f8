#!/usr/bin/env python3
"""Train the helmet detector on the prepared data and export it to ONNX: the pipeline's train step.

Writes OUTPUT_DIR/best.pt, OUTPUT_DIR/best.onnx and OUTPUT_DIR/metrics.json, with one of two
frameworks behind the same arguments:
  ultralytics  YOLOv5, where the image has ultralytics (installed from PyPI or a mirror);
  torchvision  SSDlite-MobileNetV3 from Debian's python3-torch/-torchvision/-onnx/-onnxruntime,
               trained from random weights (nothing is downloaded).
The frameworks are reached through one seam, `choose_framework()`, so that argument handling
can be tested without them.
"""
from __future__ import annotations

import argparse
import importlib
import re
import sys
from types import ModuleType

from step_errors import FrameworkMissing, StepError

FRAMEWORKS = ("auto", "torchvision", "ultralytics")
# Python module -> (Debian 13 package, pip package) for the torchvision trainer.
TORCHVISION_MODULES = {
    "torch": ("python3-torch", "torch"),
    "torchvision": ("python3-torchvision", "torchvision"),
    "onnx": ("python3-onnx", "onnx"),
    "onnxruntime": ("python3-onnxruntime", "onnxruntime"),
    "numpy": ("python3-numpy", "numpy"),
    "PIL": ("python3-pil", "Pillow"),
}
ULTRALYTICS_MISSING = (
    "this image lacks ultralytics: it was built without its ML frameworks "
    "(e.g. offline from a plain Python base). Rebuild it from the default base image or a mirror "
    "(build args BASE_IMAGE / PIP_INDEX_URL) to train"
)
EXIT_CODES = """exit codes: 0 trained and exported; 1 missing or malformed data or files, a diverged
training run, or a best.onnx that disagrees with PyTorch; 2 bad arguments (including --device
naming CUDA where there is none); 3 the framework is not installed"""


def _positive(minimum: int):
    def parse(text: str) -> int:
        value = int(text)
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}")
        return value

    return parse


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="train_pipeline.py",
        description="Train a helmet detector on the prepared data; write best.pt, best.onnx and metrics.json.",
        epilog=EXIT_CODES,
    )
    p.add_argument("--epoch", type=_positive(1), required=True, help="training epochs")
    p.add_argument(
        "--device",
        required=True,
        help="cpu, or CUDA device index(es) such as 0 or 0,1; torchvision trains on the first index given",
    )
    p.add_argument("--workers", type=_positive(0), required=True, help="data loader worker processes (0: load in the main process)")
    p.add_argument("--output_dir", required=True, help="folder for best.pt, best.onnx and metrics.json")
    p.add_argument(
        "--patience", type=_positive(0), default=50,
        help="epochs without val mAP improvement before stopping early; 0 never stops early (default: 50)",
    )
    p.add_argument("--batch", type=_positive(1), default=16, help="batch size; at least 2 with torchvision (default: 16)")
    p.add_argument(
        "--img", type=_positive(1), default=640,
        help="square input size in pixels the model trains and exports at; a multiple of 32, at least 64 with torchvision (default: 640)",
    )
    p.add_argument(
        "--weights",
        help="starting weights: ultralytics: a model file or name (default: yolov5s.pt); "
        "torchvision: a best.pt of this trainer to continue from (default: random initialisation)",
    )
    p.add_argument("--data", default="/VOCdevkit/VOC2028/data.yaml", help="data.yaml written by the prepare step (default: %(default)s)")
    p.add_argument(
        "--framework", choices=FRAMEWORKS, default="auto",
        help="auto (default): ultralytics when it can be imported, else torchvision",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of weight initialisation, shuffling and augmentation (default: 0)")
    args = p.parse_args(argv)
    args.device = args.device.replace(" ", "")
    if not re.fullmatch(r"cpu|\d+(,\d+)*", args.device):
        p.error(f"--device must be cpu or CUDA indices such as 0 or 0,1, not {args.device!r}")
    return args


def _import_error(name: str) -> str | None:
    """Why `name` cannot be imported, or None when it can."""
    try:
        importlib.import_module(name)
    except (ImportError, OSError) as e:
        return str(e) or type(e).__name__
    return None


def load_ultralytics() -> ModuleType:
    """Import ultralytics, or say exactly what is missing from this image."""
    if _import_error("ultralytics") is not None:
        raise FrameworkMissing(ULTRALYTICS_MISSING)
    return importlib.import_module("ultralytics")


def require_torchvision() -> None:
    """Check every module the torchvision trainer needs, naming the packages that bring the missing ones."""
    missing = [name for name in TORCHVISION_MODULES if _import_error(name) is not None]
    if missing:
        debs = " ".join(TORCHVISION_MODULES[m][0] for m in missing)
        pips = " ".join(TORCHVISION_MODULES[m][1] for m in missing)
        raise FrameworkMissing(
            f"this image lacks {', '.join(missing)} for --framework torchvision: "
            f"install Debian 13's packages (apt-get install {debs}) or pip install {pips}"
        )


def choose_framework(requested: str) -> tuple[str, ModuleType | None]:
    """The framework to train with and, for ultralytics, its module."""
    if requested == "ultralytics":
        return "ultralytics", load_ultralytics()
    if requested == "torchvision":
        require_torchvision()
        return "torchvision", None
    try:
        return "ultralytics", load_ultralytics()
    except FrameworkMissing as no_ultralytics:
        try:
            require_torchvision()
        except FrameworkMissing as no_torchvision:
            raise FrameworkMissing(f"no training framework: {no_ultralytics}; and {no_torchvision}") from None
    print("train: ultralytics is not installed: training with torchvision", flush=True)
    return "torchvision", None


def run(framework: str, module: ModuleType | None, args: argparse.Namespace) -> str:
    """Train with the chosen framework; returns the summary line."""
    if framework == "ultralytics":
        import ultralytics_backend

        doc = ultralytics_backend.train(module, args)
        return f"wrote {args.output_dir}/best.pt, best.onnx, metrics.json ({len(doc['metrics'])} metrics)"
    import torchvision_backend

    doc = torchvision_backend.train(args)
    return (
        f"wrote {args.output_dir}/best.pt, best.onnx, anchors.json, metrics.json "
        f"(best epoch {doc['best_epoch']}, val mAP@0.5 {doc['map50']:.4f})"
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        framework, module = choose_framework(args.framework)
        summary = run(framework, module, args)
    except StepError as e:
        print(f"train: error: {e}", file=sys.stderr)
        return e.exit_code
    except FileNotFoundError as e:
        print(f"train: error: {e}", file=sys.stderr)
        return 1
    print(f"train: {summary}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
