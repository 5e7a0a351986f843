"""The Lindenhof Kaffee demo dataset (see ``README.md`` in this folder).

A package only so that the files ship with Resonanz; ``DATA_DIR`` is where they are.
"""

from __future__ import annotations

from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent
CUSTOMERS = DATA_DIR / "customers.csv"
ORDERS = DATA_DIR / "orders.csv"
POSTS = DATA_DIR / "posts.jsonl"
POSTS_SAMPLE_CSV = DATA_DIR / "posts_sample.csv"
TRUTH = DATA_DIR / "truth.json"
COMPETITORS = DATA_DIR / "competitors.json"
"""Two competitor sources (tagged with their brand) and their posts, ``competitors_*.jsonl``."""
