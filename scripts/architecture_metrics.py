"""Architecture numbers for ARCHITECTURE.md: modules per folder, import circles, rule definitions.

    .venv/bin/python scripts/architecture_metrics.py

* modules per folder: ``.py`` files per package directory of the five product packages;
* import circles: strongly connected groups of modules in the import graph (grimp, the graph
  import-linter checks; imports inside functions count too);
* rule definitions: how many places *define* each named business rule (a ``def``/``class``/assignment
  at the start of a line); every rule should be defined exactly once.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

import grimp
import networkx as nx

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("resonanz", "collectors", "nlp", "linker", "store")
RULES = (
    "decide_link",
    "is_linkable",
    "linkable_clause",
    "link_subquery",
    "LINKED_STATUSES",
    "ACTIVE_STATUSES",
    "ACTIVE_REVIEW",
    "STATUSES",
    "LINK_STATUSES",
    "customer_weight",
    "POST",
    "LINK",
    "weight_config",
    "value_config",
)


def modules_per_folder() -> dict[str, int]:
    counts: Counter[str] = Counter()
    for pkg in PACKAGES:
        for path in (ROOT / pkg).rglob("*.py"):
            if "demo_data" in path.parts:
                continue
            counts[str(path.parent.relative_to(ROOT))] += 1
    return dict(sorted(counts.items()))


def import_circles() -> list[list[str]]:
    sys.path.insert(0, str(ROOT))
    graph = grimp.build_graph(*PACKAGES)
    g = nx.DiGraph()
    for mod in graph.modules:
        for imported in graph.find_modules_directly_imported_by(mod):
            g.add_edge(mod, imported)
    return [sorted(c) for c in nx.strongly_connected_components(g) if len(c) > 1]


def rule_definitions() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {rule: [] for rule in RULES}
    for pkg in PACKAGES:
        for path in (ROOT / pkg).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            for rule in RULES:
                pattern = rf"^(?:def {rule}\b|class {rule}\b|(?:\w+, )*{rule}\b(?:, \w+)*\s*(?::[^=]*)?=)"
                for m in re.finditer(pattern, text, flags=re.M):
                    line = text[: m.start()].count("\n") + 1
                    found[rule].append(f"{path.relative_to(ROOT)}:{line}")
    return found


def main() -> None:
    folders = modules_per_folder()
    print("modules per folder:")
    for folder, n in folders.items():
        print(f"  {folder:32} {n}")
    circles = import_circles()
    print(f"import circles: {len(circles)}")
    for c in circles:
        print("  " + " <-> ".join(c))
    defs = rule_definitions()
    dup = {k: v for k, v in defs.items() if len(v) > 1}
    print(f"rules defined more than once: {len(dup)}")
    for rule, places in defs.items():
        print(f"  {rule:24} {len(places)}  {', '.join(places)}")


if __name__ == "__main__":
    main()
