"""YouTube: comment threads and replies, the key in a header, daily quota in the cursor."""

from __future__ import annotations

from datetime import UTC, timedelta

import httpx
import pytest

from collectors import ConfigurationError, QuotaExhaustedError, SourceSpec
from collectors.youtube import YouTubeCollector, video_ids
from tests.collectors.helpers import NOW, creds, json_response, options, polite, posts_of, run

VIDEO = "dQw4w9WgXcQ"
SPEC = SourceSpec("yt", "youtube", query=f"https://www.youtube.com/watch?v={VIDEO}")
KEY = creds(youtube_api_key="AIza-test-key", youtube_daily_quota=10000)


def ts(minutes_ago: float) -> str:
    return (NOW - timedelta(minutes=minutes_ago)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def yt_comment(cid: str, minutes_ago: float, text: str, *, parent: str | None = None, edited_ago: float | None = None,
               author: str = "@anna") -> dict:  # fmt: skip
    snippet = {"channelId": "UCbrand", "videoId": VIDEO, "textDisplay": text, "textOriginal": text,
               "authorDisplayName": author, "authorProfileImageUrl": "https://yt3.example/a.jpg",
               "authorChannelUrl": f"http://www.youtube.com/{author}", "authorChannelId": {"value": f"UC{author[1:]}"},
               "canRate": True, "viewerRating": "none", "likeCount": 2, "publishedAt": ts(minutes_ago),
               "updatedAt": ts(edited_ago if edited_ago is not None else minutes_ago)}  # fmt: skip
    if parent:
        snippet["parentId"] = parent
    return {"kind": "youtube#comment", "etag": "e", "id": cid, "snippet": snippet}


def yt_thread(tid: str, minutes_ago: float, text: str, *, total: int = 0, replies: list | None = None) -> dict:
    item = {"kind": "youtube#commentThread", "etag": "e", "id": tid,
            "snippet": {"channelId": "UCbrand", "videoId": VIDEO, "topLevelComment": yt_comment(tid, minutes_ago, text),
                        "canReply": True, "totalReplyCount": total, "isPublic": True}}  # fmt: skip
    if replies:
        item["replies"] = {"comments": replies}
    return item


def thread_list(items: list, next_token: str | None = None) -> dict:
    body = {"kind": "youtube#commentThreadListResponse", "etag": "x",
            "pageInfo": {"totalResults": len(items), "resultsPerPage": 100}, "items": items}  # fmt: skip
    if next_token:
        body["nextPageToken"] = next_token
    return body


def error(reason: str, code: int = 403) -> httpx.Response:
    detail = {"message": "m", "domain": "youtube", "reason": reason}
    return json_response({"error": {"code": code, "message": f"failed: {reason}", "errors": [detail]}}, code)


def test_video_ids_from_urls_and_lists() -> None:
    assert video_ids(f"https://youtu.be/{VIDEO}, https://www.youtube.com/shorts/abcdefghijk xyzXYZ12345") == [
        VIDEO, "abcdefghijk", "xyzXYZ12345"]  # fmt: skip


def test_threads_replies_pagination_and_quota_accounting() -> None:
    t1 = yt_thread("UgT1", 30, "Toller Kaffee &amp; guter Service", total=3,
                   replies=[yt_comment("UgT1.r3", 5, "Stimmt", parent="UgT1")])  # fmt: skip
    t2 = yt_thread("UgT2", 60, "Zu teuer", total=1, replies=[yt_comment("UgT2.r1", 50, "Finde ich nicht", parent="UgT2",
                                                                         edited_ago=40)])  # fmt: skip
    all_replies = [yt_comment(f"UgT1.r{i}", 20 - i * 5, f"Antwort {i}", parent="UgT1") for i in (1, 2, 3)]
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        assert request.headers["X-Goog-Api-Key"] == "AIza-test-key"
        params = request.url.params
        if request.url.path == "/youtube/v3/commentThreads" and "videoId" in params:
            assert params["order"] == "time" and params["textFormat"] == "plainText"
            return json_response(thread_list([t1], "PAGE2") if "pageToken" not in params else thread_list([t2]))
        if request.url.path == "/youtube/v3/commentThreads":
            return json_response(thread_list([t1 if params["id"] == "UgT1" else t2]))
        assert request.url.path == "/youtube/v3/comments" and params["parentId"] == "UgT1"
        page = all_replies[:2] if "pageToken" not in params else all_replies[2:]
        return json_response({"kind": "youtube#commentListResponse", "items": page,
                              **({"nextPageToken": "R2"} if "pageToken" not in params else {})})  # fmt: skip

    batches, cursor = run(YouTubeCollector(polite(handler), KEY), SPEC)
    posts = posts_of(batches)
    assert set(posts) == {"UgT1", "UgT2", "UgT1.r1", "UgT1.r2", "UgT1.r3", "UgT2.r1"}
    assert posts["UgT1"].text == "Toller Kaffee & guter Service"
    assert posts["UgT1"].url == f"https://www.youtube.com/watch?v={VIDEO}&lc=UgT1"
    assert posts["UgT1.r2"].parent_external_id == "UgT1" and posts["UgT1.r2"].root_external_id == "UgT1"
    assert posts["UgT1"].root_external_id is None and posts["UgT1"].metrics["replies"] == 3
    assert posts["UgT2.r1"].edited_at is not None and posts["UgT1"].edited_at is None
    assert posts["UgT1"].identity.account_id == "UCanna" and posts["UgT1"].identity.handle == "@anna"
    assert all("AIza" not in str(r.url) for r in seen)
    assert cursor["quota"] == {"day": "2026-11-20", "used": len(seen)}
    # UgT1 had more replies than the listing carried: refreshed through comments.list (two pages)
    assert len([r for r in seen if r.url.path.endswith("/comments")]) == 2


def test_quota_stops_the_run_cleanly_and_resets_on_the_next_pacific_day() -> None:
    pages = {
        None: thread_list([yt_thread(f"UgA{i}", 10 + i, "x") for i in range(3)], "P2"),
        "P2": thread_list([yt_thread("UgB", 40, "y")], "P3"),
        "P3": thread_list([yt_thread("UgC", 50, "z")]),
    }
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return json_response(pages[request.url.params.get("pageToken")])

    spec = SourceSpec("yt", "youtube", query=VIDEO, config={"daily_quota": 2})
    collector = YouTubeCollector(polite(handler), KEY)
    stored = []
    with pytest.raises(QuotaExhaustedError, match="midnight Pacific") as info:
        for batch in collector.collect(spec, {}, options(fetch_replies=False)):
            stored.append(batch)
    assert "2 of 2 units" in str(info.value)
    assert len(seen) == 2 and stored[-1].cursor["quota"] == {"day": "2026-11-20", "used": 2}
    cursor = stored[-1].cursor
    seen.clear()
    with pytest.raises(QuotaExhaustedError):
        run(YouTubeCollector(polite(handler), KEY), spec, cursor, options(now=NOW + timedelta(hours=2)))
    assert seen == []  # same Pacific day: no request at all
    later = NOW + timedelta(hours=24)  # NOW is 01:00 in Los Angeles: a day later is the next quota day
    day2 = []
    with pytest.raises(QuotaExhaustedError):
        for batch in YouTubeCollector(polite(handler), KEY).collect(
            spec, cursor, options(now=later, fetch_replies=False)
        ):
            day2.append(batch)
    assert seen[0].url.params["pageToken"] == "P3"  # resumes where the quota ran out yesterday
    assert "UgC" in posts_of(day2) and day2[-1].cursor["quota"] == {"day": "2026-11-21", "used": 2}


def test_quota_exceeded_answer_from_the_api() -> None:
    with pytest.raises(QuotaExhaustedError, match="quota exceeded"):
        run(YouTubeCollector(polite(lambda r: error("quotaExceeded")), KEY), SPEC)


def test_disabled_comments_are_not_an_error() -> None:
    batches, _ = run(YouTubeCollector(polite(lambda r: error("commentsDisabled")), KEY), SPEC)
    assert posts_of(batches) == {} and not [e for b in batches for e in b.errors]


def test_missing_key_is_explained() -> None:
    with pytest.raises(ConfigurationError, match="YOUTUBE_API_KEY"):
        run(YouTubeCollector(polite(lambda r: json_response({}))), SPEC)


def test_deleted_thread_becomes_a_tombstone() -> None:
    state = {"gone": False}

    def handler(request: httpx.Request) -> httpx.Response:
        if "id" in request.url.params and state["gone"]:
            return json_response(thread_list([]))
        return json_response(thread_list([yt_thread("UgD", 10, "bald weg", total=0)]))

    _, cursor = run(YouTubeCollector(polite(handler), KEY), SPEC)
    state["gone"] = True
    batches, cursor2 = run(
        YouTubeCollector(polite(handler), KEY), SPEC, cursor, options(now=NOW + timedelta(minutes=30))
    )
    assert posts_of(batches)["UgD"].deleted
    assert "UgD" not in cursor2["threads"]
