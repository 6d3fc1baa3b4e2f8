"""Tests of reading the prepared data set (data.yaml, image lists, YOLO labels) without torch."""
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from prepared_data import (  # noqa: E402
    DataError,
    label_path_for,
    load_split,
    parse_label_text,
    parse_simple_yaml,
    read_data_yaml,
    read_image_list,
)

# What components/prepare/prepare.py writes.
PREPARED_YAML = '# YOLOv5 data set written by prepare.py\npath: "{root}"\ntrain: train.txt\nval: val.txt\nnc: 2\nnames: ["hat", "person"]\n'


class PreparedLayoutTest(unittest.TestCase):
    def setUp(self):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.voc = Path(tmp.name) / "VOC2028"
        (self.voc / "JPEGImages").mkdir(parents=True)
        (self.voc / "labels").mkdir()
        (self.voc / "images").symlink_to("JPEGImages")
        for stem in ("a", "b", "c"):
            (self.voc / "JPEGImages" / f"{stem}.jpg").write_bytes(b"jpeg")
        (self.voc / "labels" / "a.txt").write_text("0 0.5 0.5 0.2 0.4\n1 0.1 0.2 0.05 0.05\n")
        (self.voc / "labels" / "b.txt").write_text("")
        (self.voc / "train.txt").write_text("./images/a.jpg\n./images/b.jpg\n")
        (self.voc / "val.txt").write_text("./images/c.jpg\n")
        self.data = self.voc / "data.yaml"
        self.data.write_text(PREPARED_YAML.format(root=self.voc))

    def test_reads_what_prepare_writes(self):
        spec = read_data_yaml(self.data)
        self.assertEqual(spec.classes, ["hat", "person"])
        self.assertEqual((spec.root, spec.train, spec.val), (self.voc, self.voc / "train.txt", self.voc / "val.txt"))
        train = load_split(spec, "train")
        self.assertEqual([item.image for item in train], [self.voc / "images/a.jpg", self.voc / "images/b.jpg"])
        self.assertEqual(train[0].objects, ((0, 0.5, 0.5, 0.2, 0.4), (1, 0.1, 0.2, 0.05, 0.05)))
        self.assertEqual(train[1].objects, ())  # an empty label file: no objects
        (val,) = load_split(spec, "val")
        self.assertEqual(val.objects, ())  # no label file at all: no objects, as in YOLOv5

    def test_labels_are_found_beside_the_images_folder(self):
        self.assertEqual(label_path_for(Path("/d/VOC/images/x.jpg")), Path("/d/VOC/labels/x.txt"))
        self.assertEqual(label_path_for(Path("/images/d/images/x.png")), Path("/images/d/labels/x.txt"))

    def test_relative_path_and_folder_splits(self):
        self.data.write_text("path: .\ntrain: images\nval: val.txt\nnames: [hat, person]\n")
        spec = read_data_yaml(self.data)
        self.assertEqual(spec.root, self.voc / ".")
        self.assertEqual([p.name for p in read_image_list(spec.train)], ["a.jpg", "b.jpg", "c.jpg"])

    def test_missing_files_are_data_errors_naming_them(self):
        with self.assertRaisesRegex(DataError, "run the prepare step first"):
            read_data_yaml(self.voc / "none.yaml")
        (self.voc / "JPEGImages" / "c.jpg").unlink()
        with self.assertRaisesRegex(DataError, "c.jpg"):
            load_split(read_data_yaml(self.data), "val")
        (self.voc / "val.txt").unlink()
        with self.assertRaisesRegex(DataError, "val.txt"):
            load_split(read_data_yaml(self.data), "val")

    def test_inconsistent_class_count(self):
        self.data.write_text("train: t.txt\nval: v.txt\nnc: 3\nnames: [hat, person]\n")
        with self.assertRaisesRegex(DataError, "nc: 3"):
            read_data_yaml(self.data)


PROJECT = Path(__file__).resolve().parents[2]
PREPARE = PROJECT / "components" / "prepare" / "prepare.py"
VOC_FIXTURE = PROJECT / "test" / "fixtures" / "voc" / "voc_fixture.py"


@unittest.skipUnless(PREPARE.is_file() and VOC_FIXTURE.is_file(), "needs the project's prepare step and VOC fixture")
class PrepareContractTest(unittest.TestCase):
    """What the prepare step really writes is what this step reads."""

    def test_reads_the_output_of_prepare_py(self):
        sys.path[:0] = [str(PREPARE.parent), str(VOC_FIXTURE.parent)]
        try:
            import prepare
            from voc_fixture import EXPECTED_LABELS, write_voc
        finally:
            del sys.path[:2]
        with tempfile.TemporaryDirectory() as tmp:
            write_voc(Path(tmp))
            prepare.prepare(Path(tmp), ["hat", "person"], val_ratio=0.4, seed=3)
            spec = read_data_yaml(Path(tmp) / "VOC2028" / "data.yaml")
            self.assertEqual(spec.classes, ["hat", "person"])
            items = load_split(spec, "train") + load_split(spec, "val")
        self.assertEqual(sorted(item.image.stem for item in items), sorted(EXPECTED_LABELS))
        for item in items:
            expected = parse_label_text(EXPECTED_LABELS[item.image.stem], 2, item.image.stem)
            self.assertEqual(item.objects, expected, item.image.stem)


class YamlSubsetTest(unittest.TestCase):
    def test_scalars_and_flow_lists(self):
        doc = parse_simple_yaml('# c\npath: "/a b"\ntrain: train.txt  # list\nnc: 2\nnames: [\'hat\', person]\n')
        self.assertEqual(doc, {"path": "/a b", "train": "train.txt", "nc": 2, "names": ["hat", "person"]})

    def test_block_list_and_index_map(self):
        self.assertEqual(parse_simple_yaml("names:\n  - hat\n  - person\n")["names"], ["hat", "person"])
        doc = parse_simple_yaml("train: t\nval: v\nnames:\n  1: person\n  0: hat\n")
        self.assertEqual(doc["names"], {"1": "person", "0": "hat"})

    def test_index_map_names_in_order(self):
        with tempfile.TemporaryDirectory() as tmp:
            data = Path(tmp) / "data.yaml"
            data.write_text("train: t.txt\nval: v.txt\nnames:\n  1: person\n  0: hat\n")
            self.assertEqual(read_data_yaml(data).classes, ["hat", "person"])


class LabelTextTest(unittest.TestCase):
    def test_lines_and_blank_lines(self):
        self.assertEqual(parse_label_text("1 0.5 0.5 1 1\n\n", 2, "x.txt"), ((1, 0.5, 0.5, 1.0, 1.0),))

    def test_malformed_lines_name_file_and_line(self):
        for text, message in (
            ("0 0.5 0.5 0.1\n", "x.txt:1: expected"),
            ("0 0.5 0.5 0.1 0.1\n2 0.5 0.5 0.1 0.1\n", "x.txt:2: class 2 outside 0..1"),
            ("0 0.5 0.5 0.1 a\n", "not a number"),
            ("0 50 50 10 10\n", "normalised"),
        ):
            with self.subTest(text=text), self.assertRaisesRegex(DataError, message):
                parse_label_text(text, 2, "x.txt")


if __name__ == "__main__":
    unittest.main()
