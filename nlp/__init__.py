"""Resonanz nlp."""
