"""make-helmet-data.py: the same seed gives the same archive, and the pipeline's own ingest and
prepare steps take what it writes. Needs Pillow."""
import contextlib
import gzip
import hashlib
import importlib.util
import io
import sys
import tarfile
import tempfile
import unittest
import xml.etree.ElementTree as ET
from pathlib import Path

from PIL import Image

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path[:0] = [str(REPO / "components" / "prepare"), str(REPO / "components" / "ingest")]

import ingest_pipeline  # noqa: E402
import prepare  # noqa: E402

spec = importlib.util.spec_from_file_location("make_helmet_data", HERE / "make-helmet-data.py")
make_helmet_data = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = make_helmet_data  # dataclasses look their module up there
spec.loader.exec_module(make_helmet_data)

IMAGES = 12


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = make_helmet_data.main(list(argv))
    return code, out.getvalue(), err.getvalue()


def members(archive: Path) -> dict[str, bytes]:
    with tarfile.open(archive) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}


def objects(xml_bytes: bytes) -> list[tuple[str, tuple[int, int, int, int]]]:
    root = ET.fromstring(xml_bytes)
    return [
        (obj.findtext("name"), tuple(int(obj.find("bndbox").findtext(t)) for t in ("xmin", "ymin", "xmax", "ymax")))
        for obj in root.iter("object")
    ]


class MakeHelmetDataTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.root = Path(cls.tmp.name)
        cls.archive = cls.root / "a" / "helmet.tar.gz"
        code, cls.out, _ = run("--out", str(cls.archive), "--images", str(IMAGES), "--seed", "3", "--size", "200x160")
        assert code == 0, "the archive could not be written"
        cls.files = members(cls.archive)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_the_same_seed_gives_the_same_bytes_and_another_seed_others(self):
        again, other = self.root / "again.tar.gz", self.root / "other.tar.gz"
        run("--out", str(again), "--images", str(IMAGES), "--seed", "3", "--size", "200x160")
        run("--out", str(other), "--images", str(IMAGES), "--seed", "4", "--size", "200x160")
        self.assertEqual(again.read_bytes(), self.archive.read_bytes())
        self.assertNotEqual(other.read_bytes(), self.archive.read_bytes())

    def test_the_summary_names_the_counts_and_the_checksum(self):
        total = sum(len(objects(data)) for name, data in self.files.items() if name.endswith(".xml"))
        digest = hashlib.sha256(self.archive.read_bytes()).hexdigest()
        self.assertEqual(self.out, f"wrote {self.archive} ({IMAGES} images, {total} objects, sha256 {digest})\n")

    def test_sha256_flag_prints_only_the_checksum_on_stdout(self):
        path = self.root / "s" / "x.tar.gz"
        code, out, err = run("--out", str(path), "--images", "2", "--sha256")
        self.assertEqual(code, 0)
        self.assertEqual(out, hashlib.sha256(path.read_bytes()).hexdigest() + "\n")
        self.assertIn("wrote", err)
        self.assertEqual([p.name for p in path.parent.iterdir()], ["x.tar.gz"])  # no temporary file left

    def test_layout_and_fixed_metadata(self):
        stems = [f"{i:06d}" for i in range(IMAGES)]
        expected = {f"VOC2028/Annotations/{s}.xml" for s in stems} | {f"VOC2028/JPEGImages/{s}.jpg" for s in stems}
        self.assertEqual(set(self.files), expected | {"VOC2028/ImageSets/Main/trainval.txt"})
        self.assertEqual(self.files["VOC2028/ImageSets/Main/trainval.txt"].decode().split(), stems)
        with tarfile.open(self.archive) as tar:
            infos = tar.getmembers()
        self.assertEqual([m.name for m in infos], sorted(m.name for m in infos))
        self.assertEqual({(m.uid, m.gid, m.mtime) for m in infos}, {(0, 0, make_helmet_data.MTIME)})
        header = self.archive.read_bytes()[:10]
        self.assertEqual(header[4:8], b"\0\0\0\0")  # gzip mtime 0
        self.assertEqual(gzip.decompress(self.archive.read_bytes())[:7], b"VOC2028")

    def test_annotations_match_their_images_and_boxes_fit(self):
        names = []
        for stem in (f"{i:06d}" for i in range(IMAGES)):
            xml = self.files[f"VOC2028/Annotations/{stem}.xml"]
            root = ET.fromstring(xml)
            self.assertEqual((root.findtext("folder"), root.findtext("filename")), ("VOC2028", f"{stem}.jpg"))
            width, height = (int(root.find("size").findtext(t)) for t in ("width", "height"))
            self.assertEqual(root.find("size").findtext("depth"), "3")
            with Image.open(io.BytesIO(self.files[f"VOC2028/JPEGImages/{stem}.jpg"])) as image:
                self.assertEqual((image.format, image.mode, image.size), ("JPEG", "RGB", (width, height)))
                image.load()
            boxes = objects(xml)
            self.assertTrue(1 <= len(boxes) <= 4, stem)
            for name, (x0, y0, x1, y1) in boxes:
                self.assertIn(name, ("hat", "person"))
                self.assertTrue(0 <= x0 < x1 <= width and 0 <= y0 < y1 <= height, (stem, x0, y0, x1, y1))
            for i, (_, a) in enumerate(boxes):
                for _, b in boxes[i + 1:]:
                    overlap = max(0, min(a[2], b[2]) - max(a[0], b[0])) * max(0, min(a[3], b[3]) - max(a[1], b[1]))
                    self.assertEqual(overlap, 0, f"heads overlap in {stem}")
            names += [name for name, _ in boxes]
        self.assertGreater(names.count("hat"), 0)
        self.assertGreater(names.count("person"), 0)

    def test_a_one_image_set_still_has_both_classes(self):
        path = self.root / "one.tar.gz"
        run("--out", str(path), "--images", "1")
        self.assertEqual({name for name, _ in objects(members(path)["VOC2028/Annotations/000000.xml"])}, {"hat", "person"})

    def test_ingest_extracts_it_and_prepare_reads_every_file(self):
        data = self.root / "VOCdevkit"
        self.assertEqual(ingest_pipeline.extract(self.archive, data), len(self.files))
        with contextlib.redirect_stdout(io.StringIO()):
            report = prepare.prepare(data, ["hat", "person"], val_ratio=0.25, seed=0)
        total = sum(len(objects(d)) for n, d in self.files.items() if n.endswith(".xml"))
        self.assertEqual((report.images, report.objects, report.train + report.val), (IMAGES, total, IMAGES))
        self.assertEqual((report.malformed_files, report.missing_images, report.unknown_class_objects), ([], [], {}))
        labels = sorted((data / "VOC2028" / "labels").glob("*.txt"))
        self.assertEqual(len(labels), IMAGES)
        classes = {line.split()[0] for p in labels for line in p.read_text().splitlines()}
        self.assertEqual(classes, {"0", "1"})

    def test_bad_arguments_are_refused(self):
        for argv in (["--out", "x", "--size", "32x32"], ["--out", "x", "--size", "big"], ["--out", "x", "--images", "0"]):
            with contextlib.redirect_stderr(io.StringIO()), self.assertRaises(SystemExit):
                make_helmet_data.parse_args(argv)


if __name__ == "__main__":
    unittest.main()
