"""One epoch of training, one evaluation pass, and the best.pt checkpoint, for torchvision's SSD.

Evaluation runs the model as it would be used (eval mode, torchvision's decoding and NMS) on the
validation images and scores its detections with detection_metrics (VOC mAP@0.5).
"""
from __future__ import annotations

import math
import os
import pickle
import random
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader
from torchvision.models.detection.ssd import SSD

from atomic_files import write_atomic
from detection_metrics import Detection, Evaluation, GroundTruth, evaluate
from ssdlite_model import ModelSettings
from step_errors import CheckpointMismatch, DeviceUnavailable, TrainingDiverged

CHECKPOINT_FORMAT = "helmet-train/torchvision/1"


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    # cuDNN picks the fastest kernels by timing them otherwise, and some are not deterministic.
    torch.backends.cudnn.benchmark = False
    torch.backends.cudnn.deterministic = True


def _cgroup_cpu_quota() -> float | None:
    """The container's CPU limit (a pod's `cpu:`), from cgroup v2 or v1; None when unlimited."""
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text(encoding="ascii").split()[:2]
    except (OSError, ValueError):
        try:
            quota = Path("/sys/fs/cgroup/cpu/cpu.cfs_quota_us").read_text(encoding="ascii").strip()
            period = Path("/sys/fs/cgroup/cpu/cpu.cfs_period_us").read_text(encoding="ascii").strip()
        except OSError:
            return None
    try:
        return int(quota) / int(period) if quota not in ("max", "-1") else None
    except ValueError:
        return None


def available_cpus() -> int:
    """CPUs this process may use: its CPU affinity, capped by the container's CPU limit."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    quota = _cgroup_cpu_quota()
    return min(cpus, max(1, math.ceil(quota))) if quota else cpus


def use_available_cpus() -> int:
    """Give torch one thread per available CPU unless OMP_NUM_THREADS says otherwise.

    Some builds (Debian's among them) start with a single thread, which halves the speed on two cores.
    """
    if not os.environ.get("OMP_NUM_THREADS"):
        torch.set_num_threads(available_cpus())
    return torch.get_num_threads()


def resolve_device(spec: str) -> torch.device:
    """`cpu`, or the first of the CUDA indices: one device trains, no DataParallel."""
    if spec == "cpu":
        return torch.device("cpu")
    indices = [int(i) for i in spec.split(",")]
    if not torch.cuda.is_available():
        raise DeviceUnavailable(
            f"--device {spec} asks for CUDA, but torch.cuda.is_available() is False here "
            f"(torch {torch.__version__}); use --device cpu"
        )
    if indices[0] >= torch.cuda.device_count():
        raise DeviceUnavailable(
            f"--device {spec}: CUDA device {indices[0]} does not exist "
            f"({torch.cuda.device_count()} visible); use an index below that or --device cpu"
        )
    return torch.device(f"cuda:{indices[0]}")


def make_optimizer(model: SSD, epochs: int) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LRScheduler]:
    # AdamW's per-weight step sizes train a randomly initialised network without a tuned
    # learning rate or warm-up; the cosine schedule lowers the rate so the last epochs settle.
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=4e-5)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(1, epochs), eta_min=5e-5)
    return optimizer, scheduler


def _to_device(images: list[torch.Tensor], targets: list[dict], device: torch.device) -> tuple[list, list]:
    return [i.to(device) for i in images], [{k: v.to(device) for k, v in t.items()} for t in targets]


def train_one_epoch(model: SSD, loader: DataLoader, optimizer: torch.optim.Optimizer, device: torch.device) -> float:
    """Mean training loss (box regression + classification) over the epoch's images."""
    model.train()
    total, seen = 0.0, 0
    for images, targets in loader:
        images, targets = _to_device(images, targets, device)
        losses = model(images, targets)
        loss = sum(losses.values())
        if not math.isfinite(loss.item()):
            parts = ", ".join(f"{name} {value.item():.4g}" for name, value in losses.items())
            raise TrainingDiverged(f"training diverged: the loss became {loss.item()} ({parts})")
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        # A random start gives large early gradients; clipping keeps one bad batch from wrecking it.
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=10.0)
        optimizer.step()
        total += loss.item() * len(images)
        seen += len(images)
    return total / max(1, seen)


