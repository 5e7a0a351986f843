"""Resonanz collectors."""
