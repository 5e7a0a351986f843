"""German interface by default, English available (issue 17): the catalogue is complete, the templates hold no
text outside translation tags, pages and numbers come out German by default and English when set."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient
from jinja2 import Environment, FileSystemLoader, nodes
from pydantic import SecretStr
from sqlalchemy.engine import Engine
from sqlmodel import Session

from resonanz.core import i18n
from resonanz.core.settings import Settings, WebSettings
from resonanz.web import create_app
from resonanz.web.deps import get_session
from store.models import User
from tests.answers.factory import Scenario
from tests.web.conftest import login

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "resonanz"
TEMPLATE_DIRS = (PACKAGE / "web" / "templates", PACKAGE / "digest" / "templates")
KEYWORDS = {**DEFAULT_KEYWORDS, "N_": None}
ALLOWED_WORDS = frozenset({"Resonanz", "JSON", "CSV"})
"""Words a template may show outside translation tags: the product's name and file formats."""
VISIBLE_ATTRIBUTES = re.compile(r'\b(?:title|alt|placeholder|aria-label|data-confirm)="([^"]*)"')
WORD = re.compile(r"[^\W\d_]{2,}")
PUNCTUATION = ".,:;!?()[]„“”\"'…–—·/"
PASSTHROUGH = frozenset({"default", "d", "e", "escape", "safe", "trim", "upper", "lower", "capitalize", "title"})
"""Filters that show their input as it is (a translating filter such as ``status`` does not)."""
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|\{(\w+)(?:![rs])?\}")


# --- (a) the catalogue -------------------------------------------------------------------------------------


def extract(directory: Path, mapping: Path = ROOT / "babel.cfg") -> dict[str, tuple[str, ...]]:
    """msgid -> (msgid[, msgid_plural]) of every translatable text, as ``make messages`` extracts them."""
    with mapping.open(encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh)  # type: ignore[no-untyped-call]
    found: dict[str, tuple[str, ...]] = {}
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        str(directory), method_map, options_map, keywords=KEYWORDS
    ):
        ids = (message,) if isinstance(message, str) else tuple(m for m in message if m)
        found[ids[0]] = ids
    return found


def catalogue(lang: str = "de") -> Catalog:
    with i18n.catalogue_path(lang).open("rb") as fh:
        return read_po(fh, locale=lang, domain=i18n.DOMAIN)


def problems(extracted: dict[str, tuple[str, ...]], catalog: Catalog) -> list[str]:
    """Texts without a usable translation: missing, empty, fuzzy, a plural form missing, placeholders changed."""
    out = []
    for msgid, ids in sorted(extracted.items()):
        message = catalog.get(msgid)
        if message is None:
            out.append(f"not in the catalogue: {msgid!r}")
            continue
        strings = tuple(message.string) if isinstance(message.string, tuple | list) else (str(message.string or ""),)
        if message.fuzzy or not all(s and s.strip() for s in strings) or len(strings) < len(ids):
            out.append(f"untranslated or fuzzy: {msgid!r}")
            continue
        wanted = set(PLACEHOLDER.findall(" ".join(ids)))
        if any(set(PLACEHOLDER.findall(s)) != wanted for s in strings):
            out.append(f"placeholders differ: {msgid!r} -> {strings!r}")
    return out


def test_the_german_catalogue_translates_every_text_of_pages_digest_mails_and_cli() -> None:
    extracted = extract(PACKAGE)
    assert len(extracted) > 300  # the extraction found the templates and the Python texts
    assert "Review queue" in extracted and "Resonanz weekly digest %(week)s" in extracted  # web, digest
    assert "Act now: {url}" in extracted and "Representative quotes" in extracted  # alert e-mail, ask
    assert problems(extracted, catalogue()) == []


