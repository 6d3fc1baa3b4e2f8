"""Tests of the YOLO <-> corner box conversions (plain Python)."""
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from boxes import box_area, clamp_box, hflip_box, is_drawable, scale_box, xyxy_to_yolo, yolo_to_xyxy  # noqa: E402


class BoxesTest(unittest.TestCase):
    def assertBoxAlmostEqual(self, got, expected):
        self.assertEqual(len(got), 4)
        for g, e in zip(got, expected):
            self.assertAlmostEqual(g, e, places=9)

    def test_yolo_centre_size_to_pixel_corners(self):
        # A 100x50 box centred at (200, 150) in a 400x300 image.
        self.assertBoxAlmostEqual(yolo_to_xyxy(0.5, 0.5, 0.25, 1 / 6, 400, 300), (150, 125, 250, 175))
        self.assertBoxAlmostEqual(yolo_to_xyxy(0.1, 0.2, 0.2, 0.4, 160, 160), (0, 0, 32, 64))

    def test_boxes_past_the_edge_are_clamped(self):
        self.assertBoxAlmostEqual(yolo_to_xyxy(0.95, 0.05, 0.2, 0.2, 100, 100), (85, 0, 100, 15))
        self.assertBoxAlmostEqual(clamp_box((-5, -1, 120, 40), 100, 30), (0, 0, 100, 30))

    def test_corners_back_to_yolo(self):
        self.assertBoxAlmostEqual(xyxy_to_yolo((150, 125, 250, 175), 400, 300), (0.5, 0.5, 0.25, 1 / 6))
        original = (0.3, 0.7, 0.12, 0.08)
        self.assertBoxAlmostEqual(xyxy_to_yolo(yolo_to_xyxy(*original, 640, 480), 640, 480), original)

    def test_scale_flip_and_area(self):
        self.assertBoxAlmostEqual(scale_box((10, 20, 30, 40), 0.5, 2), (5, 40, 15, 80))
        self.assertBoxAlmostEqual(hflip_box((10, 20, 30, 40), 100), (70, 20, 90, 40))
        self.assertEqual(box_area((10, 20, 30, 40)), 400)
        self.assertEqual(box_area((30, 20, 10, 40)), 0)

    def test_boxes_under_a_pixel_are_not_drawable(self):
        self.assertTrue(is_drawable((0, 0, 1, 1)))
        self.assertFalse(is_drawable((0, 0, 0.5, 10)))
        self.assertFalse(is_drawable((5, 5, 5, 5)))


if __name__ == "__main__":
    unittest.main()
