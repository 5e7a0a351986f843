"""Issue 14: many runs against a changing YouTube, RSS/Atom feed or App Store end with the store equal to it.

Per platform hypothesis draws a scenario as in ``test_collect_property.py`` and plays it on a world of
``tests/collectors/property_world_feeds.py``: YouTube comment threads of one to three videos and/or a channel
(``nextPageToken`` pages, at most 5 replies inline, the rest from ``comments?parentId=``), an RSS or Atom feed
that shows only its newest 5-15 entries (``ETag``, ``304``), the App Store's customer-reviews JSON feed (10
offset pages, the app's own entry on page 1, reviews without ``updated``). Between runs items arrive and are
deleted; every request may fail (429, 500, 503, a read timeout, a page cut in half -- for feeds with its own
``ETag``); the listing answers 403 for several runs in a row (in the platform's shape); some runs are killed
(``kill -9``) after a few stored pages. After the fault runs, quiet runs follow; the store must then equal the
platform: every item that exists (and was ever reachable in a listing) stored once with its text and not marked
deleted, nothing else, nothing twice; on YouTube every stored comment deleted on the platform marked deleted.
RSS feeds and the App Store feed show only the newest entries, so a deletion cannot be seen there: for them
"deletions marked" is "nothing falsely marked deleted" (see the worlds' module docstring).

``bench/bench_collect_property.py --seeds 100 --platform youtube --platform rss --platform appstore`` (the same
scenarios as for the other platforms; ``bench/results/collect_property_feeds.json``):

=========  =====  =====  =======================  ==================================================  ==============
platform   runs   items  deleted                  faults injected                                     result
=========  =====  =====  =======================  ==================================================  ==============
YouTube    1112   5207   981                      3163: 563×429, 510×500, 540×503, 555 timeouts,      100/100 equal,
                                                  570 truncated, 233 runs refused (403), 192 kill -9  after 1 (99) or
                                                                                                      2 (1) quiet runs
RSS/Atom   1111   5179   992 (680 entries left    493: 33×429, 36×500, 38×503, 40 timeouts, 35 cut    100/100 equal,
                         the feed unseen)         off, 233 runs refused (403), 78 kill -9             after 1 quiet run
App Store  1111   5221   1030 (19 never within    894: 108×429, 116×500, 108×503, 118 timeouts, 104   100/100 equal,
                         the 10 pages)            truncated, 233 runs refused (403), 107 kill -9      after 1 quiet run
=========  =====  =====  =======================  ==================================================  ==============

The checks bite (bench seeds 0-19 with one part switched off, then restored; the hypothesis test below fails for
each of them too):

* YouTube without the thread snapshot: deleted replies stay unmarked in 20 of 20 scenarios; without reading
  ``comments?parentId=`` (only the 5 inline replies), replies are missing in 6 of 20; trusting the inline replies
  as complete without looking up vanished ones (``still_present``), live replies are marked deleted in 20 of 20.
  Reading every thread from its first reply page again in every refresh (the old behaviour) left a deleted reply
  unmarked in bench seed 36 (a thread of more than ``MAX_REPLY_PAGES`` pages).
* RSS taking a feed that was cut off (the old behaviour): an entry stored under a made-up id or entries missing
  for good (the kept ``ETag`` answers 304) in 3 of 20.
* App Store reusing a page number stored by an interrupted run (the old behaviour): reviews missing in 2 of 20.

The three fixes have focused tests in ``test_{youtube,rss,appstore}_property_regressions.py``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from tests.collectors import property_world_feeds  # noqa: F401 (registers the worlds below in WORLDS)
from tests.collectors.property_world import Scenario, run_world
from tests.collectors.test_collect_property import explain, scenarios


@pytest.mark.parametrize("platform", ["youtube", "rss", "appstore"])
@settings(max_examples=8, deadline=None, database=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=scenarios())
def test_after_enough_runs_the_store_equals_the_live_platform(platform: str, scenario: Scenario) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        outcome = run_world(platform, scenario, Path(tmp))
    assert outcome.ok, explain(outcome)
    assert outcome.runs > scenario.fault_runs and outcome.items > 0