def test_the_completeness_check_reports_a_new_untranslated_text(tmp_path: Path) -> None:
    """What a contributor sees after adding a text and forgetting ``make messages`` or the translation."""
    templates = tmp_path / "web" / "templates"
    templates.mkdir(parents=True)
    (templates / "new.html").write_text(
        "{{ _('Queue') }} {{ _('A brand-new text nobody translated') }} {% trans n=2 %}{{ n }} new things{% endtrans %}"
    )
    (tmp_path / "module.py").write_text('from resonanz.core.i18n import _\nMESSAGE = _("Yet another new text")\n')
    catalog = catalogue()
    catalog.add("Queue", "Queue", flags=("fuzzy",))  # an entry `make messages` marked fuzzy
    found = problems(extract(tmp_path), catalog)
    assert found == [
        "not in the catalogue: '%(n)s new things'",
        "not in the catalogue: 'A brand-new text nobody translated'",
        "untranslated or fuzzy: 'Queue'",
        "not in the catalogue: 'Yet another new text'",
    ]


def test_runtime_translations_come_from_the_po_file_without_fuzzy_entries() -> None:
    assert not list(i18n.LOCALE_DIR.rglob("*.mo"))  # only the text catalogue is kept
    with i18n.language("de"):
        assert i18n.gettext("Review queue") == "Prüf-Queue"
        assert i18n.ngettext("{n} post", "{n} posts", 1) == "{n} Beitrag"
        assert i18n.ngettext("{n} post", "{n} posts", 3) == "{n} Beiträge"
        assert i18n.gettext("text that is not in the catalogue") == "text that is not in the catalogue"
    with i18n.language("en"):
        assert i18n.gettext("Review queue") == "Review queue"


# --- (b) no text outside translation tags ------------------------------------------------------------------


def _environment(directory: Path) -> Environment:
    return Environment(loader=FileSystemLoader(directory), extensions=["jinja2.ext.i18n"])


def _visible_constants(node: nodes.Node) -> Iterator[str]:
    """String constants an output expression shows as they are (``x or 'unknown'``, ``'a' if c else 'b'``)."""
    if isinstance(node, nodes.Const) and isinstance(node.value, str):
        yield node.value
    elif isinstance(node, nodes.CondExpr):
        yield from _visible_constants(node.expr1)
        if node.expr2 is not None:
            yield from _visible_constants(node.expr2)
    elif isinstance(node, nodes.Or | nodes.And):
        yield from _visible_constants(node.left)
        yield from _visible_constants(node.right)
    elif isinstance(node, nodes.Concat):
        for child in node.nodes:
            yield from _visible_constants(child)
    elif isinstance(node, nodes.Filter) and node.node is not None and node.name in PASSTHROUGH:
        yield from _visible_constants(node.node)
        if node.name in ("default", "d"):
            for arg in node.args:
                yield from _visible_constants(arg)


def _words(value: str) -> list[str]:
    """The words of a text: whitespace-separated tokens of letters (paths, colours, codes are none)."""
    return [t for t in (t.strip(PUNCTUATION) for t in value.split()) if WORD.fullmatch(t)]


def _is_gettext(node: nodes.Node) -> bool:
    return isinstance(node, nodes.Call) and isinstance(node.node, nodes.Name) and node.node.name in KEYWORDS


def _loose_sentences(node: nodes.Node, inside_gettext: bool = False) -> Iterator[str]:
    """String constants of two or more words anywhere in an expression, outside ``_()``/``ngettext()``."""
    if isinstance(node, nodes.Extends | nodes.Include | nodes.Import | nodes.FromImport):
        return  # template names
    inside_gettext = inside_gettext or _is_gettext(node)
    if (
        isinstance(node, nodes.Const)
        and isinstance(node.value, str)
        and not inside_gettext
        and len(_words(node.value)) >= 2
    ):
        yield node.value
    for child in node.iter_child_nodes():
        yield from _loose_sentences(child, inside_gettext)


