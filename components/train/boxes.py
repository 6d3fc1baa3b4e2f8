"""Box conversions between YOLO label coordinates and absolute corner boxes.

A YOLO label gives a box as centre x, centre y, width and height, each a fraction of the image
size (0..1). torchvision's detectors and the mAP evaluation take absolute corner boxes
(x1, y1, x2, y2) in pixels. Plain Python, so it runs and is tested without torch.
"""
from __future__ import annotations

Box = tuple[float, float, float, float]


def yolo_to_xyxy(cx: float, cy: float, w: float, h: float, width: float, height: float) -> Box:
    """Normalised centre/size -> absolute corners, clamped to the image."""
    x1 = (cx - w / 2) * width
    y1 = (cy - h / 2) * height
    x2 = (cx + w / 2) * width
    y2 = (cy + h / 2) * height
    return clamp_box((x1, y1, x2, y2), width, height)


def xyxy_to_yolo(box: Box, width: float, height: float) -> Box:
    """Absolute corners -> normalised centre/size (the inverse of yolo_to_xyxy inside the image)."""
    x1, y1, x2, y2 = box
    return ((x1 + x2) / 2 / width, (y1 + y2) / 2 / height, (x2 - x1) / width, (y2 - y1) / height)


def clamp_box(box: Box, width: float, height: float) -> Box:
    x1, y1, x2, y2 = box
    return (
        min(max(x1, 0.0), width),
        min(max(y1, 0.0), height),
        min(max(x2, 0.0), width),
        min(max(y2, 0.0), height),
    )


def scale_box(box: Box, sx: float, sy: float) -> Box:
    """Scale a corner box by sx horizontally and sy vertically (an image resized by those factors)."""
    x1, y1, x2, y2 = box
    return (x1 * sx, y1 * sy, x2 * sx, y2 * sy)


def hflip_box(box: Box, width: float) -> Box:
    """The box in the image mirrored left-right."""
    x1, y1, x2, y2 = box
    return (width - x2, y1, width - x1, y2)


def box_area(box: Box) -> float:
    x1, y1, x2, y2 = box
    return max(0.0, x2 - x1) * max(0.0, y2 - y1)


def is_drawable(box: Box, min_side: float = 1.0) -> bool:
    """True when both sides are at least min_side pixels: smaller boxes cannot be regressed to."""
    x1, y1, x2, y2 = box
    return x2 - x1 >= min_side and y2 - y1 >= min_side
