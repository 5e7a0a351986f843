"""Resonanz application: settings, pipeline, CLI, web and digest wiring the four parts together."""

__version__ = "0.1.0"
