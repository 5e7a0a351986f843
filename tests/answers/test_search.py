"""Full-text search (issue 17, part 5): the same German matches on SQLite (FTS5 + the Python stemmer) and on
PostgreSQL (tsvector, german), filters from lists, paging, ranking, the index kept in step, saved searches."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from importlib.resources import files

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

from resonanz.answers.search import (
    STOPWORDS,
    SearchFilters,
    delete_saved,
    filter_options,
    german_stem,
    get_saved,
    parse_query,
    postgres_tsquery,
    run_saved,
    save_search,
    saved_searches,
    search,
    validate_filters,
)
from resonanz.core.errors import InvalidFilterError, NotFoundError
from store.db import alembic_config, current_revision
from store.models import Post
from store.models.search import not_search_index
from tests.answers.factory import MONDAY, PREV_MONDAY, Factory


@dataclass
class Corpus:
    ids: dict[str, int] = field(default_factory=dict)

    def names(self, post_ids: object) -> set[str]:
        by_id = {v: k for k, v in self.ids.items()}
        return {by_id[i] for i in post_ids}  # type: ignore[attr-defined]


TEXTS: dict[str, tuple[str, dict[str, object]]] = {
    # name: (text, factory options)
    "lief1": ("Die Lieferung kam zu spät.", {"who": "anna", "topics": ["Lieferung"], "item": True}),
    "lief2": ("Zwei Lieferungen, beide beschädigt.", {"who": "ben", "topics": ["Lieferung"], "platform": "bluesky"}),
    "gelief": ("Es wurde nie geliefert.", {"who": "p1", "topics": ["Lieferung"]}),
    "liefert": ("DHL liefert erst morgen.", {"who": "p1", "sentiment": "neutral"}),
    "lieferzeit": ("Die Lieferzeit ist zu lang.", {"who": "clara", "topics": ["Lieferung"]}),
    "liefern": ("Bitte schneller liefern!", {"who": "p2"}),
    "muehle": ("Meine Mühle ist kaputt.", {"who": "anna", "topics": ["Mühle"]}),
    "muehlen": ("Alle Mühlen verkauft, schade.", {"who": "p2", "sentiment": "neutral"}),
    "strasse": ("Das Paket liegt auf der Straße.", {"who": "p1", "platform": "bluesky"}),
    "strasse2": ("Die Strasse war gesperrt.", {"who": "p2"}),
    "kaffee": ("Der Kaffee kam zu spät an, aber lecker.", {"who": "ben", "sentiment": "positive"}),
    "umgekehrt": ("Zu spät kam der Kaffee, spät kam er.", {"who": "p2"}),
    "cafe": ("Im Café gibt es keinen Kuchen.", {"who": "p1", "sentiment": "neutral"}),
    "lang": (
        "Eine lange Geschichte über den Kaffee, die Bohnen, das Wetter, die Röstung, die Mahlgrade, den Service "
        "und am Ende auch kurz über die Lieferung, die in Ordnung war.",
        {"who": "p1", "sentiment": "positive"},
    ),
    "alt": ("Lieferung letzte Woche auch schon verspätet.", {"who": "anna", "when": "prev", "topics": ["Lieferung"]}),
}


@pytest.fixture
def corpus(engine: Engine) -> Iterator[tuple[Session, Corpus]]:
    """Posts with known words on a migrated database (SQLite and PostgreSQL)."""
    with Session(engine, expire_on_commit=False) as session:
        f = Factory(session)
        anna = f.customer("Anna Amsel", "A")
        ben = f.customer("Ben Berg", "B")
        clara = f.customer("Clara Conrad", "C")
        idents = {name: f.identity(f"@{name}@social.example") for name in ("anna", "ben", "clara", "p1", "p2")}
        for name, customer in (("anna", anna), ("ben", ben), ("clara", clara)):
            f.link(idents[name], customer)
        corpus = Corpus()
        for i, (name, (body, opts)) in enumerate(TEXTS.items()):
            when = (PREV_MONDAY if opts.get("when") == "prev" else MONDAY) + timedelta(hours=i)
            post = f.post(
                idents[str(opts["who"])],
                body,
                when,
                sentiment=str(opts.get("sentiment", "negative")),
                topics=list(opts.get("topics", [])),  # type: ignore[call-overload]
                platform=opts.get("platform"),  # type: ignore[arg-type]
            )
            if opts.get("item"):
                f.review_item(post)
            assert post.id is not None
            corpus.ids[name] = post.id
        titled = f.post(idents["p2"], "Lieferung, Lieferung, schon wieder kaputt.", MONDAY + timedelta(days=1))
        titled.title = "Lieferung"  # set after the insert: the update keeps the index in step
        deleted = f.post(idents["p2"], "Lieferung gelöscht", MONDAY)
        deleted.deleted_at = MONDAY + timedelta(hours=1)
        session.add_all([titled, deleted])
        session.commit()
        assert titled.id is not None
        corpus.ids["titel"] = titled.id
        yield session, corpus


def found(session: Session, corpus: Corpus, query: str, flt: SearchFilters | None = None) -> set[str]:
    return corpus.names(h.post_id for h in search(session, query, flt, per_page=100).hits)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # Snowball joins the endings, not the ge- participle, other verb forms or compounds
        ("Lieferung", {"lief1", "lief2", "lang", "alt", "titel"}),
        ("lieferungen", {"lief1", "lief2", "lang", "alt", "titel"}),
        ("geliefert", {"gelief"}),
        # a word beginning is stemmed too (liefer -> lief), then every stem that begins with it
        ("liefer*", {"lief1", "lief2", "liefert", "lieferzeit", "liefern", "lang", "alt", "titel"}),
        ("lieferz*", {"lieferzeit"}),
        ("Kaffee*", {"kaffee", "umgekehrt", "lang"}),
        ("Mühlen", {"muehle", "muehlen"}),
        ("muhle", {"muehle", "muehlen"}),
        ("Straße", {"strasse", "strasse2"}),
        ("strasse", {"strasse", "strasse2"}),
        ('"kam zu spät"', {"lief1", "kaffee"}),
        ('"Kaffee kam"', {"kaffee"}),
        ("Lieferung -spät", {"lief2", "lang", "alt", "titel"}),
        ("Lieferung spät", {"lief1"}),
        ("Mühle OR Straße", {"muehle", "muehlen", "strasse", "strasse2"}),
        ("Mühle ODER Lieferzeit", {"muehle", "muehlen", "lieferzeit"}),
        ("Lieferung kaputt OR Strasse", {"titel", "strasse", "strasse2"}),
        ("Abo-Preis", set()),
        ("Zustellung", set()),
        ("die Lieferung", {"lief1", "lief2", "lang", "alt", "titel"}),  # stop words do not count
    ],
)
def test_the_same_german_matches_on_both_databases(
    corpus: tuple[Session, Corpus], query: str, expected: set[str]
) -> None:
    session, c = corpus
    assert found(session, c, query) == expected


def test_stop_words_alone_and_empty_negations_are_refused(corpus: tuple[Session, Corpus]) -> None:
    session, _ = corpus
    with pytest.raises(InvalidFilterError, match="nur Füllwörter"):
        search(session, "nicht und")
    with pytest.raises(InvalidFilterError, match="Ausschluss"):
        search(session, "-Lieferung")
    with pytest.raises(InvalidFilterError, match="höchstens 500"):
        search(session, "x" * 501)


ODD = ['"', "*", "NEAR(a b)", '"unterminated', "(((", "a AND OR NOT b", "'; DROP TABLE post;--", "-", "--",
       "col:Lieferung", "Lieferung^2", "\x00", "☕ 🙄", "OR", '"" * -', "\\'", "Lieferung:*", "a & b | !c"]  # fmt: skip


@pytest.mark.parametrize("query", ODD)
def test_odd_input_never_reaches_the_engine_raw(corpus: tuple[Session, Corpus], query: str) -> None:
    session, c = corpus
    try:
        page = search(session, query)
    except InvalidFilterError:
        return
    assert page.total >= 0
    assert found(session, c, "Lieferung") >= {"lief1"}  # the index is unharmed


def test_ranked_best_first_then_newest(corpus: tuple[Session, Corpus]) -> None:
    session, c = corpus
    hits = search(session, "Lieferung").hits
    # three times in a short post (once in the title) beats once in a long one
    assert c.names([hits[0].post_id]) == {"titel"}
    assert c.names([hits[-1].post_id]) == {"lang"}
    assert hits[0].relevance > hits[-1].relevance
    newest_first = search(session, "", SearchFilters(platforms=("bluesky",))).hits
    assert [c.names([h.post_id]).pop() for h in newest_first] == ["strasse", "lief2"]


def test_paging(corpus: tuple[Session, Corpus]) -> None:
    session, c = corpus
    first = search(session, "liefer*", per_page=3)
    second = search(session, "liefer*", per_page=3, page=2)
    third = search(session, "liefer*", per_page=3, page=3)
    assert (first.total, first.pages, first.has_next, third.has_next) == (8, 3, True, False)
    assert [len(p.hits) for p in (first, second, third)] == [3, 3, 2]
    ids = [h.post_id for p in (first, second, third) for h in p.hits]
    assert len(set(ids)) == 8 and c.names(ids) == found(session, c, "liefer*")
    assert search(session, "liefer*", per_page=3, page=9).hits == ()
    with pytest.raises(InvalidFilterError, match="erste Seite"):
        search(session, "liefer*", page=0)
    with pytest.raises(InvalidFilterError, match="pro Seite"):
        search(session, "liefer*", per_page=1000)


def test_filters_class_topic_platform_sentiment_time(corpus: tuple[Session, Corpus]) -> None:
    session, c = corpus
    assert found(session, c, "Lieferung", validate_filters(session, classes=["a"])) == {"lief1", "alt"}
    assert found(session, c, "liefer*", validate_filters(session, classes=["A", "B"])) == {"lief1", "lief2", "alt"}
    assert found(session, c, "liefer*", validate_filters(session, classes=["prospect"])) == {
        "liefert", "liefern", "lang", "titel",
    }  # fmt: skip
    assert found(session, c, "liefer*", validate_filters(session, topics=["lieferung"])) == {
        "lief1", "lief2", "lieferzeit", "alt",
    }  # fmt: skip
    assert found(session, c, "", validate_filters(session, platforms=["BlueSky"])) == {"lief2", "strasse"}
    assert found(session, c, "liefer*", validate_filters(session, sentiments=["neutral", "positiv"])) == {
        "liefert", "lang",
    }  # fmt: skip
    assert found(session, c, "Lieferung", validate_filters(session, week="2026-w46")) == {"alt"}
    assert found(session, c, "Lieferung", validate_filters(session, since="2026-11-16", until="2026-11-16")) == {
        "lief1", "lief2", "lang",  # lang: 22:00 UTC = 23:00 in Berlin, still the 16th
    }  # fmt: skip
    assert found(session, c, "Lieferung", validate_filters(session, until="2026-11-15")) == {"alt"}
    assert found(session, c, "Lieferung", validate_filters(session, days=7)) == set()  # the corpus is in 2026-W47


def test_unknown_filter_values_are_refused_in_german(corpus: tuple[Session, Corpus]) -> None:
    session, _ = corpus
    with pytest.raises(InvalidFilterError, match="Unbekannte Kundenklasse „D“. Erlaubt sind: A"):
        validate_filters(session, classes=["D"])
    with pytest.raises(InvalidFilterError, match="Unbekanntes Thema „Versand“. Bekannt sind: Lieferung, Mühle"):
        validate_filters(session, topics=["Versand"])
    with pytest.raises(InvalidFilterError, match="Unbekannte Plattform „myspace“. Bekannt sind: bluesky, mastodon"):
        validate_filters(session, platforms=["myspace"])
    with pytest.raises(InvalidFilterError, match="Unbekannte Stimmung"):
        validate_filters(session, sentiments=["wütend"])
    with pytest.raises(InvalidFilterError, match="ISO-Woche"):
        validate_filters(session, week="47")
    with pytest.raises(InvalidFilterError, match="Datum „16.11.2026“"):
        validate_filters(session, since="16.11.2026")
    with pytest.raises(InvalidFilterError, match="nur eine Zeitangabe"):
        validate_filters(session, week="2026-W47", since="2026-11-01")
    with pytest.raises(InvalidFilterError, match="Zeitraum ist leer"):
        validate_filters(session, since="2026-11-20", until="2026-11-10")


def test_filter_lists_come_from_the_data(corpus: tuple[Session, Corpus]) -> None:
    session, _ = corpus
    options = filter_options(session)
    assert options.topics == ("Lieferung", "Mühle")
    assert options.platforms == ("bluesky", "mastodon")
    assert options.classes == ("A", "B", "C", "unvalued", "prospect")
    assert options.sentiments == ("negative", "neutral", "positive")


def test_hits_carry_what_the_result_list_shows(corpus: tuple[Session, Corpus]) -> None:
    session, c = corpus
    page = search(session, '"kam zu spät"')
    by_name = {c.names([h.post_id]).pop(): h for h in page.hits}
    lief1 = by_name["lief1"]
    assert (lief1.segment, lief1.sentiment, lief1.topics, lief1.platform) == (
        "A",
        "negative",
        ("Lieferung",),
        "mastodon",
    )
    assert lief1.review_item_id is not None and by_name["kaffee"].review_item_id is None
    assert lief1.author == "@anna@social.example" and lief1.url and lief1.url.startswith("https://social.example/")
    assert [(s.text, s.hit) for s in lief1.snippet] == [
        ("Die Lieferung ", False), ("kam", True), (" zu ", False), ("spät", True), (".", False),
    ]  # fmt: skip
    long = search(session, "Lieferung", SearchFilters(classes=("prospect",))).hits
    snippet = next(h.snippet for h in long if c.names([h.post_id]) == {"lang"})
    assert snippet[0].text == "… " and [s.text for s in snippet if s.hit] == ["Lieferung"]
    assert page.to_dict()["hits"][0]["snippet"].count("[") == 2


def test_the_index_follows_edits_redactions_and_deletes(corpus: tuple[Session, Corpus]) -> None:
    session, c = corpus
    post = session.get(Post, c.ids["strasse2"])
    assert post is not None
    post.text = "Die Zufahrt war gesperrt."
    session.add(post)
    session.commit()
    assert found(session, c, "Strasse") == {"strasse"}
    assert found(session, c, "Zufahrt") == {"strasse2"}
    session.execute(text("DELETE FROM score WHERE post_id = :id"), {"id": c.ids["liefern"]})
    session.execute(text("DELETE FROM post WHERE id = :id"), {"id": c.ids["liefern"]})
    session.commit()
    assert search(session, "liefern").total == 0
    session.add(Post(platform="rss", external_id="neu-1", text="Neue Lieferung heute", title="Zustellung"))
    session.commit()
    assert search(session, "Zustellung").total == 1


def test_filters_survive_the_json_round_trip() -> None:
    flt = SearchFilters(classes=("A",), topics=("Lieferung",), sentiments=("negative",), days=7)
    assert SearchFilters.from_json(json.loads(json.dumps(flt.to_json()))) == flt
    assert SearchFilters.from_json(None) == SearchFilters() and SearchFilters().to_json() == {}
    assert flt.describe() == "Klasse A; Thema Lieferung; Stimmung negativ; letzte 7 Tage"


def test_saved_searches(corpus: tuple[Session, Corpus]) -> None:
    session, c = corpus
    flt = validate_filters(session, classes=["a"], topics=["LIEFERUNG"])
    saved = save_search(session, "  A-Kunden   Lieferung ", "carla", "Lieferung", flt)
    assert (saved.name, saved.owner, saved.filters) == ("A-Kunden Lieferung", "carla", {
        "classes": ["A"], "topics": ["Lieferung"]})  # fmt: skip
    with pytest.raises(InvalidFilterError, match="schon eine gespeicherte Suche „A-Kunden Lieferung“"):
        save_search(session, "A-Kunden Lieferung", "ada", "Mühle", SearchFilters())
    with pytest.raises(InvalidFilterError, match="Namen"):
        save_search(session, " ", "ada", "Mühle", SearchFilters())
    with pytest.raises(InvalidFilterError, match="Füllwörter"):
        save_search(session, "leer", "ada", "und", SearchFilters())
    save_search(session, "Mühlen", "ada", "Mühle", SearchFilters())
    assert [s.name for s in saved_searches(session)] == ["A-Kunden Lieferung", "Mühlen"]
    again = run_saved(session, get_saved(session, "A-Kunden Lieferung"))
    assert c.names(h.post_id for h in again.hits) == {"lief1", "alt"}
    week47 = validate_filters(session, week="2026-W47").period()
    assert c.names(h.post_id for h in run_saved(session, saved, within=week47).hits) == {"lief1"}
    delete_saved(session, "Mühlen")
    with pytest.raises(NotFoundError, match="Keine gespeicherte Suche „Mühlen“"):
        get_saved(session, "Mühlen")
    with pytest.raises(NotFoundError):
        delete_saved(session, 99999)


def test_query_syntax() -> None:
    parsed = parse_query('Lieferung "kam zu spät" liefer* -Abo OR Mühle Abo-Preis')
    kinds = [[(t.kind, t.words, t.negated) for t in g] for g in parsed.groups]
    assert kinds == [
        [("word", ("lieferung",), False), ("phrase", ("kam", "zu", "spät"), False), ("prefix", ("liefer",), False),
         ("word", ("abo",), True)],
        [("word", ("mühle",), False), ("phrase", ("abo", "preis"), False)],
    ]  # fmt: skip
    assert postgres_tsquery(parsed) == (
        "('lieferung' & ('kam' <-> 'zu' <-> 'spät') & 'liefer':* & !'abo') | ('mühle' & ('abo' <-> 'preis'))"
    )
    assert parse_query("").empty and parse_query("   ").empty
    assert parse_query('"die Lieferung"').groups == parse_query("Lieferung").groups  # stop words at the ends


def test_stemmer_examples() -> None:
    assert [german_stem(w) for w in ("Lieferung", "Lieferungen", "geliefert", "liefern", "liefert", "Mühlen")] == [
        "liefer", "liefer", "geliefert", "lief", "liefert", "muhl",
    ]  # fmt: skip
    assert [german_stem(w) for w in ("Straße", "Kenntnisse", "Bohnengate", "schönste", "Täuschung")] == [
        "strass", "kenntnis", "bohnengat", "schon", "tauschung",
    ]  # fmt: skip


@pytest.mark.postgres
def test_the_python_stemmer_is_postgresqls(pg_engine: Engine) -> None:
    """Every 7th of spaCy's 343,000 German word forms (+ the demo posts): the same stem as PostgreSQL's german_stem."""
    lookups = files("spacy_lookups_data") / "data" / "de_lemma_lookup.json.gz"
    with gzip.open(str(lookups), "rt", encoding="utf-8") as fh:
        table: dict[str, str] = json.load(fh)
    words = sorted({w.lower() for pair in table.items() for w in pair if w.isalpha() and len(w) < 40} - STOPWORDS)
    sample = words[::7]
    with pg_engine.connect() as conn:
        rows = conn.execute(
            text("SELECT w, (ts_lexize('german_stem', w))[1] FROM unnest(CAST(:words AS text[])) AS w"),
            {"words": sample},
        ).all()
    assert len(rows) == len(sample) > 40000
    different = [(w, pg, german_stem(w)) for w, pg in rows if pg != german_stem(w)]
    assert different == []


def test_schema_matches_the_models_apart_from_the_search_index(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "include_object": not_search_index})
        assert compare_metadata(context, SQLModel.metadata) == []
    cfg = alembic_config(engine)
    command.downgrade(cfg, "0008")
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            assert conn.execute(text("SELECT count(*) FROM sqlite_master WHERE name LIKE 'post_fts%'")).scalar() == 0
        else:
            columns = "SELECT count(*) FROM information_schema.columns WHERE table_name='post' AND column_name=:c"
            assert conn.execute(text(columns), {"c": "search_vector"}).scalar() == 0
    with Session(engine) as session:  # posts written while the index was gone are indexed by the upgrade
        session.add(Post(platform="rss", external_id="zwischendurch", text="Lieferung kam heute"))
        session.commit()
    command.upgrade(cfg, "head")
    assert current_revision(engine) == ScriptDirectory.from_config(cfg).get_current_head()
    with Session(engine) as session:
        assert search(session, "Lieferung").total == 1
