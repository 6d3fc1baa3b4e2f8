"""Tests of IoU, VOC average precision and mAP on hand-made boxes with answers worked out by hand."""
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from detection_metrics import (  # noqa: E402
    Detection,
    GroundTruth,
    average_precision,
    class_average_precision,
    evaluate,
    iou,
    match_detections,
)

A = (0.0, 0.0, 10.0, 10.0)
B = (20.0, 20.0, 30.0, 30.0)
C = (50.0, 0.0, 60.0, 10.0)


class IouTest(unittest.TestCase):
    def test_known_overlaps(self):
        self.assertEqual(iou(A, A), 1.0)
        self.assertEqual(iou(A, B), 0.0)
        # 5x10 overlap of two 10x10 boxes: 50 / (100 + 100 - 50)
        self.assertAlmostEqual(iou(A, (5, 0, 15, 10)), 1 / 3)
        # One box inside the other: 25 / 100
        self.assertAlmostEqual(iou(A, (0, 0, 5, 5)), 0.25)

    def test_touching_and_empty_boxes(self):
        self.assertEqual(iou(A, (10, 0, 20, 10)), 0.0)
        self.assertEqual(iou((0, 0, 0, 0), (0, 0, 0, 0)), 0.0)


class AveragePrecisionTest(unittest.TestCase):
    def test_perfect_detections_score_one(self):
        gts = [GroundTruth("a", 0, A), GroundTruth("a", 0, B), GroundTruth("b", 0, C)]
        dets = [Detection(g.image_id, 0, 0.9 - i / 10, g.box) for i, g in enumerate(gts)]
        self.assertEqual(class_average_precision(dets, gts), 1.0)

    def test_a_false_positive_ranked_first(self):
        # 2 objects; ranked: FP, TP, TP -> precision 0, 1/2, 2/3 at recall 0, 1/2, 1.
        # The interpolated precision is 2/3 over the whole recall range: AP = 2/3.
        gts = [GroundTruth("a", 0, A), GroundTruth("a", 0, B)]
        dets = [Detection("a", 0, 0.9, C), Detection("a", 0, 0.8, A), Detection("a", 0, 0.7, B)]
        self.assertAlmostEqual(class_average_precision(dets, gts), 2 / 3)

    def test_a_false_positive_ranked_second(self):
        # TP, FP, TP: precision 1, 1/2, 2/3 at recall 1/2, 1/2, 1 -> AP = 1/2 * 1 + 1/2 * 2/3 = 5/6.
        gts = [GroundTruth("a", 0, A), GroundTruth("a", 0, B)]
        dets = [Detection("a", 0, 0.9, A), Detection("a", 0, 0.8, C), Detection("a", 0, 0.7, B)]
        self.assertAlmostEqual(class_average_precision(dets, gts), 5 / 6)

    def test_a_missed_object_caps_recall(self):
        # One of two objects found, first: precision 1 up to recall 1/2, nothing after -> AP = 1/2.
        gts = [GroundTruth("a", 0, A), GroundTruth("b", 0, B)]
        self.assertAlmostEqual(class_average_precision([Detection("a", 0, 0.5, A)], gts), 0.5)
        self.assertEqual(class_average_precision([], gts), 0.0)

    def test_a_duplicate_detection_is_a_false_positive(self):
        gts = [GroundTruth("a", 0, A)]
        dets = [Detection("a", 0, 0.9, A), Detection("a", 0, 0.8, (0, 0, 10, 9))]
        self.assertEqual(match_detections(dets, gts, 0.5), [True, False])
        self.assertEqual(class_average_precision(dets, gts), 1.0)

    def test_iou_threshold_and_images_are_respected(self):
        gts = [GroundTruth("a", 0, A)]
        # IoU exactly 1/2 counts (>=), just below does not; a box in another image never matches.
        self.assertEqual(match_detections([Detection("a", 0, 1, (0, 0, 10, 20))], gts, 0.5), [True])
        self.assertEqual(match_detections([Detection("a", 0, 1, (0, 0, 10, 20.5))], gts, 0.5), [False])
        self.assertEqual(match_detections([Detection("b", 0, 1, A)], gts, 0.5), [False])

    def test_interpolation_takes_the_best_precision_to_the_right(self):
        self.assertAlmostEqual(average_precision([0.5, 0.5, 1.0], [1.0, 0.5, 2 / 3]), 5 / 6)
        self.assertEqual(average_precision([], []), 0.0)


class MeanAveragePrecisionTest(unittest.TestCase):
    def test_mean_over_classes_with_ground_truth_only(self):
        gts = [GroundTruth("a", 0, A), GroundTruth("a", 0, B), GroundTruth("a", 1, C)]
        dets = [
            Detection("a", 0, 0.9, C),  # class 0: FP, TP, TP -> 2/3
            Detection("a", 0, 0.8, A),
            Detection("a", 0, 0.7, B),
            Detection("a", 1, 0.6, C),  # class 1: perfect -> 1
            Detection("a", 2, 0.9, A),  # class 2 has no ground truth: left out
        ]
        result = evaluate(dets, gts)
        self.assertEqual(set(result.ap_per_class), {0, 1})
        self.assertAlmostEqual(result.ap_per_class[0], 2 / 3)
        self.assertEqual(result.ap_per_class[1], 1.0)
        self.assertAlmostEqual(result.map, (2 / 3 + 1) / 2)
        self.assertEqual(result.ground_truth_per_class, {0: 2, 1: 1})

    def test_no_ground_truth_gives_zero(self):
        result = evaluate([Detection("a", 0, 0.9, A)], [])
        self.assertEqual((result.map, result.ap_per_class), (0.0, {}))

    def test_a_class_never_detected_scores_zero(self):
        result = evaluate([Detection("a", 0, 0.9, A)], [GroundTruth("a", 0, A), GroundTruth("a", 1, B)])
        self.assertEqual(result.ap_per_class, {0: 1.0, 1: 0.0})
        self.assertEqual(result.map, 0.5)


if __name__ == "__main__":
    unittest.main()
