"""The posts behind an answer: exactly the rows ``ask`` counts (:func:`resonanz.answers.sql.post_rows_select`
for the filter's period), each with its author, customer, class, value, weight, sentiment, aspects and flags.

Listed heaviest first (weight, then newest), a page at a time (:func:`posts_behind`), and exported whole as
CSV or XLSX (:func:`posts_csv`, :func:`posts_xlsx`) with formula prefixes neutralised (:mod:`resonanz.core.csv_safe`).
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import BigInteger, Float, bindparam, func, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from resonanz.answers import rollup
from resonanz.answers.ask import SENTIMENT_OF, checked_filter
from resonanz.answers.sql import AnswerFilter, post_rows_select, value_subquery
from resonanz.core.csv_safe import csv_writer, neutralise
from resonanz.core.i18n import N_, _
from resonanz.core.periods import zone
from resonanz.core.tables import CUSTOMER, IDENTITY, ITEM, POST, SCORE

__all__ = ["POST_COLUMNS", "PostLine", "PostPage", "post_cells", "posts_behind", "posts_csv", "posts_xlsx"]

PAGE_SIZE = 25
MAX_PAGE_SIZE = 500


@dataclass
class PostLine:
    """One post behind an answer."""

    post_id: int
    created_at: datetime
    platform: str
    author: str | None
    customer: str | None
    """The linked customer's company, else their name (None: a prospect)."""
    crm_id: str | None
    segment: str
    """A, B, C, ``unvalued`` (linked, no value yet) or ``prospect``."""
    revenue: float | None
    """The customer's revenue in the value window (their value row), None for prospects."""
    clv: float | None
    weight: float
    sentiment: str
    p_negative: float
    p_positive: float
    aspects: list[tuple[str, str | None]] = field(default_factory=list)
    """(topic, the post's polarity about it: negative/neutral/positive, None for older scores)."""
    flags: list[str] = field(default_factory=list)
    url: str | None = None
    text: str = ""
    item_id: int | None = None
    """The post's review item (the web links to it), if it has one."""

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["aspects"] = [{"topic": t, "polarity": p} for t, p in self.aspects]
        return out


@dataclass
class PostPage:
    posts: list[PostLine]
    total: int
    """All posts behind the answer (of the filter's period), not just this page."""
    offset: int
    limit: int | None

    @property
    def page(self) -> int:
        return 1 + self.offset // self.limit if self.limit else 1

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.limit)) if self.limit else 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "offset": self.offset,
            "limit": self.limit,
            "page": self.page,
            "pages": self.pages,
            "posts": [p.to_dict() for p in self.posts],
        }


def _aspects(topics: Any) -> list[tuple[str, str | None]]:
    out: list[tuple[str, str | None]] = []
    for t in topics or []:
        if isinstance(t, dict) and t.get("topic"):
            polarity = t.get("polarity")
            out.append((str(t["topic"]), str(polarity) if polarity else None))
    return out


def _flags(flags: Any) -> list[str]:
    out: list[str] = []
    for f in flags or []:
        name = f.get("flag") if isinstance(f, dict) else f
        if name and str(name) not in out:
            out.append(str(name))
    return out


def _customer_name(company: str | None, first: str | None, last: str | None) -> str | None:
    name = " ".join(part for part in (first, last) if part)
    return company or name or None


def _heaviest_first(weight: ColumnElement[Any], post_id: ColumnElement[Any]) -> tuple[ColumnElement[Any], ...]:
    """The order of the posts behind an answer: weight, then newest (the stored time), then id, all descending.
    Both the query over every post and the rollups' candidates (:func:`_ordered_page`) sort by it."""
    return weight.desc(), POST.c.created_at.desc(), post_id.desc()


CANDIDATES = 1_000_000
"""The most posts a page is ordered among by the database (:func:`_page_from_rollups`: those of the (weight, day)
groups the page falls into); more take the query over every post of the period. At a million posts a day has
~12,000, a page 100,000 deep among the 333,561 equally weighted posts of 4 weeks took 0.05 s this way and 18-26 s
by that query."""


