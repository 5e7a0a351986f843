"""Issue 14 for the owned channels: many runs against a changing platform with injected faults end with the store
equal to the platform -- Google Business Profile, Google Play, Trustpilot, Facebook and Instagram.

The worlds are in ``tests/collectors/property_world_owned.py`` (its docstring says per platform what "equal" means:
which edits the collector must follow, which deletions it can see and must mark, which it cannot); the runs, the
faults and the check are those of ``tests/collectors/property_world.py``. Hypothesis draws the scenarios as in
``test_collect_property.py``: 5-10 fault runs at 0-30 % faults per request (429, 500, 503, read timeouts, truncated
JSON), a listing refused with the platform's 403 for 1-3 runs in a row, up to two runs killed (``kill -9``) after
a few stored pages, then up to six quiet runs.

Numbers: ``bench/bench_collect_property.py --seeds 100 --platform <p>`` (``bench/results/collect_property_owned.json``).

The checks bite (each broken on purpose in the collector, seen failing, restored; counts over the bench's seeds 0-9):

* ``MetaCollector.gone`` without its empty snapshot (a post or medium found deleted marks only itself, as before the
  fix): the comments of deleted posts stay unmarked -- Facebook fails 4 and Instagram 6 of 10 seeds, and this test;
* ``MetaCollector.end_pass`` starting every refresh at the first page again (as before the fix): the comments of a
  giveaway post beyond ten pages are never stored -- Facebook 3, Instagram 2 of 10, and this test;
* Trustpilot's 404 on ``/v1/reviews/{id}`` not turned into a tombstone: removals unmarked in 10 of 10, and this test;
* Google Business Profile sorting reviews by ``createTime`` (``listed_at`` ignored): edits and reviews lost in 7 of
  10, and this test; Google Play reading one page only: 9 of 10, and this test;
* Trustpilot's step back on a resumed page link switched off: 1 of 30 seeds (the world needs a sweep resumed after
  a removal above its page; ``max_pages`` of 2-3 in some worlds makes that happen); the focused test in
  ``test_owned_property_regressions.py`` fails every time.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

import tests.collectors.property_world_owned  # noqa: F401  (registers the owned worlds in WORLDS)
from tests.collectors.property_world import WORLDS, Scenario, run_world
from tests.collectors.test_collect_property import explain, scenarios


@pytest.mark.parametrize("platform", ["google_business", "google_play", "trustpilot", "facebook", "instagram"])
@settings(max_examples=6, deadline=None, database=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=scenarios())
def test_after_enough_runs_the_store_equals_the_live_platform(platform: str, scenario: Scenario) -> None:
    assert platform in WORLDS
    with tempfile.TemporaryDirectory() as tmp:
        outcome = run_world(platform, scenario, Path(tmp))
    assert outcome.ok, explain(outcome)
    assert outcome.runs > scenario.fault_runs and outcome.items > 0