@torch.no_grad()
def recalibrate_batchnorm(model: SSD, loader: DataLoader, device: torch.device, max_images: int = 512) -> None:
    """Recompute every BatchNorm's running mean and variance from training images.

    With few training steps (a small data set), the running statistics kept during training
    still lean on their initial values and on the network as it was epochs ago; evaluated with
    them, a network that has learned can output the same scores for every image. Averaging
    the statistics of the current network over up to max_images images gives eval mode (and the
    exported model, whose BatchNorms are folded into its convolutions) the right ones.
    """
    norms = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    momenta = [bn.momentum for bn in norms]
    for bn in norms:
        bn.reset_running_stats()
        bn.momentum = None  # a cumulative average over the batches below
    model.train()
    seen = 0
    try:
        for images, _ in loader:
            batch, _ = model.transform([i.to(device) for i in images])
            model.head(list(model.backbone(batch.tensors).values()))
            seen += len(images)
            if seen >= max_images:
                break
    finally:
        for bn, momentum in zip(norms, momenta):
            bn.momentum = momentum


@torch.no_grad()
def evaluate_model(model: SSD, loader: DataLoader, device: torch.device) -> Evaluation:
    """VOC mAP@0.5 of the model's detections on the loader's images (class ids from 0)."""
    model.eval()
    detections, ground_truths = [], []
    image_id = 0
    for images, targets in loader:
        outputs = model([i.to(device) for i in images])
        for output, target in zip(outputs, targets):
            for box, label in zip(target["boxes"].tolist(), target["labels"].tolist()):
                ground_truths.append(GroundTruth(image_id, label - 1, tuple(box)))
            for box, label, score in zip(output["boxes"].tolist(), output["labels"].tolist(), output["scores"].tolist()):
                detections.append(Detection(image_id, label - 1, score, tuple(box)))
            image_id += 1
    return evaluate(detections, ground_truths, iou_threshold=0.5)


def save_checkpoint(path: Path, model: SSD, settings: ModelSettings, epoch: int, val_map50: float) -> None:
    doc = {
        "format": CHECKPOINT_FORMAT,
        "settings": settings.to_dict(),
        "epoch": epoch,
        "val_map50": val_map50,
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
    }
    write_atomic(path, lambda tmp: torch.save(doc, tmp))


def load_checkpoint(path: Path) -> dict:
    """A best.pt written by save_checkpoint; weights_only so a file cannot run code."""
    try:
        doc = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError) as e:
        # e.g. an ultralytics .pt: a pickle of classes, which weights_only refuses to load
        raise CheckpointMismatch(f"{path} is not a best.pt of this trainer (not a plain weights file)") from e
    if not isinstance(doc, dict) or doc.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointMismatch(f"{path} is not a best.pt of this trainer (format {CHECKPOINT_FORMAT})")
    return doc


def load_start_weights(model: SSD, path: Path, settings: ModelSettings) -> None:
    """Start from an earlier best.pt; its classes must be this data set's (the input size may differ)."""
    if not path.is_file():
        raise FileNotFoundError(f"--weights file not found: {path}")
    doc = load_checkpoint(path)
    earlier = ModelSettings.from_dict(doc["settings"])
    if earlier.architecture != settings.architecture or earlier.classes != settings.classes:
        raise CheckpointMismatch(
            f"{path} was trained as {earlier.architecture} for classes {earlier.classes}; "
            f"this run trains {settings.architecture} for {settings.classes}"
        )
    model.load_state_dict(doc["state_dict"])
