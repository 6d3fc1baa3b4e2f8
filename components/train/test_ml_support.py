"""Shared by the torch tests: a tiny synthetic data set drawn with PIL, and the rule for skipping.

Tests that need torch, torchvision, onnx or onnxruntime are skipped where one is missing, unless
HELMET_REQUIRE_ML=1 (as in CI's ML image): then a missing package fails them instead. Named
test_* so that it stays out of the image with the tests; it holds no tests itself.
"""
from __future__ import annotations

import importlib
import importlib.util
import json
import os
import random
import tempfile
import unittest
import warnings
from pathlib import Path

ML_MODULES = ("torch", "torchvision", "onnx", "onnxruntime", "numpy", "PIL")
MISSING = [m for m in ML_MODULES if importlib.util.find_spec(m) is None]
REQUIRED = os.environ.get("HELMET_REQUIRE_ML") == "1"
HAVE_ML = not MISSING or REQUIRED  # with HELMET_REQUIRE_ML=1 import_ml() fails loudly

CLASSES = ["hat", "person"]


def draw_person(draw, x: int, y: int, head: int, helmet: bool, rng: random.Random) -> tuple[int, int, int, int]:
    """A body, a head and maybe a helmet; returns the head's box (the labelled object)."""
    body = (rng.randint(40, 90), rng.randint(40, 90), rng.randint(120, 200))
    draw.rectangle((x - head, y + head, x + head, y + 3 * head), fill=body)
    draw.ellipse((x - head // 2, y, x + head // 2, y + head), fill=(230, 190, 150))
    if helmet:
        draw.pieslice((x - head // 2 - 2, y - 3, x + head // 2 + 2, y + head // 2 + 4), 180, 360, fill=(250, 210, 0))
        return (x - head // 2 - 2, y - 3, x + head // 2 + 2, y + head)
    return (x - head // 2, y, x + head // 2, y + head)


def write_synthetic_dataset(root: Path, images: int, val: int, seed: int = 0, size: tuple[int, int] = (256, 192)) -> Path:
    """A prepared data set as prepare.py writes it; returns data.yaml. Every third image has no one."""
    from PIL import Image, ImageDraw

    rng = random.Random(seed)
    (root / "JPEGImages").mkdir(parents=True)
    (root / "labels").mkdir()
    (root / "images").symlink_to("JPEGImages")
    width, height = size
    stems = []
    for n in range(images):
        stem = f"img{n:03d}"
        image = Image.new("RGB", size, tuple(rng.randint(150, 255) for _ in range(3)))
        draw = ImageDraw.Draw(image)
        lines = []
        for _ in range(0 if n % 3 == 2 else rng.randint(1, 3)):
            head = rng.randint(22, 40)
            x, y = rng.randint(head + 4, width - head - 4), rng.randint(6, height - 4 * head)
            helmet = rng.random() < 0.5
            x1, y1, x2, y2 = draw_person(draw, x, y, head, helmet, rng)
            cx, cy, w, h = (x1 + x2) / 2 / width, (y1 + y2) / 2 / height, (x2 - x1) / width, (y2 - y1) / height
            lines.append(f"{0 if helmet else 1} {cx:.6f} {cy:.6f} {w:.6f} {h:.6f}\n")
        image.save(root / "JPEGImages" / f"{stem}.jpg", quality=92)
        (root / "labels" / f"{stem}.txt").write_text("".join(lines))
        stems.append(stem)
    (root / "train.txt").write_text("".join(f"./images/{s}.jpg\n" for s in stems[val:]))
    (root / "val.txt").write_text("".join(f"./images/{s}.jpg\n" for s in stems[:val]))
    (root / "data.yaml").write_text(
        f'path: {json.dumps(str(root))}\ntrain: train.txt\nval: val.txt\nnc: 2\nnames: ["hat", "person"]\n'
    )
    return root / "data.yaml"


def import_ml() -> None:
    """Import the ML packages (under HELMET_REQUIRE_ML=1 a missing one fails the test here).

    protobuf, which onnx uses, warns about deprecations of Python itself on import; those say
    nothing about this code and are kept out of the test output.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        for name in ML_MODULES:
            importlib.import_module(name)


def no_network(*_args, **_kwargs):
    raise AssertionError("the trainer tried to reach the network")


requires_ml = unittest.skipUnless(HAVE_ML, f"needs {', '.join(MISSING)} (set HELMET_REQUIRE_ML=1 to fail instead)")


@requires_ml
class MLTestCase(unittest.TestCase):
    """A test case that needs the ML packages: skipped without them, unless HELMET_REQUIRE_ML=1, where
    importing them in setUpClass fails the tests instead."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        import_ml()

    @classmethod
    def with_dataset(cls, images: int, val: int, seed: int = 0) -> None:
        """A scratch folder for the class (`cls.root`, removed after its tests) holding a synthetic
        data set (`cls.data`, its data.yaml)."""
        scratch = tempfile.TemporaryDirectory()
        cls.addClassCleanup(scratch.cleanup)
        cls.root = Path(scratch.name)
        cls.data = write_synthetic_dataset(cls.root / "voc", images=images, val=val, seed=seed)
