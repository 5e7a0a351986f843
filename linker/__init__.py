"""Resonanz linker."""
