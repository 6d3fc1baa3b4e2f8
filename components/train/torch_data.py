"""The prepared images and labels as a torch Dataset for torchvision's detectors.

Every image is resized (stretched) to image_size x image_size, the size the model trains and is
exported at, so the device resizes its camera frames the same way. YOLO-normalised labels then
map straight to pixel corners of the resized image. Training images are mirrored left-right at
random, from torch's generator, so a seeded run repeats.
"""
from __future__ import annotations

import random

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset

from boxes import hflip_box, is_drawable, yolo_to_xyxy
from prepared_data import LabelledImage

Target = dict[str, torch.Tensor]


def load_image(path: str, image_size: int) -> torch.Tensor:
    """float32 [3, S, S], RGB in 0..1."""
    with Image.open(path) as image:
        resized = image.convert("RGB").resize((image_size, image_size), Image.BILINEAR)
        pixels = np.asarray(resized, dtype=np.float32) / 255.0
    return torch.from_numpy(pixels).permute(2, 0, 1).contiguous()


def target_for(item: LabelledImage, image_size: int, flip: bool = False) -> Target:
    """Boxes in resized-image pixels and labels shifted by one: label 0 is SSD's background."""
    boxes, labels = [], []
    for cls, cx, cy, w, h in item.objects:
        box = yolo_to_xyxy(cx, cy, w, h, image_size, image_size)
        # A box under a pixel wide has no anchor to learn from, and SSD rejects empty boxes.
        if not is_drawable(box):
            continue
        boxes.append(hflip_box(box, image_size) if flip else box)
        labels.append(cls + 1)
    return {
        "boxes": torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4),
        "labels": torch.tensor(labels, dtype=torch.int64),
    }


class DetectionDataset(Dataset):
    def __init__(self, items: list[LabelledImage], image_size: int, augment: bool = False):
        self.items = items
        self.image_size = image_size
        self.augment = augment

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, Target]:
        item = self.items[index]
        image = load_image(str(item.image), self.image_size)
        flip = self.augment and bool(torch.rand(()) < 0.5)
        if flip:
            image = image.flip(-1)
        return image, target_for(item, self.image_size, flip)


def collate(batch: list[tuple[torch.Tensor, Target]]) -> tuple[list[torch.Tensor], list[Target]]:
    """Detection batches stay lists: each image has its own number of boxes."""
    images, targets = zip(*batch)
    return list(images), list(targets)


def _seed_worker(worker_id: int) -> None:
    # torch seeds each worker from the loader's generator; Python's and numpy's follow it.
    seed = torch.initial_seed() % 2**32
    random.seed(seed)
    np.random.seed(seed)


def make_loader(dataset: DetectionDataset, batch: int, workers: int, shuffle: bool, seed: int) -> DataLoader:
    generator = torch.Generator().manual_seed(seed)
    # BatchNorm cannot train on a batch of one image (its 1x1 feature maps give one value per
    # channel), so a last batch of one is dropped; at least two images are needed.
    drop_last = shuffle and len(dataset) % batch == 1 and len(dataset) > 1
    return DataLoader(
        dataset,
        batch_size=min(batch, len(dataset)),
        shuffle=shuffle,
        num_workers=workers,
        collate_fn=collate,
        drop_last=drop_last,
        generator=generator,
        worker_init_fn=_seed_worker,
        persistent_workers=workers > 0,
    )
