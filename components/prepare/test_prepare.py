import contextlib
import io
import json
import sys
import tempfile
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parents[1] / "test" / "fixtures" / "voc")]

import prepare  # noqa: E402
from voc_fixture import EXPECTED_LABELS, write_voc  # noqa: E402


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file() and not p.is_symlink()}


class PrepareTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.root = Path(self.tmp.name)
        write_voc(self.root)
        self.voc = self.root / "VOC2028"

    def tearDown(self):
        self.tmp.cleanup()

    def test_labels_are_exact_yolo_lines(self):
        self.assertEqual(prepare.main(["--datapath", str(self.root)]), 0)
        labels = {p.stem: p.read_text() for p in sorted((self.voc / "labels").glob("*.txt"))}
        self.assertEqual(labels, EXPECTED_LABELS)

    def test_report_counts_unknown_classes_and_malformed_files(self):
        report = prepare.prepare(self.root, ["hat", "person"])
        self.assertEqual(report.images, 5)
        self.assertEqual(report.objects, 5)
        self.assertEqual(report.unknown_class_objects, {"dog": 1})
        self.assertEqual(len(report.malformed_files), 1)
        self.assertTrue(report.malformed_files[0].startswith("000004.xml"))
        saved = json.loads((self.voc / "prepare-report.json").read_text())
        self.assertEqual(saved["unknown_class_objects"], {"dog": 1})

    def test_lists_split_all_good_images_and_data_yaml_names_classes(self):
        prepare.prepare(self.root, ["hat", "person"], val_ratio=0.4, seed=3)
        train = (self.voc / "train.txt").read_text().splitlines()
        val = (self.voc / "val.txt").read_text().splitlines()
        self.assertEqual(len(val), 2)
        self.assertEqual(sorted(train + val), [f"./images/{s}.jpg" for s in sorted(EXPECTED_LABELS)])
        self.assertTrue((self.voc / "images" / "000001.jpg").is_file())
        data = (self.voc / "data.yaml").read_text()
        self.assertIn("nc: 2\n", data)
        self.assertIn('names: ["hat", "person"]\n', data)
        self.assertIn("train: train.txt\n", data)

    def test_same_input_gives_byte_identical_output(self):
        prepare.prepare(self.root, ["hat", "person"], seed=7)
        first = snapshot(self.voc)
        prepare.prepare(self.root, ["hat", "person"], seed=7)
        self.assertEqual(snapshot(self.voc), first)

    def test_annotation_without_image_is_skipped_and_recorded(self):
        (self.voc / "JPEGImages" / "000005.jpg").unlink()
        report = prepare.prepare(self.root, ["hat", "person"])
        self.assertEqual(report.missing_images, ["000005.jpg"])
        self.assertFalse((self.voc / "labels" / "000005.txt").exists())

    def test_missing_data_folder_is_one_clear_error(self):
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            code = prepare.main(["--datapath", str(self.root / "nope")])
        self.assertEqual(code, 1)
        self.assertEqual(err.getvalue().count("\n"), 1)
        self.assertIn("data folder not found", err.getvalue())


if __name__ == "__main__":
    unittest.main()
