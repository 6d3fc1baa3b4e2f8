"""Detection accuracy: IoU, VOC-style average precision per class, and mAP.

Follows the Pascal VOC (2010+) protocol: a class's detections over all images are ranked by
descending score; each one is a true positive when its best-overlapping ground-truth box of the
same class and image has IoU >= the threshold and was not already taken by a higher-scored
detection, otherwise a false positive. AP is the area under the precision/recall curve with
all-point interpolation (precision made monotonically decreasing, summed at every recall change).
mAP is the mean AP over the classes that have ground truth. Plain Python, no torch.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Hashable, Iterable

from boxes import Box, box_area


@dataclass(frozen=True)
class Detection:
    image_id: Hashable
    class_id: int
    score: float
    box: Box


@dataclass(frozen=True)
class GroundTruth:
    image_id: Hashable
    class_id: int
    box: Box


@dataclass
class Evaluation:
    map: float
    ap_per_class: dict[int, float] = field(default_factory=dict)
    ground_truth_per_class: dict[int, int] = field(default_factory=dict)


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two corner boxes; 0 when they do not overlap or are empty."""
    ix1, iy1 = max(a[0], b[0]), max(a[1], b[1])
    ix2, iy2 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, ix2 - ix1) * max(0.0, iy2 - iy1)
    union = box_area(a) + box_area(b) - inter
    return inter / union if union > 0 else 0.0


def match_detections(
    detections: list[Detection], ground_truths: list[GroundTruth], iou_threshold: float
) -> list[bool]:
    """True positive flags of one class's detections, in descending score order.

    `detections` must already be sorted by descending score; ties keep their given order, so the
    result does not depend on how a sort breaks them.
    """
    by_image: dict[Hashable, list[Box]] = {}
    for gt in ground_truths:
        by_image.setdefault(gt.image_id, []).append(gt.box)
    taken: dict[Hashable, set[int]] = {}
    flags = []
    for det in detections:
        boxes = by_image.get(det.image_id, [])
        best, best_iou = -1, 0.0
        for i, box in enumerate(boxes):
            overlap = iou(det.box, box)
            if overlap > best_iou:
                best, best_iou = i, overlap
        used = taken.setdefault(det.image_id, set())
        # A duplicate of an already matched object counts as a false positive, as in VOC.
        hit = best >= 0 and best_iou >= iou_threshold and best not in used
        if hit:
            used.add(best)
        flags.append(hit)
    return flags


def average_precision(recalls: list[float], precisions: list[float]) -> float:
    """VOC all-point interpolated AP of a precision/recall curve given in ranking order."""
    mrec = [0.0, *recalls, 1.0]
    mpre = [0.0, *precisions, 0.0]
    # The precision envelope: at each recall, the best precision reached at that recall or beyond.
    for i in range(len(mpre) - 2, -1, -1):
        mpre[i] = max(mpre[i], mpre[i + 1])
    return sum((mrec[i + 1] - mrec[i]) * mpre[i + 1] for i in range(len(mrec) - 1) if mrec[i + 1] != mrec[i])


def class_average_precision(
    detections: list[Detection], ground_truths: list[GroundTruth], iou_threshold: float = 0.5
) -> float:
    """AP of one class; `ground_truths` must not be empty."""
    ranked = sorted(detections, key=lambda d: -d.score)
    flags = match_detections(ranked, ground_truths, iou_threshold)
    recalls, precisions = [], []
    tp = 0
    for n, hit in enumerate(flags, start=1):
        tp += hit
        recalls.append(tp / len(ground_truths))
        precisions.append(tp / n)
    return average_precision(recalls, precisions)


def evaluate(
    detections: Iterable[Detection], ground_truths: Iterable[GroundTruth], iou_threshold: float = 0.5
) -> Evaluation:
    """mAP over the classes with ground truth; classes with detections only are left out.

    With no ground truth at all there is nothing to measure, and the mAP is 0.
    """
    dets_by_class: dict[int, list[Detection]] = {}
    for det in detections:
        dets_by_class.setdefault(det.class_id, []).append(det)
    gts_by_class: dict[int, list[GroundTruth]] = {}
    for gt in ground_truths:
        gts_by_class.setdefault(gt.class_id, []).append(gt)
    result = Evaluation(map=0.0)
    for class_id in sorted(gts_by_class):
        gts = gts_by_class[class_id]
        result.ap_per_class[class_id] = class_average_precision(dets_by_class.get(class_id, []), gts, iou_threshold)
        result.ground_truth_per_class[class_id] = len(gts)
    if result.ap_per_class:
        result.map = sum(result.ap_per_class.values()) / len(result.ap_per_class)
    return result