def _page_from_rollups(session: Session, flt: AnswerFilter, offset: int, limit: int) -> tuple[int, list[int]] | None:
    """How many posts the answer counts and the ids of the page, in order, from the rollups' post packs: the packs
    give every post's weight and day, which order the posts as the query does down to the day (weight first, then
    the day: a later day is a later time); only the posts of the (weight, day) groups the page falls into go to the
    database, which orders them by weight, time and id (all descending) and returns the page (:func:`_ordered_page`).

    None where the rollups cannot answer the filter, or those posts are more than :data:`CANDIDATES`.

    Why: at a million posts the query over the period's posts (each with its latest score, link and value) took
    7-8 s for the count and as long again for the order, 18-20 s per page of the ask page. With class weights the
    heaviest posts tie by the ten thousand (22,316 A-customer posts of weight 5 in 4 weeks), so the time decides;
    looking all of them up by id to read their times took 150-220 ms of the page, the last day's ~800 far less."""
    if not rollup.prepare(session, flt, [flt.period]):
        return None
    ids, weights, days = rollup.post_weights(session, flt, flt.period)
    total, end = len(weights), offset + limit
    if end < total:  # only the heaviest posts can be on the page: narrow before sorting
        lightest = float(np.partition(weights, total - end)[total - end])
        chosen = weights >= lightest - 1e-9 * max(1.0, abs(lightest))  # stored and computed weights alike
        ids, weights, days = ids[chosen], weights[chosen], days[chosen]
    spanned, skip = page_groups(weights, days, offset, limit)
    if len(spanned) > CANDIDATES:
        return None
    return total, _ordered_page(session, ids[spanned], weights[spanned], skip, limit) if len(spanned) else []


def page_groups(weights: np.ndarray, days: np.ndarray, offset: int, limit: int) -> tuple[np.ndarray, int]:
    """The posts (indices into ``weights`` and ``days``, in the order weight, then day, descending) of the
    (weight, day) groups that positions ``offset .. offset+limit-1`` of that order fall into, and the offset of the
    page among them.

    The posts before the first of those groups come before the page in the query's order (heavier, or as heavy and
    of a later day, so newer), those after the last group after it; inside a group only the stored time and the id
    decide, which the database compares. Example: weights ``[5, 5, 5, 1]``, days ``[3, 2, 2, 9]``, offset 1, limit 1:
    the order is posts 0, 1, 2, 3; position 1 is in the group (5, day 2) of posts 1 and 2, so the database orders
    posts 1 and 2 and the page is its first (offset 0)."""
    n = len(weights)
    if offset >= n or limit <= 0:
        return np.zeros(0, dtype=np.int64), 0
    order = np.lexsort((-days, -weights))
    w, d = weights[order], days[order]
    new_group = np.ones(n, dtype=bool)
    new_group[1:] = (w[1:] != w[:-1]) | (d[1:] != d[:-1])
    starts = np.flatnonzero(new_group)
    last = min(offset + limit, n) - 1
    first_group = int(np.searchsorted(starts, offset, side="right")) - 1
    last_group = int(np.searchsorted(starts, last, side="right"))
    start = int(starts[first_group])
    stop = int(starts[last_group]) if last_group < len(starts) else n
    return order[start:stop], offset - start


