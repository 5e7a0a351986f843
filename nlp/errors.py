"""The nlp package's exceptions. Every message says what went wrong and what the user can do."""

from __future__ import annotations


class NlpError(Exception):
    """Base class of every error raised by :mod:`nlp`."""


class ModelFileError(NlpError):
    """A model file is missing, truncated, corrupt or has the wrong checksum."""


class ModelNotAvailableError(NlpError):
    """A model cannot be provided (e.g. its shipped weights are missing)."""


class TrainingDataError(NlpError):
    """Labelled training data is missing or malformed."""


class LabelMappingError(NlpError):
    """A classifier's label names cannot be mapped to negative/neutral/positive (or offensive/not)."""


class ModelLoadError(NlpError):
    """A configured model (Hugging Face id or local directory) cannot be loaded."""


class RuleConfigError(NlpError):
    """A topics or flags TOML file is missing, unreadable or malformed."""
