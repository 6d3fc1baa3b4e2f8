#!/usr/bin/env python3
"""Validate an ONNX model for a Rockchip NPU target, then convert it to .rknn with rknn-toolkit2.

The model is checked first (model_check.py: opset, one fixed 1x3xHxW float32 input, operators the
target runs), so a model the target cannot take fails in seconds with every reason listed. An
image without rknn-toolkit2 still validates, then fails: no run succeeds without writing a model.
--report leaves a JSON record of the outcome either way. The `onnx` package and the toolkit are
reached through two seams, `load_checker()` and `load_toolkit()`, so the flow can be tested
without them.

Exit codes: 0 converted; 1 a missing input file or a failed conversion; 2 bad arguments;
3 this image lacks rknn-toolkit2 (or even onnx); 4 the model is not valid for the target.
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import tempfile
from pathlib import Path

TARGETS = ("rk3562", "rk3566", "rk3568", "rk3576", "rk3588", "rv1103", "rv1106", "rk2118")
REBUILD_HINT = (
    "Rebuild the image with the build args BASE_IMAGE / PIP_INDEX_URL pointing at a base image or "
    "a PyPI mirror that has rknn-toolkit2 (requirements.txt pins its version)."
)


class ToolkitMissing(Exception):
    pass


class ConversionFailed(Exception):
    pass


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="convert.py", description="Validate an ONNX model and convert it to an .rknn file for a Rockchip NPU.")
    p.add_argument("--model", required=True, help="ONNX model, e.g. /VOCdevkit/export/best.onnx")
    p.add_argument("--output", required=True, help="path of the .rknn file to write")
    p.add_argument("--target", default="rk3588", choices=TARGETS, help="target platform (default: rk3588)")
    p.add_argument("--quantize", action="store_true", help="quantize to int8 (needs --dataset)")
    p.add_argument("--dataset", help="text file listing calibration images, one path a line")
    p.add_argument("--report", help="write a JSON report of the validation and conversion here, whatever the outcome")
    args = p.parse_args(argv)
    if args.quantize and not args.dataset:
        p.error("--quantize needs --dataset")
    return args


def load_checker():
    """Return the model_check module, or say that even `onnx` is missing from this image."""
    try:
        importlib.import_module("onnx")
    except ImportError as e:
        raise ToolkitMissing(
            "this image lacks rknn-toolkit2 and the onnx package that comes with it, so the model can be "
            f"neither validated nor converted (built without its ML frameworks, e.g. offline from a plain Python base). {REBUILD_HINT}"
        ) from e
    return importlib.import_module("model_check")


def load_toolkit():
    """Return the RKNN class, or say exactly what is missing from this image."""
    try:
        return importlib.import_module("rknn.api").RKNN
    except ImportError as e:
        raise ToolkitMissing("this image lacks rknn-toolkit2") from e


def require_inputs(args: argparse.Namespace) -> None:
    if not Path(args.model).is_file():
        raise FileNotFoundError(f"model not found: {args.model} (run the train step first)")
    if args.dataset and not Path(args.dataset).is_file():
        raise FileNotFoundError(f"calibration list not found: {args.dataset}")


def convert(rknn_class, args: argparse.Namespace) -> Path:
    require_inputs(args)
    model, out = Path(args.model), Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    # Exported beside the output and renamed on success: a failed run leaves no partial .rknn.
    partial = out.with_name(f".{out.stem}.partial{out.suffix or '.rknn'}")
    rknn = rknn_class(verbose=False)
    try:
        # YOLOv5 takes RGB in 0..1: the NPU divides 0..255 input by 255.
        rknn.config(mean_values=[[0, 0, 0]], std_values=[[255, 255, 255]], target_platform=args.target)
        steps = (
            ("load_onnx", lambda: rknn.load_onnx(model=str(model))),
            ("build", lambda: rknn.build(do_quantization=args.quantize, dataset=args.dataset)),
            ("export_rknn", lambda: rknn.export_rknn(str(partial))),
        )
        for name, step in steps:
            code = step()
            if code != 0:
                raise ConversionFailed(f"rknn-toolkit2 {name} returned {code}")
        if not partial.is_file() or partial.stat().st_size == 0:
            raise ConversionFailed(f"rknn-toolkit2 export_rknn returned 0 but wrote nothing to {partial}")
        partial.replace(out)
    finally:
        rknn.release()
        partial.unlink(missing_ok=True)
    return out


def write_report(path: Path, report: dict) -> None:
    """Write atomically: a reader never sees half a report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(json.dumps(report, indent=2) + "\n")
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def new_report(args: argparse.Namespace) -> dict:
    return {
        "model": args.model, "target": args.target, "quantize": args.quantize,
        "onnx": "not checked", "validated": False, "opset": None, "opset_range": None, "input": None,
        "operators": {}, "problems": [], "toolkit": "not checked", "converted": False,
        "output": None, "output_bytes": None, "error": None, "exit_code": None,
    }


def fail(report: dict, code: int, message: str) -> int:
    report["error"] = message
    print(f"rknn-convert: error: {message}", file=sys.stderr)
    return code


def validate(checker, args: argparse.Namespace, report: dict):
    """The model's check, printed; recorded in `report`."""
    check = checker.check_model(Path(args.model), args.target)
    report.update(check.as_dict())
    report["validated"] = check.ok
    if check.ok:
        print(f"rknn-convert: {args.model}: {check.summary()}, all supported on {args.target}", flush=True)
    return check


def invalid_message(args: argparse.Namespace, check) -> str:
    count = len(check.problems)
    lines = "".join(f"\n  - {p}" for p in check.problems)
    return f"{args.model} is not valid for {args.target} ({count} problem{'s' if count > 1 else ''}):{lines}"


def run(args: argparse.Namespace, report: dict) -> int:
    try:
        checker = load_checker()
    except ToolkitMissing as e:
        report["onnx"] = report["toolkit"] = "absent"
        return fail(report, 3, str(e))
    report["onnx"] = "present"
    try:
        require_inputs(args)
    except FileNotFoundError as e:
        return fail(report, 1, str(e))
    check = validate(checker, args, report)
    if not check.ok:
        return fail(report, 4, invalid_message(args, check))
    try:
        rknn_class = load_toolkit()
    except ToolkitMissing:
        report["toolkit"] = "absent"
        return fail(report, 3, (
            f"this image lacks rknn-toolkit2, so no .rknn was written: {args.model} was validated for {args.target} "
            f"({check.summary(with_names=False)}). {REBUILD_HINT}"
        ))
    report["toolkit"] = "present"
    try:
        out = convert(rknn_class, args)
    except (FileNotFoundError, ConversionFailed) as e:
        return fail(report, 1, str(e))
    report.update(converted=True, output=str(out), output_bytes=out.stat().st_size)
    print(f"rknn-convert: wrote {out} ({out.stat().st_size} bytes) for {args.target}")
    return 0


def save_report(args: argparse.Namespace, report: dict, code: int | None) -> int | None:
    """Write the report if asked; a run whose report cannot be written has failed."""
    report["exit_code"] = code
    if not args.report:
        return code
    try:
        write_report(Path(args.report), report)
    except OSError as e:
        print(f"rknn-convert: error: cannot write the report {args.report}: {e}", file=sys.stderr)
        return code or 1
    return code


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    report = new_report(args)
    try:
        code = run(args, report)
    except BaseException as e:
        # The toolkit raised: the pipeline run still leaves its evidence, then the traceback.
        report["error"] = f"{type(e).__name__}: {e}"
        save_report(args, report, None)
        raise
    return save_report(args, report, code)


if __name__ == "__main__":
    sys.exit(main())