def _ordered_page(session: Session, ids: np.ndarray, weights: np.ndarray, offset: int, limit: int) -> list[int]:
    """The ids ``offset .. offset+limit-1`` of the candidates ``ids`` (with their ``weights``) in the query's order,
    sorted by the database: weight, time, id, all descending. The candidates are one parameter (a JSON array of
    ``[id, weight]`` pairs on SQLite, two arrays on PostgreSQL), joined to the posts by id.

    Why in the database: the times compare there as the query over every post compares them (SQLite's stored
    text, PostgreSQL's timestamps), and only the page comes back. Read back and sorted in Python, the 22,316
    candidates of a 4-week ask page at a million posts took 110-300 ms (an ``IN`` of 5,000 rendered values per
    query, a row per candidate); a deep page among 300,000 candidates would take seconds."""
    dialect = session.get_bind().dialect.name
    post_id: ColumnElement[Any]
    weight: ColumnElement[Any]
    if dialect == "postgresql":
        candidates = (
            func.unnest(
                bindparam("ids", ids.tolist(), type_=postgresql.ARRAY(BigInteger())),
                bindparam("weights", weights.tolist(), type_=postgresql.ARRAY(Float(precision=53))),
            )
            .table_valued("id", "weight")
            .render_derived(name="candidate")
        )
        post_id, weight = candidates.c.id, candidates.c.weight
    else:
        pairs = json.dumps([[i, w] for i, w in zip(ids.tolist(), weights.tolist(), strict=True)])
        candidates = func.json_each(bindparam("pairs", pairs)).table_valued("value").alias("candidate")
        post_id = func.json_extract(candidates.c.value, "$[0]")
        weight = func.json_extract(candidates.c.value, "$[1]")
    query = (
        select(POST.c.id)
        .select_from(candidates.join(POST, POST.c.id == post_id))
        .order_by(*_heaviest_first(weight, POST.c.id))
        .offset(offset)
        .limit(limit)
    )
    return [int(i) for i in session.execute(query).scalars()]


def posts_behind(session: Session, flt: AnswerFilter, *, limit: int | None = PAGE_SIZE, offset: int = 0) -> PostPage:
    """The posts the answer for ``flt`` counts in its period, heaviest first; ``limit=None``: all of them. A page
    comes from the rollups' candidates where they can give them (:func:`_page_from_rollups`)."""
    flt = checked_filter(session, flt)
    dialect = session.get_bind().dialect.name
    offset = max(0, offset)
    size = None if limit is None else max(1, min(limit, MAX_PAGE_SIZE))
    page = _page_from_rollups(session, flt, offset, size) if size is not None else None
    skip = offset
    if page is not None:
        total, page_ids = page
        rows = post_rows_select(flt, dialect, post_ids=page_ids).subquery("rows")
        skip = 0  # the ids are the page
    else:
        rows = post_rows_select(flt, dialect).subquery("rows")
        total = int(session.scalar(select(func.count()).select_from(rows)) or 0)
    val = value_subquery()
    author = func.coalesce(IDENTITY.c.handle, IDENTITY.c.display_name)
    query = (
        select(
            rows.c.post_id,
            rows.c.segment,
            rows.c.weight,
            rows.c.sval,
            rows.c.p_negative,
            rows.c.p_positive,
            rows.c.topics,
            POST.c.created_at,
            POST.c.platform,
            POST.c.url,
            POST.c.title,
            POST.c.text,
            author.label("author"),
            CUSTOMER.c.company,
            CUSTOMER.c.first_name,
            CUSTOMER.c.last_name,
            CUSTOMER.c.crm_id,
            val.c.revenue,
            val.c.clv,
            SCORE.c.flags,
            ITEM.c.id.label("item_id"),
        )  # fmt: skip
        .select_from(rows)
        .join(POST, POST.c.id == rows.c.post_id)
        .join(SCORE, SCORE.c.id == rows.c.score_id)
        .outerjoin(IDENTITY, IDENTITY.c.id == rows.c.identity_id)
        .outerjoin(CUSTOMER, CUSTOMER.c.id == rows.c.customer_id)
        .outerjoin(val, val.c.customer_id == rows.c.customer_id)
        .outerjoin(ITEM, ITEM.c.post_id == rows.c.post_id)
        .order_by(*_heaviest_first(rows.c.weight, rows.c.post_id))
        .offset(skip)
    )
    if size is not None:
        query = query.limit(size)
    lines = []
    for r in session.exec(query).all():  # type: ignore[call-overload]
        m = r._mapping
        body = m["text"] or ""
        lines.append(
            PostLine(
                post_id=int(m["post_id"]),
                created_at=m["created_at"],
                platform=str(m["platform"]),
                author=m["author"],
                customer=_customer_name(m["company"], m["first_name"], m["last_name"]),
                crm_id=m["crm_id"],
                segment=str(m["segment"]),
                revenue=None if m["revenue"] is None else float(m["revenue"]),
                clv=None if m["clv"] is None else float(m["clv"]),
                weight=float(m["weight"]),
                sentiment=SENTIMENT_OF.get(int(m["sval"]), "neutral"),
                p_negative=float(m["p_negative"] or 0.0),
                p_positive=float(m["p_positive"] or 0.0),
                aspects=_aspects(m["topics"]),
                flags=_flags(m["flags"]),
                url=m["url"],
                text=f"{m['title']}\n{body}" if m["title"] else body,
                item_id=m["item_id"],
            )
        )
    return PostPage(posts=lines, total=total, offset=offset, limit=limit)