def untranslated_text(source: str, env: Environment) -> list[str]:
    """What a template would show untranslated: words in its markup text (and in title/alt/placeholder
    attributes) and string constants it outputs, outside ``{% trans %}``/``_()``."""
    tree = env.parse(source)
    static: list[str] = []
    found: list[str] = []
    for node in tree.find_all(nodes.Output):
        for child in node.nodes:
            if isinstance(child, nodes.TemplateData):
                static.append(child.data)
            else:
                static.append("\x00")  # an expression: in a tag it keeps the tag together
                found += [c for c in _visible_constants(child) if _words(c)]
    found += list(_loose_sentences(tree))
    markup = "".join(static)
    found += [value for value in VISIBLE_ATTRIBUTES.findall(markup) if _words(value.replace("\x00", " "))]
    text = re.sub(r"<!--.*?-->|<[^>]*>|&[a-z]+;|&#\d+;", " ", markup, flags=re.S)
    found += [w for w in WORD.findall(text) if w not in ALLOWED_WORDS]
    return found


def _templates() -> list[Path]:
    return sorted(p for d in TEMPLATE_DIRS for p in d.iterdir() if p.suffix in (".html", ".txt"))


@pytest.mark.parametrize("path", _templates(), ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_templates_show_no_text_outside_translation_tags(path: Path) -> None:
    assert untranslated_text(path.read_text(encoding="utf-8"), _environment(path.parent)) == []


@pytest.mark.parametrize(
    ("snippet", "found"),
    [
        ("<h1>Review queue</h1>", ["Review", "queue"]),
        ('<p>{{ _("ok") }} Resonanz · JSON</p>', []),
        ('<img alt="Top topics" src="{{ x }}">', ["Top topics"]),
        ('<a href="/q" {% if a %}class="active"{% endif %} title="{{ _("t") }}">{{ n }}</a>', []),
        ("<td>{{ r.author or 'unknown' }}</td>", ["unknown"]),
        ("<td>{{ 'yes' if u.active else 'no' }} {{ x | default('nobody') }}</td>", ["yes", "no", "nobody"]),
        ("{% for v, label in [('a', 'all of them')] %}{{ label }}{% endfor %}", ["all of them"]),
        ("<p>{% trans n=3 %}{{ n }} posts{% endtrans %} {{ '%.1f' % x }} {{ s | replace('_', ' ') }}</p>", []),
    ],
)
def test_the_template_check_finds_text_outside_translation_tags(snippet: str, found: list[str]) -> None:
    assert untranslated_text(snippet, Environment(extensions=["jinja2.ext.i18n"])) == found


# --- (c) the pages: German by default, English when set ----------------------------------------------------


@pytest.fixture(name="english")
def english_fixture(mem_engine: Engine, session: Session) -> Iterator[TestClient]:
    settings = Settings(language="en", web=WebSettings(secret_key=SecretStr("test-secret-key-not-for-production")))
    app = create_app(settings, engine=mem_engine)
    app.dependency_overrides[get_session] = lambda: session
    with TestClient(app, follow_redirects=False) as client:
        yield client


def visible(html: str) -> str:
    return " ".join(re.sub(r"<[^>]*>", " ", html).split())


def test_pages_are_german_by_default(
    client: TestClient, scenario: Scenario, as_user: Callable[[str], str], users: dict[str, User]
) -> None:
    login_page = client.get("/login").text
    assert '<html lang="de">' in login_page and "Anmelden" in login_page and "Log in" not in login_page
    as_user("carla")
    queue = client.get("/queue").text
    assert "Prüf-Queue" in queue and "Review queue" not in queue
    assert "in Arbeit" in queue or "offen" in queue  # statuses in words
    item = client.get(f"/queue/{scenario.items['anna1'].id}").text
    assert "Verknüpfte Kund:in: <b>Anna Amsel</b>" in item and "8.000 €" in item and "Warum markiert" in item
    ask = client.get("/ask?week=2026-W47").text
    assert "Was sagen unsere Kund:innen?" in ask and "Netto-Stimmung" in ask
    assert re.search(r"[+-]\d,\d\d<", ask) and re.search(r"\d %<", ask)  # -0,15 and 33 %, not -0.15 / 33%
    assert re.search(r"\d\d\.\d\d\.2026, \d\d:\d\d ME(S)?Z", ask)  # quotes' times in Berlin, with the zone


def test_pages_are_english_when_set(english: TestClient, scenario: Scenario, users: dict[str, User]) -> None:
    assert '<html lang="en">' in english.get("/login").text
    login(english, "carla")
    queue = english.get("/queue").text
    assert "Review queue" in queue and "Prüf-Queue" not in queue
    item = english.get(f"/queue/{scenario.items['anna1'].id}").text
    assert "Linked customer: <b>Anna Amsel</b>" in item and "€8,000" in item
    ask = english.get("/ask?week=2026-W47").text
    assert "What do our customers say?" in ask and re.search(r"[+-]\d\.\d\d<", ask)
    assert re.search(r"\d\d/\d\d/2026, \d\d:\d\d CES?T", ask)


def test_flash_messages_follow_the_language(
    client: TestClient, english: TestClient, scenario: Scenario, users: dict[str, User]
) -> None:
    item = scenario.items["anna1"].id
    for web, done in ((client, "Notiz gespeichert."), (english, "Note saved.")):
        token = login(web, "carla")
        web.post(f"/queue/{item}/note", data={"note": "Ruft zurück", "csrf_token": token})
        assert done in web.get(f"/queue/{item}").text


def test_german_pages_show_no_english_sentence(
    client: TestClient, scenario: Scenario, as_user: Callable[[str], str], users: dict[str, User]
) -> None:
    """No English msgid of three words or more shows up in the German pages: every text, also one built in
    Python (flash messages, the Pareto verdict, labels), went through the catalogue."""
    english = {m.id for m in catalogue() if isinstance(m.id, str) and m.id and m.string != m.id}
    sentences = {re.sub(r"%\(\w+\)s|\{\w+\}", "", m).strip() for m in english if len(WORD.findall(m)) >= 3}
    as_user("ada")
    pages = ["/queue", f"/queue/{scenario.items['anna1'].id}", "/links", "/dashboard?week=2026-W47",
             "/ask?week=2026-W47", "/digests", "/alerts", "/search?q=Lieferung", "/sources", "/admin/users",
             "/admin/brand", "/queue/999999"]  # fmt: skip
    for page in pages:
        text = visible(client.get(page).text)
        assert [s for s in sentences if s and s in text] == [], page


# --- numbers and times ----------------------------------------------------------------------------------------


def test_german_and_english_numbers_currency_and_times_in_berlin_with_the_zone() -> None:
    winter, summer = datetime(2026, 11, 24, 8, 15, tzinfo=UTC), datetime(2026, 7, 24, 8, 15, tzinfo=UTC)
    with i18n.language("de"):
        assert i18n.currency(855578.81, 2) == "855.578,81 €" and i18n.currency(34400) == "34.400 €"
        assert (i18n.percent(0.423), i18n.signed(-0.1534), i18n.number(1234.5, 1)) == ("42 %", "-0,15", "1.234,5")
        assert i18n.datetime(winter) == "24.11.2026, 09:15 MEZ" and i18n.datetime(summer) == "24.07.2026, 10:15 MESZ"
    with i18n.language("en"):
        assert i18n.currency(855578.81, 2) == "€855,578.81"
        assert (i18n.percent(0.423), i18n.signed(-0.1534), i18n.number(1234.5, 1)) == ("42%", "-0.15", "1,234.5")
        assert i18n.datetime(winter) == "24/11/2026, 09:15 CET"
    assert i18n.current_language() == "de"  # the blocks leave the process language alone


def test_an_unknown_language_is_a_clear_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from resonanz.core.settings import ConfigError, _load_settings

    with pytest.raises(ConfigError, match="erlaubt sind de und en"):
        i18n.check_language("fr")
    monkeypatch.setenv("RESONANZ_LANGUAGE", "fr")
    with pytest.raises(ConfigError, match=r"language: der Wert 'fr' passt nicht.*RESONANZ_LANGUAGE"):
        _load_settings()
    monkeypatch.setenv("RESONANZ_LANGUAGE", "en")
    assert _load_settings().language == "en"
