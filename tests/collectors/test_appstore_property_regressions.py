"""App Store: what the multi-run property test (``test_collect_property_feeds.py``) found (issue 14).

Apple's review pages are offsets into the newest reviews. A run that stopped mid-sweep (killed, or a page that
failed) stored the next page number, and the next run went on from there: when reviews above it had been deleted
meanwhile, the reviews that moved up past that page boundary were never read (they are older than the stop of
every later sweep).
"""

from __future__ import annotations

from datetime import timedelta

import httpx

from collectors.appstore import AppStoreCollector
from tests.collectors.helpers import NOW, json_response, options, polite, posts_of, run
from tests.collectors.test_appstore import APP_ENTRY, SPEC, feed, review

PAGE = 3


def test_an_interrupted_sweep_reads_again_from_page_1_after_reviews_were_deleted() -> None:
    live = [review(str(100 + i), i, 1 + i % 5, f"Titel {i}", f"Text {i}") for i in range(12)]  # one a day
    pages: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        number = int(request.url.path.split("page=")[1].split("/")[0])
        pages.append(number)
        chunk = live[(number - 1) * PAGE : number * PAGE]
        return json_response(feed(([APP_ENTRY] if number == 1 else []) + chunk))

    stored = []
    for batch in AppStoreCollector(polite(handler)).collect(SPEC, {}, options(backfill_days=30)):
        stored.append(batch)
        if len(stored) == 2:  # the process dies after its second stored page (kill -9)
            break
    cursor = stored[-1].cursor
    del live[0:2]  # two of the newest reviews are deleted: every later review moves up two places
    pages.clear()
    batches, _ = run(AppStoreCollector(polite(handler)), SPEC, cursor, options(now=NOW + timedelta(minutes=15)))
    collected = set(posts_of(stored)) | set(posts_of(batches))
    assert {f"apple:{r['id']['label']}" for r in live} <= collected
    assert pages[0] == 1  # not page 3, which now starts two reviews further down
