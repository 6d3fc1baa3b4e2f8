"""The train step's expected failures, each with the exit code the pipeline sees.

Kept free of torch so that the command line can report them on an image without it.
"""
from __future__ import annotations


class StepError(Exception):
    """A failure the user can act on; printed as one `train: error:` line."""

    exit_code = 1


class FrameworkMissing(StepError):
    """The chosen training framework is not installed in this image."""

    exit_code = 3


class BadArguments(StepError):
    """Arguments argparse accepts but this framework or machine cannot train with."""

    exit_code = 2


class DeviceUnavailable(BadArguments):
    """--device names CUDA where there is none."""


class DataError(StepError):
    """The prepared data is missing or malformed; the message says which file and how to fix it."""


class TrainingDiverged(StepError):
    """The loss became NaN or infinite."""


class CheckpointMismatch(StepError):
    """A --weights file that does not fit the model being trained."""


class OnnxMismatch(StepError):
    """onnxruntime and PyTorch disagree about the exported network."""
