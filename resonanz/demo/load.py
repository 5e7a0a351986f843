"""``resonanz demo``: a fresh database, the bundled German demo data, and every pipeline stage.

Each stage returns something printable; the command prints them in order.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import Engine

from resonanz.importing import ImportReport, import_customers, import_orders, import_posts
from resonanz.pipeline.brand import KINDS, ensure_markers

log = logging.getLogger(__name__)

DEMO_DATA = Path(__file__).parent / "data"


@dataclass
class DemoLoad:
    reports: list[ImportReport] = field(default_factory=list)


def load_demo_data(engine: Engine, data_dir: Path = DEMO_DATA) -> DemoLoad:
    """Import the demo customers, orders and posts (idempotent)."""
    result = DemoLoad()
    result.reports.append(import_customers(engine, data_dir / "customers.csv"))
    result.reports.append(import_orders(engine, data_dir / "orders.csv"))
    result.reports.append(import_posts(engine, data_dir / "posts.jsonl"))
    if (data_dir / "competitors.json").is_file():
        from resonanz.demo.competitors import load_competitors

        result.reports += load_competitors(engine, data_dir)
    brand = json.loads((data_dir / "brand.json").read_text(encoding="utf-8"))
    ensure_markers(engine, [(kind, value) for kind in KINDS for value in brand.get(kind, [])], actor="demo")
    for report in result.reports:
        if report.errors:
            log.warning("demo data: %s", report.summary())
    return result
