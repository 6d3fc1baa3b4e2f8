"""The torchvision detector: SSDlite with a MobileNetV3-Large backbone, at any square input size.

Why SSDlite: of the detectors in torchvision.models.detection it is the only one small enough
(2.2M parameters) to train on two CPU cores in seconds, and its network up to the heads is plain
convolutions (Conv, HardSigmoid, ReLU/Clip, GlobalAveragePool, Mul, Add; then Transpose, Reshape
and Concat to list the anchors), all with fixed shapes and all on the supported-operator lists
of NPU compilers such as Rockchip's. SSD300 uses VGG-16, RetinaNet and FCOS a ResNet-50 (each too slow here); Faster and
Mask R-CNN pool regions chosen by an NMS inside the network, which gives data-dependent shapes.

The torchvision builder fixes the input at 320x320; here the resize transform is replaced so the
model trains at --img, and the anchors (relative to the image size) follow. The anchor scales
start smaller than torchvision's (0.2) because helmets and heads are small in their images.
Weights start random (weights=None, weights_backbone=None): nothing is downloaded.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch
from torch import nn
from torchvision.models.detection import ssdlite320_mobilenet_v3_large
from torchvision.models.detection.anchor_utils import DefaultBoxGenerator
from torchvision.models.detection.image_list import ImageList
from torchvision.models.detection.ssd import SSD
from torchvision.models.detection.transform import GeneralizedRCNNTransform

ARCHITECTURE = "ssdlite_mobilenet_v3_large"
# One scale per feature map (6) plus the last one's upper neighbour, as fractions of the input side.
ANCHOR_SCALES = [0.07, 0.15, 0.33, 0.51, 0.69, 0.87, 1.05]
ANCHOR_ASPECT_RATIOS = [[2, 3]] * 6
# torchvision's SSDlite maps 0..1 to -1..1; one value for all channels keeps it a scalar op in ONNX.
PIXEL_MEAN = 0.5
PIXEL_STD = 0.5
# SSD's box coder weights: decode offsets (dx, dy, dw, dh) by dividing by these.
BOX_CODER_WEIGHTS = [10.0, 10.0, 5.0, 5.0]


@dataclass
class ModelSettings:
    """All that is needed to rebuild the network; saved in best.pt beside its weights."""

    classes: list[str]
    image_size: int
    architecture: str = ARCHITECTURE
    anchor_scales: list[float] = field(default_factory=lambda: list(ANCHOR_SCALES))

    @property
    def num_classes_with_background(self) -> int:
        return len(self.classes) + 1

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, doc: dict) -> "ModelSettings":
        return cls(
            classes=list(doc["classes"]),
            image_size=int(doc["image_size"]),
            architecture=str(doc["architecture"]),
            anchor_scales=[float(s) for s in doc["anchor_scales"]],
        )


def build_model(settings: ModelSettings) -> SSD:
    if settings.architecture != ARCHITECTURE:
        raise ValueError(f"unknown architecture {settings.architecture!r} (this trainer builds {ARCHITECTURE})")
    model = ssdlite320_mobilenet_v3_large(
        weights=None,
        weights_backbone=None,
        progress=False,
        num_classes=settings.num_classes_with_background,
    )
    size = settings.image_size
    model.transform = GeneralizedRCNNTransform(
        min_size=size,
        max_size=size,
        image_mean=[PIXEL_MEAN] * 3,
        image_std=[PIXEL_STD] * 3,
        size_divisible=1,
        fixed_size=(size, size),
    )
    # Same number of anchors per location as the builder's generator, so the heads still fit.
    model.anchor_generator = DefaultBoxGenerator(ANCHOR_ASPECT_RATIOS, scales=settings.anchor_scales)
    return model


class RawHeadOutputs(nn.Module):
    """The exported network: images in, SSD head outputs out, no box decoding and no NMS.

    Input: float32 [N, 3, S, S], RGB in 0..1. Outputs: `boxes` [N, A, 4], the box offsets
    (dx, dy, dw, dh) of every anchor, and `scores` [N, A, C+1], class logits with background at
    index 0. Decoding (softmax, anchors, BOX_CODER_WEIGHTS) and NMS are left to the device's
    post-processing, where they run faster than on an NPU.
    """

    def __init__(self, model: SSD):
        super().__init__()
        self.backbone = model.backbone
        self.box_layers = model.head.regression_head.module_list
        self.class_layers = model.head.classification_head.module_list
        self.num_columns = (4, model.head.classification_head.num_columns)

    @staticmethod
    def _per_anchor(maps: list[torch.Tensor], columns: int) -> torch.Tensor:
        # [N, A*K, H, W] -> [N, H*W*A, K], the order of torchvision's SSD head; it reaches it with
        # a 5-D view and transpose, this with 4-D ones, which NPUs support more widely.
        return torch.cat([m.permute(0, 2, 3, 1).reshape(m.shape[0], -1, columns) for m in maps], dim=1)

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        normalised = (images - PIXEL_MEAN) * (1.0 / PIXEL_STD)
        features = list(self.backbone(normalised).values())
        boxes = [layer(f) for layer, f in zip(self.box_layers, features)]
        scores = [layer(f) for layer, f in zip(self.class_layers, features)]
        return self._per_anchor(boxes, self.num_columns[0]), self._per_anchor(scores, self.num_columns[1])


@torch.no_grad()
def anchors_xyxy(model: SSD, image_size: int) -> torch.Tensor:
    """The [A, 4] anchors (x1, y1, x2, y2 in input pixels), in the order of the head outputs."""
    was_training = model.training
    model.eval()
    try:
        images = torch.zeros(1, 3, image_size, image_size, device=next(model.parameters()).device)
        features = list(model.backbone(images).values())
        image_list = ImageList(images, [(image_size, image_size)])
        return model.anchor_generator(image_list, features)[0].cpu()
    finally:
        model.train(was_training)
