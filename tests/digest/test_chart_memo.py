"""Charts are drawn once per input and language in a process (the dashboard page redraws three per view)."""

from __future__ import annotations

import pytest

from resonanz.answers.pareto import ParetoResult, ParetoRow
from resonanz.core import i18n
from resonanz.digest import charts


def test_the_same_input_and_language_draw_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[list[str], str]] = []

    @charts.remembered
    def draw(labels: list[str], *, title: str) -> str:
        calls.append((labels, title))
        return f"{title}: {','.join(labels)} ({i18n.current_language()})"

    with i18n.language("de"):
        assert draw(["W1", "W2"], title="Stimmung") == "Stimmung: W1,W2 (de)"
        assert draw(["W1", "W2"], title="Stimmung") == "Stimmung: W1,W2 (de)"
        assert len(calls) == 1
        draw(["W1", "W3"], title="Stimmung")  # other data
        draw(["W1", "W2"], title="Themen")  # other title
        assert len(calls) == 3
    with i18n.language("en"):
        assert draw(["W1", "W2"], title="Stimmung") == "Stimmung: W1,W2 (en)"  # other language
    assert len(calls) == 4

    monkeypatch.setattr(charts, "CHARTS_KEPT", 2)  # the oldest are dropped
    with i18n.language("de"):
        draw(["a"], title="x")
        draw(["b"], title="x")
        draw(["W1", "W2"], title="Stimmung")  # dropped by now: drawn again
    assert len(calls) == 7


def test_a_pareto_chart_is_kept_and_a_changed_one_drawn_again() -> None:
    row = ParetoRow(segment="A", customers=2, revenue=800.0, posts=3, weighted_posts=9.0, authors=2,
                    customer_share=0.2, buyers=2, buyer_share=0.2, revenue_share=0.8, voice_share=0.3)  # fmt: skip
    result = ParetoResult(rows=[row], total_posts=10, total_revenue=1000.0, total_customers=10, total_buyers=10)
    first = charts.pareto_chart(result)
    assert first.startswith(b"\x89PNG")
    assert charts.pareto_chart(result) is first
    changed = ParetoResult(rows=[row], total_posts=11, total_revenue=1000.0, total_customers=10, total_buyers=10)
    assert charts.pareto_chart(changed) is not first


PRELOAD = """
import sys
from resonanz.core.settings import Settings
from resonanz.web.app import create_app
from store.db import open_engine

engine = open_engine("sqlite://")
plain = create_app(Settings(database_url="sqlite://"), engine=engine)
print("plain", "matplotlib" in sys.modules, len(plain.state.templates.env.cache), plain.middleware_stack is not None)
served = create_app(Settings(database_url="sqlite://"), engine=engine, preload=True)
for thread in __import__("threading").enumerate():
    if thread.name.endswith("-preload"):  # those still running (the templates may be compiled already)
        thread.join(60)
modules = ("matplotlib.figure" in sys.modules, "matplotlib.backends.backend_agg" in sys.modules)
compiled = "ask.html" in [t.name for t in served.state.templates.env.cache.values()]
print("preloaded", *modules, compiled, served.middleware_stack is not None)  # the routes: a request went through
"""


def test_the_served_app_preloads_matplotlib_and_templates_and_a_plain_app_does_not() -> None:
    """``resonanz serve`` imports matplotlib (0.75-0.9 s that the first chart page paid) and compiles the templates
    in the background, and sends the app one warm-up request before it serves (``warm_routes``: the routes and the
    middleware stack are built on the first request); the app itself, the CLI and the tests start without. In a
    fresh interpreter, where nothing imported matplotlib yet."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", PRELOAD], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split("\n")[:2] == ["plain False 0 False", "preloaded True True True True"]
