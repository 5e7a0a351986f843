"""Exceptions raised by the linker. Every message says what the user can do about it."""

from __future__ import annotations


class LinkerError(Exception):
    """Base class for all linker errors."""


class ValueConfigError(LinkerError):
    """A customer-value setting is out of range or unknown (ABC shares, weight mode, basis ...)."""


class LinkConfigError(LinkerError):
    """A linking setting is out of range (thresholds, prior share ...)."""


class ClvModelError(LinkerError):
    """The probabilistic CLV model could not be fitted; callers fall back to the simple model."""


class ProbabilisticLinkError(LinkerError):
    """Splink failed while scoring candidate pairs."""
