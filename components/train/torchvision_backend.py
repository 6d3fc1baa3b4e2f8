"""Train torchvision's SSDlite on the prepared helmet data; write best.pt, best.onnx and metrics.json.

Each epoch trains on the train split, then scores the model on the val split (VOC mAP@0.5).
best.pt keeps the epoch with the best val mAP (a tie goes to the later epoch); training stops
after --patience epochs without improvement. best.pt is then exported to ONNX (see
onnx_export), and anchors.json gives what a device needs to decode the exported outputs:

    centre = anchor_centre + (dx / 10, dy / 10) * anchor_size
    size   = anchor_size * exp(dw / 5, dh / 5)
    class probabilities = softmax(scores), index 0 = background, index k = classes[k - 1]
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
from torch.utils.data import DataLoader
from torchvision.models.detection.ssd import SSD

from atomic_files import write_atomic, write_json_atomic
from onnx_export import export_and_check
from prepared_data import LabelledImage, load_split, read_data_yaml
from ssdlite_model import BOX_CODER_WEIGHTS, ModelSettings, RawHeadOutputs, anchors_xyxy, build_model
from step_errors import BadArguments, DataError
from torch_data import DetectionDataset, load_image, make_loader
from torch_training import (
    evaluate_model,
    load_checkpoint,
    load_start_weights,
    make_optimizer,
    recalibrate_batchnorm,
    resolve_device,
    save_checkpoint,
    seed_everything,
    train_one_epoch,
    use_available_cpus,
)

MIN_IMAGE_SIZE = 64
OUTPUTS = ("best.pt", "best.onnx", "anchors.json", "metrics.json")


def log(message: str) -> None:
    print(f"train: {message}", flush=True)


def check_arguments(args: argparse.Namespace) -> None:
    if args.batch < 2:
        raise BadArguments("--batch must be at least 2 with torchvision: BatchNorm cannot train on one image")
    if args.img < MIN_IMAGE_SIZE:
        raise BadArguments(f"--img must be at least {MIN_IMAGE_SIZE} with torchvision's SSDlite")


def load_data(data: Path) -> tuple[list[str], list[LabelledImage], list[LabelledImage]]:
    spec = read_data_yaml(data)
    train_items, val_items = load_split(spec, "train"), load_split(spec, "val")
    if len(train_items) < 2:
        raise DataError(f"{spec.train} lists {len(train_items)} image(s); training needs at least 2")
    if not val_items:
        raise DataError(f"{spec.val} lists no image; prepare with --val-ratio above 0 to evaluate")
    return spec.classes, train_items, val_items


def _describe_epoch(record: dict, epochs: int, improved: bool) -> str:
    per_class = ", ".join(f"{name} {ap:.3f}" for name, ap in record["val_ap50_per_class"].items())
    return (
        f"epoch {record['epoch']}/{epochs} loss {record['train_loss']:.4f} "
        f"val mAP@0.5 {record['val_map50']:.4f} ({per_class or 'no labelled objects'}) "
        f"{record['seconds']:.1f}s{' -> best.pt' if improved else ''}"
    )


def run_epochs(
    model: SSD,
    settings: ModelSettings,
    loaders: tuple[DataLoader, DataLoader],
    device: torch.device,
    args: argparse.Namespace,
    out: Path,
) -> dict:
    """Train, evaluate and keep the best epoch; returns the history for metrics.json."""
    train_loader, val_loader = loaders
    optimizer, scheduler = make_optimizer(model, args.epoch)
    history: list[dict] = []
    best_map, best_epoch, since_best, stopped_early = -1.0, 0, 0, False
    for epoch in range(1, args.epoch + 1):
        start = time.monotonic()
        loss = train_one_epoch(model, train_loader, optimizer, device)
        scheduler.step()
        recalibrate_batchnorm(model, train_loader, device)
        evaluation = evaluate_model(model, val_loader, device)
        record = {
            "epoch": epoch,
            "train_loss": loss,
            "val_map50": evaluation.map,
            "val_ap50_per_class": {settings.classes[c]: ap for c, ap in evaluation.ap_per_class.items()},
            "seconds": round(time.monotonic() - start, 3),
        }
        history.append(record)
        improved = evaluation.map >= best_map
        if improved:
            best_map, best_epoch, since_best = evaluation.map, epoch, 0
            save_checkpoint(out / "best.pt", model, settings, epoch, evaluation.map)
        else:
            since_best += 1
        log(_describe_epoch(record, args.epoch, improved))
        # --patience 0 never stops early, as in ultralytics.
        if args.patience and since_best >= args.patience and epoch < args.epoch:
            stopped_early = True
            log(f"no val mAP improvement for {since_best} epochs: stopping early (--patience {args.patience})")
            break
    return {"epochs": history, "best_epoch": best_epoch, "map50": best_map, "stopped_early": stopped_early}


def export_best(out: Path, check_image: LabelledImage) -> dict:
    """best.pt -> best.onnx (checked against PyTorch) and anchors.json; the ONNX report."""
    checkpoint = load_checkpoint(out / "best.pt")
    settings = ModelSettings.from_dict(checkpoint["settings"])
    model = build_model(settings)
    model.load_state_dict(checkpoint["state_dict"])
    model.eval()
    sample = load_image(str(check_image.image), settings.image_size).unsqueeze(0)
    report: dict = {}

    def export_to(tmp: Path) -> None:
        # The check runs on the tmp file: a model that fails it never becomes best.onnx.
        report.update(export_and_check(RawHeadOutputs(model), settings.image_size, sample, tmp))

    write_atomic(out / "best.onnx", export_to)
    anchors = anchors_xyxy(model, settings.image_size)
    write_json_atomic(
        out / "anchors.json",
        {
            "image_size": settings.image_size,
            "format": "x1, y1, x2, y2 in input pixels; row i belongs to row i of the boxes and scores outputs",
            "box_coder_weights": BOX_CODER_WEIGHTS,
            "classes": ["__background__", *settings.classes],
            "anchors": [[round(v, 4) for v in row] for row in anchors.tolist()],
        },
        indent=None,  # thousands of rows: one line
    )
    return {"file": "best.onnx", **report, "check_image": check_image.image.name, "anchors_file": "anchors.json"}


def train(args: argparse.Namespace) -> dict:
    """Train, export and write metrics.json; returns its content."""
    check_arguments(args)
    classes, train_items, val_items = load_data(Path(args.data))
    device = resolve_device(args.device)
    seed_everything(args.seed)
    threads = use_available_cpus()
    settings = ModelSettings(classes=classes, image_size=args.img)
    model = build_model(settings)
    if args.weights:
        load_start_weights(model, Path(args.weights), settings)
    model.to(device)
    out = Path(args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    # A run that fails half-way must not leave an earlier run's model looking like its own.
    for stale in OUTPUTS:
        (out / stale).unlink(missing_ok=True)
    if "," in args.device:
        log(f"--device {args.device}: torchvision trains on the first device only, {device}")
    log(
        f"torchvision {settings.architecture} at {args.img}x{args.img} on {device} ({threads} CPU threads): "
        f"{len(train_items)} train / {len(val_items)} val images, classes {', '.join(classes)}"
    )
    loaders = (
        make_loader(DetectionDataset(train_items, args.img, augment=True), args.batch, args.workers, True, args.seed),
        make_loader(DetectionDataset(val_items, args.img), args.batch, args.workers, False, args.seed),
    )
    result = run_epochs(model, settings, loaders, device, args, out)
    onnx_report = export_best(out, val_items[0])
    log(f"best.onnx matches PyTorch on {val_items[0].image.name} (max abs diff {onnx_report['max_abs_diff']:.2e})")
    doc = {
        "framework": "torchvision",
        "model": settings.architecture,
        "image_size": args.img,
        "classes": classes,
        "train_images": len(train_items),
        "val_images": len(val_items),
        "seed": args.seed,
        "device": str(device),
        "weights": args.weights,
        **result,
        "onnx": onnx_report,
    }
    write_json_atomic(out / "metrics.json", doc)
    return doc
