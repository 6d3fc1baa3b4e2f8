#!/usr/bin/env python3
"""Convert an ONNX model to RKNN for Rockchip NPUs with rknn-toolkit2.

The toolkit is reached through one seam, `load_toolkit()`, so that argument handling can be tested
without it.
"""
from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

TARGETS = ("rk3562", "rk3566", "rk3568", "rk3576", "rk3588", "rv1103", "rv1106", "rk2118")


class ToolkitMissing(Exception):
    pass


class ConversionFailed(Exception):
    pass


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="convert.py", description="Convert an ONNX model to an .rknn file for a Rockchip NPU.")
    p.add_argument("--model", required=True, help="ONNX model, e.g. /VOCdevkit/export/best.onnx")
    p.add_argument("--output", required=True, help="path of the .rknn file to write")
    p.add_argument("--target", default="rk3588", choices=TARGETS, help="target platform (default: rk3588)")
    p.add_argument("--quantize", action="store_true", help="quantize to int8 (needs --dataset)")
    p.add_argument("--dataset", help="text file listing calibration images, one path a line")
    args = p.parse_args(argv)
    if args.quantize and not args.dataset:
        p.error("--quantize needs --dataset")
    return args


def load_toolkit():
    """Return the RKNN class, or say exactly what is missing from this image."""
    try:
        return importlib.import_module("rknn.api").RKNN
    except ImportError as e:
        raise ToolkitMissing(
            "this image lacks rknn-toolkit2: it was built without its ML frameworks "
            "(e.g. offline from a plain Python base). Rebuild it from the default base image or a mirror "
            "(build args BASE_IMAGE / PIP_INDEX_URL) to convert."
        ) from e


def convert(rknn_class, args: argparse.Namespace) -> Path:
    model = Path(args.model)
    if not model.is_file():
        raise FileNotFoundError(f"model not found: {model} (run the train step first)")
    if args.dataset and not Path(args.dataset).is_file():
        raise FileNotFoundError(f"calibration list not found: {args.dataset}")
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    rknn = rknn_class(verbose=False)
    try:
        # YOLOv5 takes RGB in 0..1: the NPU divides 0..255 input by 255.
        rknn.config(mean_values=[[0, 0, 0]], std_values=[[255, 255, 255]], target_platform=args.target)
        steps = (
            ("load_onnx", lambda: rknn.load_onnx(model=str(model))),
            ("build", lambda: rknn.build(do_quantization=args.quantize, dataset=args.dataset)),
            ("export_rknn", lambda: rknn.export_rknn(str(out))),
        )
        for name, step in steps:
            code = step()
            if code != 0:
                raise ConversionFailed(f"rknn-toolkit2 {name} returned {code}")
    finally:
        rknn.release()
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        out = convert(load_toolkit(), args)
    except ToolkitMissing as e:
        print(f"rknn-convert: error: {e}", file=sys.stderr)
        return 3
    except (FileNotFoundError, ConversionFailed) as e:
        print(f"rknn-convert: error: {e}", file=sys.stderr)
        return 1
    print(f"rknn-convert: wrote {out} ({out.stat().st_size} bytes) for {args.target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
