#!/usr/bin/env python3
"""Draw a small synthetic safety-helmet data set as a .tar.gz in the layout of SafetyHelmet VOC2028.

The archive holds VOC2028/Annotations/<stem>.xml, VOC2028/JPEGImages/<stem>.jpg and
VOC2028/ImageSets/Main/trainval.txt, as the ingest step extracts and the prepare step reads. Each
picture shows 1-4 people drawn as simple shapes on a site-like background; each head is one object,
"hat" when it wears a helmet (box around head and helmet) and "person" when bare, as in VOC2028.

The same seed gives a byte-identical archive (sorted members, fixed times and owners, gzip mtime 0)
with the same Pillow and zlib builds; the JPEG and gzip encoders of another build may differ.
Needs only Pillow and the standard library.

Usage: make-helmet-data.py --out helmet.tar.gz [--images 40] [--seed 0] [--size 320x240] [--sha256]
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import os
import random
import re
import sys
import tarfile
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageOps

ROOT = "VOC2028"
MTIME = 1704067200  # 2024-01-01T00:00:00Z: fixed, so the archive does not depend on when it was made
HELMET_SHARE = 0.6
SKIN = [(255, 224, 189), (241, 194, 125), (224, 172, 105), (198, 134, 66), (141, 85, 36), (110, 70, 45)]
HAIR = [(25, 20, 18), (70, 45, 25), (120, 80, 40), (190, 160, 90), (140, 140, 140)]
HELMETS = [(250, 204, 20), (242, 242, 236), (205, 35, 35), (30, 85, 200), (245, 130, 25)]
SHIRTS = [(255, 120, 0), (200, 230, 40), (35, 45, 90), (120, 120, 125), (70, 100, 150), (40, 90, 50)]
BACKDROPS = [(150, 190, 230), (170, 170, 165), (200, 180, 140), (150, 85, 65), (110, 130, 110), (220, 220, 210)]


@dataclass
class Head:
    cx: float
    cy: float
    r: float  # half the head's height
    helmet: bool

    def box(self) -> tuple[float, float, float, float]:
        """Everything drawn for the head: the face, and the dome and brim of a helmet."""
        if self.helmet:
            return self.cx - 1.15 * self.r, self.cy - 1.25 * self.r, self.cx + 1.15 * self.r, self.cy + self.r
        return self.cx - 0.8 * self.r, self.cy - self.r, self.cx + 0.8 * self.r, self.cy + self.r

    @property
    def name(self) -> str:
        return "hat" if self.helmet else "person"


def parse_size(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"(\d+)x(\d+)", text.strip())
    if not match or not all(64 <= int(v) <= 4096 for v in match.groups()):
        raise argparse.ArgumentTypeError(f"{text!r} is not WIDTHxHEIGHT with both between 64 and 4096")
    return int(match.group(1)), int(match.group(2))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="make-helmet-data.py", description="Write a synthetic helmet data set (Pascal VOC, VOC2028 layout) as a .tar.gz.")
    p.add_argument("--out", required=True, type=Path, help="archive to write, e.g. helmet.tar.gz")
    p.add_argument("--images", type=int, default=40, help="number of images (default: 40)")
    p.add_argument("--seed", type=int, default=0, help="the same seed gives the same archive (default: 0)")
    p.add_argument("--size", type=parse_size, default=(320, 240), help="image size WIDTHxHEIGHT (default: 320x240)")
    p.add_argument("--sha256", action="store_true", help="print only the archive's SHA-256 on stdout (the summary goes to stderr)")
    args = p.parse_args(argv)
    if not 1 <= args.images <= 100_000:
        p.error("--images must be between 1 and 100000")
    return args


def _overlaps(a: tuple[float, ...], b: tuple[float, ...], gap: float = 2) -> bool:
    return a[0] - gap < b[2] and b[0] - gap < a[2] and a[1] - gap < b[3] and b[1] - gap < a[3]


def place_heads(rng: random.Random, size: tuple[int, int], wanted: list[bool]) -> list[Head]:
    """Heads wholly inside the picture, none touching another; a head that finds no room is dropped."""
    width, height = size
    heads: list[Head] = []
    for helmet in wanted:
        for _ in range(200):
            r = rng.uniform(max(6.0, 0.04 * height), max(7.0, 0.085 * height))
            head = Head(rng.uniform(1.2 * r + 2, width - 1.2 * r - 2), rng.uniform(1.3 * r + 2, height - 3 * r), r, helmet)
            # Placed by its helmet-wearing size, so a bare head never comes closer than a helmet would.
            envelope = Head(head.cx, head.cy, r, True).box()
            if not any(_overlaps(envelope, Head(h.cx, h.cy, h.r, True).box()) for h in heads):
                heads.append(head)
                break
    return heads


def draw_background(rng: random.Random, size: tuple[int, int]) -> Image.Image:
    width, height = size
    top, bottom = rng.sample(BACKDROPS, 2)
    if rng.random() < 0.5:
        image = Image.new("RGB", size, top)
    else:
        gradient = Image.linear_gradient("L").resize(size)
        image = ImageOps.colorize(gradient, top, bottom)
    draw = ImageDraw.Draw(image)
    horizon = int(height * rng.uniform(0.45, 0.75))
    draw.rectangle((0, horizon, width, height), fill=tuple(max(0, c - 40) for c in bottom))
    for _ in range(rng.randint(0, 3)):  # crates, scaffolding, machinery
        x, y = rng.uniform(0, width), rng.uniform(0, horizon)
        w, h = rng.uniform(0.05, 0.3) * width, rng.uniform(0.05, 0.4) * height
        draw.rectangle((x, y, x + w, y + h), fill=rng.choice(BACKDROPS), outline=(60, 60, 60))
    return image


def draw_body(draw: ImageDraw.ImageDraw, rng: random.Random, head: Head) -> None:
    r = head.r
    half = rng.uniform(1.3, 1.6) * r
    top = head.cy + 0.8 * r
    draw.rectangle((head.cx - 0.25 * r, head.cy + 0.6 * r, head.cx + 0.25 * r, top + 0.3 * r), fill=rng.choice(SKIN))
    draw.rounded_rectangle((head.cx - half, top, head.cx + half, top + rng.uniform(4, 6) * r), radius=r * 0.4, fill=rng.choice(SHIRTS))


def draw_head(draw: ImageDraw.ImageDraw, rng: random.Random, head: Head) -> None:
    cx, cy, r = head.cx, head.cy, head.r
    draw.ellipse((cx - 0.8 * r, cy - r, cx + 0.8 * r, cy + r), fill=rng.choice(SKIN))
    eye = max(1.0, 0.12 * r)
    for side in (-1, 1):
        ex = cx + side * 0.32 * r
        draw.ellipse((ex - eye, cy - eye, ex + eye, cy + eye), fill=(35, 30, 30))
    draw.line((cx - 0.25 * r, cy + 0.5 * r, cx + 0.25 * r, cy + 0.5 * r), fill=(120, 50, 50), width=max(1, round(r / 10)))
    if head.helmet:
        colour = rng.choice(HELMETS)
        darker = tuple(int(c * 0.7) for c in colour)
        draw.chord((cx - 0.95 * r, cy - 1.25 * r, cx + 0.95 * r, cy + 0.35 * r), 180, 360, fill=colour, outline=darker)
        brim = max(2, round(r / 5))
        # The brim's band lies just under the dome's flat side and spans the head box's width.
        draw.rectangle((cx - 1.15 * r, cy - 0.45 * r, cx + 1.15 * r, cy - 0.45 * r + brim), fill=darker)
    else:
        draw.chord((cx - 0.8 * r, cy - r, cx + 0.8 * r, cy + 0.1 * r), 180, 360, fill=rng.choice(HAIR))


def add_noise(rng: random.Random, image: Image.Image) -> Image.Image:
    # Drawn from the seeded generator: Pillow's own effect_noise uses the C library's rand().
    noise = Image.frombytes("L", image.size, rng.randbytes(image.size[0] * image.size[1])).convert("RGB")
    return Image.blend(image, noise, rng.uniform(0.04, 0.1))


def draw_image(rng: random.Random, size: tuple[int, int], wanted: list[bool]) -> tuple[Image.Image, list[Head]]:
    image = draw_background(rng, size)
    heads = place_heads(rng, size, wanted)
    draw = ImageDraw.Draw(image)
    # Bodies first, then heads: a body never hides a head, so every box shows what it names.
    for head in sorted(heads, key=lambda h: h.cy):
        draw_body(draw, rng, head)
    for head in heads:
        draw_head(draw, rng, head)
    return add_noise(rng, image), heads


def pixel_box(head: Head, size: tuple[int, int]) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = head.box()
    return max(0, int(x0)), max(0, int(y0)), min(size[0], int(x1) + 1), min(size[1], int(y1) + 1)


def annotation_xml(stem: str, size: tuple[int, int], heads: list[Head]) -> bytes:
    root = ET.Element("annotation")
    ET.SubElement(root, "folder").text = ROOT
    ET.SubElement(root, "filename").text = f"{stem}.jpg"
    size_node = ET.SubElement(root, "size")
    for tag, value in (("width", size[0]), ("height", size[1]), ("depth", 3)):
        ET.SubElement(size_node, tag).text = str(value)
    ET.SubElement(root, "segmented").text = "0"
    for head in heads:
        obj = ET.SubElement(root, "object")
        for tag, value in (("name", head.name), ("pose", "Unspecified"), ("truncated", "0"), ("difficult", "0")):
            ET.SubElement(obj, tag).text = value
        box = ET.SubElement(obj, "bndbox")
        for tag, value in zip(("xmin", "ymin", "xmax", "ymax"), pixel_box(head, size), strict=True):
            ET.SubElement(box, tag).text = str(value)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode").encode() + b"\n"


def wanted_helmets(rng: random.Random, index: int) -> list[bool]:
    # The first picture holds one of each class, so any set of one image or more has both.
    if index == 0:
        return [True, False, *(rng.random() < HELMET_SHARE for _ in range(rng.randint(0, 2)))]
    return [rng.random() < HELMET_SHARE for _ in range(rng.randint(1, 4))]


def make_files(images: int, seed: int, size: tuple[int, int]) -> tuple[dict[str, bytes], dict[str, int]]:
    """Archive members by path, and the count of objects of each class."""
    files: dict[str, bytes] = {}
    counts = {"hat": 0, "person": 0}
    stems = [f"{i:06d}" for i in range(images)]
    for index, stem in enumerate(stems):
        # One generator per picture, seeded by a string (hashed with SHA-512, the same everywhere).
        rng = random.Random(f"helmet:{seed}:{index}")
        image, heads = draw_image(rng, size, wanted_helmets(rng, index))
        jpeg = io.BytesIO()
        image.save(jpeg, "JPEG", quality=90)
        files[f"{ROOT}/JPEGImages/{stem}.jpg"] = jpeg.getvalue()
        files[f"{ROOT}/Annotations/{stem}.xml"] = annotation_xml(stem, size, heads)
        for head in heads:
            counts[head.name] += 1
    files[f"{ROOT}/ImageSets/Main/trainval.txt"] = "".join(f"{s}\n" for s in stems).encode()
    return files, counts


def _member(name: str, size: int | None) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.mtime, info.uid, info.gid, info.uname, info.gname = MTIME, 0, 0, "", ""
    if size is None:
        info.type, info.mode = tarfile.DIRTYPE, 0o755
    else:
        info.size, info.mode = size, 0o644
    return info


def write_archive(out: Path, files: dict[str, bytes]) -> str:
    """Write the .tar.gz atomically (temporary file, then rename); returns its SHA-256."""
    folders = {str(Path(name).parents[i]) for name in files for i in range(len(Path(name).parts) - 1)}
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    try:
        with (
            os.fdopen(fd, "wb") as raw,
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as gz,
            tarfile.open(fileobj=gz, mode="w", format=tarfile.USTAR_FORMAT) as tar,
        ):
            for name in sorted(folders | set(files)):
                data = files.get(name)
                tar.addfile(_member(name, None if data is None else len(data)), None if data is None else io.BytesIO(data))
        digest = hashlib.sha256(Path(tmp).read_bytes()).hexdigest()
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return digest


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    files, counts = make_files(args.images, args.seed, args.size)
    try:
        digest = write_archive(args.out, files)
    except OSError as e:
        print(f"make-helmet-data: error: cannot write {args.out}: {e}", file=sys.stderr)
        return 1
    summary = f"wrote {args.out} ({args.images} images, {sum(counts.values())} objects, sha256 {digest})"
    print(summary, file=sys.stderr if args.sha256 else sys.stdout)
    if args.sha256:
        print(digest)
    return 0


if __name__ == "__main__":
    sys.exit(main())