# --- export ------------------------------------------------------------------------------------------------------

POST_COLUMNS: tuple[tuple[str, str], ...] = (
    ("post_id", N_("post")),
    ("created_at", N_("time (Europe/Berlin)")),
    ("platform", N_("platform")),
    ("author", N_("author")),
    ("customer", N_("customer")),
    ("crm_id", N_("CRM number")),
    ("class", N_("class")),
    ("revenue", N_("revenue (€)")),
    ("clv", N_("CLV (€)")),
    ("weight", N_("weight")),
    ("sentiment", N_("sentiment")),
    ("p_negative", N_("p(negative)")),
    ("p_positive", N_("p(positive)")),
    ("aspects", N_("aspects")),
    ("flags", N_("flags")),
    ("link", N_("link")),
    ("text", N_("text")),
)
"""Export columns: the CSV header is the key (stable for tools), the XLSX header the translated label."""


def post_cells(line: PostLine, tz: str = "Europe/Berlin") -> list[Any]:
    """One export row in :data:`POST_COLUMNS` order (raw values: codes, floats; the time in ``tz``, ISO 8601)."""
    aspects = "; ".join(f"{topic}: {polarity}" if polarity else topic for topic, polarity in line.aspects)
    when = line.created_at.astimezone(zone(tz)) if line.created_at.tzinfo else line.created_at
    return [
        line.post_id, when.replace(tzinfo=None).isoformat(timespec="seconds"), line.platform, line.author,
        line.customer, line.crm_id, line.segment, line.revenue, line.clv, line.weight, line.sentiment,
        round(line.p_negative, 4), round(line.p_positive, 4), aspects, ", ".join(line.flags), line.url, line.text,
    ]  # fmt: skip


def posts_csv(lines: Sequence[PostLine], tz: str = "Europe/Berlin") -> str:
    """The posts as CSV (header: the column keys); every text cell neutralised against formulas."""
    buf = io.StringIO()
    writer = csv_writer(buf, lineterminator="\n")
    writer.writerow([key for key, _label in POST_COLUMNS])
    for line in lines:
        writer.writerow(["" if v is None else v for v in post_cells(line, tz)])
    return buf.getvalue()


_XLSX_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
"""Control characters an XLSX cell cannot hold (openpyxl refuses them)."""


def _xlsx_cell(value: Any) -> Any:
    if isinstance(value, str):
        return neutralise(_XLSX_ILLEGAL.sub(" ", value))
    return value


def posts_xlsx(lines: Sequence[PostLine], tz: str = "Europe/Berlin", summary: Sequence[Sequence[Any]] = ()) -> bytes:
    """The posts as an Excel workbook: a sheet of posts (translated header, one row per post) and, given
    ``summary`` rows, a second sheet with the answer's numbers. Text cells are neutralised and stored as text."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = _("Posts")[:31]
    sheet.append([_(label) for _key, label in POST_COLUMNS])
    for line in lines:
        sheet.append([_xlsx_cell(v) for v in post_cells(line, tz)])
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # never a formula, whatever the text
    sheet.freeze_panes = "A2"
    if summary:
        numbers = book.create_sheet(_("Numbers")[:31])
        for values in summary:
            numbers.append([_xlsx_cell(v) for v in values])
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()
