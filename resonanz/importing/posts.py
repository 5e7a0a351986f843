"""Import posts and comments from CSV or JSON-lines exports; upsert on platform + external id.

JSON lines carry an ``author`` object; CSV files flatten it into ``author_*`` columns
(see ``resonanz/demo/data/README.md`` for the full column mapping).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, field_validator
from sqlalchemy.engine import Engine

from resonanz.importing.common import (
    ImportReport,
    RowError,
    clean,
    csv_rows,
    jsonl_rows,
    parse_datetime,
    row_problem,
)
from store.db import session_scope
from store.ingest import ingest_posts
from store.records import IdentityRecord, PostRecord

REQUIRED_CSV = {"platform", "external_id", "text", "created_at", "author_account_id"}
KINDS = {"post", "comment", "review"}


class AuthorRow(BaseModel):
    account_id: str
    handle: str | None = None
    display_name: str | None = None
    profile_url: str | None = None
    bio: str | None = None
    location: str | None = None

    @field_validator("account_id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not str(v).strip():
            raise ValueError("the author's account id must not be empty")
        return str(v).strip()


class PostRow(BaseModel):
    platform: str
    external_id: str
    kind: str = "post"
    url: str | None = None
    text: str
    title: str | None = None
    language: str | None = None
    created_at: datetime
    edited_at: datetime | None = None
    deleted_at: datetime | None = None
    author: AuthorRow
    parent_external_id: str | None = None
    root_external_id: str | None = None
    metrics: dict[str, Any] = Field(default_factory=dict)

    @field_validator("platform")
    @classmethod
    def _platform(cls, v: str) -> str:
        value = v.strip().lower()
        if not value:
            raise ValueError("must not be empty")
        return value

    @field_validator("external_id")
    @classmethod
    def _external_id(cls, v: Any) -> str:
        value = str(v).strip()
        if not value:
            raise ValueError("must not be empty")
        return value

    @field_validator("kind", mode="before")
    @classmethod
    def _kind(cls, v: Any) -> str:
        value = (v or "post").strip().lower()
        if value not in KINDS:
            raise ValueError(f"must be one of {', '.join(sorted(KINDS))}")
        return str(value)

    @field_validator("created_at", mode="before")
    @classmethod
    def _created(cls, v: Any) -> datetime:
        return parse_datetime(v)

    @field_validator("edited_at", "deleted_at", mode="before")
    @classmethod
    def _optional_dt(cls, v: Any) -> datetime | None:
        return parse_datetime(v) if v else None

    @field_validator("url", "title", "language", "parent_external_id", "root_external_id", mode="before")
    @classmethod
    def _blank_none(cls, v: Any) -> Any:
        return v or None


def _from_csv(raw: dict[str, str]) -> dict[str, Any]:
    author = {k[len("author_") :]: v for k, v in raw.items() if k.startswith("author_") and v}
    author["account_id"] = raw.get("author_account_id", "")
    metrics: dict[str, Any] = {}
    for key in ("likes", "reposts", "replies"):
        value = raw.get(key)
        if value:
            try:
                metrics[key] = int(value)
            except ValueError:
                raise ValueError(f"{key}: not a whole number (got {value!r})") from None
    out: dict[str, Any] = {k: v for k, v in raw.items() if not k.startswith("author_") and k not in metrics}
    out.pop("likes", None), out.pop("reposts", None), out.pop("replies", None)
    out["author"] = author
    out["metrics"] = metrics
    return out


def import_posts(engine: Engine, path: Path, encoding: str = "utf-8") -> ImportReport:
    """Validate every row of a ``.csv`` or ``.jsonl`` file, then upsert identities and posts."""
    report = ImportReport(file=str(path), kind="posts")
    suffix = path.suffix.lower()
    rows: dict[tuple[str, str], tuple[int, PostRow]] = {}
    source: Any
    if suffix == ".csv":
        source = csv_rows(path, REQUIRED_CSV, encoding)
    elif suffix in (".jsonl", ".ndjson", ".json"):
        source = jsonl_rows(path, encoding)
    else:
        from resonanz.importing.common import ImportFileError

        raise ImportFileError(f"{path}: unknown file type {suffix!r}; use .csv or .jsonl")
    for line, raw in source:
        report.rows += 1
        if isinstance(raw, str):
            report.errors.append(RowError(str(path), line, raw))
            continue
        try:
            if "__extra__" in raw:
                raise ValueError("more fields than columns in the header")
            data = _from_csv(clean(raw)) if suffix == ".csv" else clean(raw)
            row = PostRow.model_validate(data)
        except Exception as exc:  # any bad value is this row's problem, never the file's
            report.errors.append(RowError(str(path), line, row_problem(exc)))
            continue
        key = (row.platform, row.external_id)
        if key in rows:
            first = rows[key][0]
            report.errors.append(
                RowError(str(path), line, f"duplicate post {row.platform}:{row.external_id} (first at line {first})")
            )
            continue
        rows[key] = (line, row)
    records = [_record(row) for _, row in rows.values()]
    with session_scope(engine) as session:
        result = ingest_posts(session, records)
    report.inserted, report.updated, report.unchanged = result.new, result.updated + result.deleted, result.unchanged
    return report


def _record(row: PostRow) -> PostRecord:
    """The store's ingest record for one validated row."""
    author = row.author
    return PostRecord(
        platform=row.platform,
        external_id=row.external_id,
        kind=row.kind,
        url=row.url,
        text=row.text,
        title=row.title,
        language=row.language,
        created_at=row.created_at,
        edited_at=row.edited_at,
        deleted=row.deleted_at is not None,
        metrics=row.metrics,
        raw={},
        parent_external_id=row.parent_external_id,
        root_external_id=row.root_external_id,
        identity=IdentityRecord(
            platform=row.platform,
            account_id=author.account_id,
            handle=author.handle,
            display_name=author.display_name,
            profile_url=author.profile_url,
            bio=author.bio,
            location=author.location,
        ),
    )
