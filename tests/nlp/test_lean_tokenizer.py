"""The e5 tokenizer run by SentencePiece (nlp.lean_tokenizer) gives the 🤗 tokenizer's ids, in far less memory.

Where the two differ, both segmentations must score the same (a tie in the Viterbi search, which 🤗 adds up in
float64 and SentencePiece in float32) and spell the same normalised text: the model reads an equally likely
split of the same characters."""

from __future__ import annotations

import json
import math
import weakref
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nlp import loading
from nlp.lean_tokenizer import PIPELINE_FILE, LeanTokenizer, applies, convert

pytestmark = pytest.mark.slow

SPECIAL_PIECES = [" ", "  ", "\n", "\t", "\u00a0", "\u200b", "<mask>", "</s>", "😡", "🙄", "ß", "ü", ".", ","]
"""Whitespace of every kind, special tokens written in the text, emoji, umlauts and the punctuation ties hide in."""
DEMO = Path(__file__).resolve().parents[2] / "resonanz" / "demo"


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, LeanTokenizer]:
    from transformers import AutoTokenizer

    source = loading._source("default", "sentiment", None)
    full = AutoTokenizer.from_pretrained(source)
    lean = convert(full, tmp_path_factory.mktemp("lean"))
    assert lean is not None, "the conversion was refused on its probes"
    return full, lean


def _pieces_score(lean: LeanTokenizer, ids: list[int]) -> tuple[str, float]:
    sp = lean._sp
    return "".join(sp.id_to_piece(i) for i in ids), math.fsum(sp.get_score(i) for i in ids)


def _same_or_tie(full: Any, lean: LeanTokenizer, text: str, max_length: int = 512) -> bool:
    want = list(full([text], add_special_tokens=True, truncation=True, max_length=max_length)["input_ids"][0])
    got = lean([text], truncation=True, max_length=max_length)["input_ids"][0]
    if want == got:
        return True
    if max_length < 512:  # a tie may move the cut; compare untruncated
        return _same_or_tie(full, lean, text)
    (spelled_a, score_a), (spelled_b, score_b) = _pieces_score(lean, want[1:-1]), _pieces_score(lean, got[1:-1])
    return spelled_a == spelled_b and math.isclose(score_a, score_b, rel_tol=0, abs_tol=1e-3)


def _demo_texts() -> list[str]:
    texts = []
    for path in sorted(DEMO.rglob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line) if line.strip() else {}
            if isinstance(row.get("text"), str):
                texts.append(row["text"])
    return texts


def test_the_demo_posts_get_the_same_ids(pair: tuple[Any, LeanTokenizer]) -> None:
    full, lean = pair
    texts = [f"passage: {t}" for t in _demo_texts()]
    assert len(texts) > 300
    want = [list(x) for x in full(texts, add_special_tokens=True, truncation=True, max_length=256)["input_ids"]]
    assert lean(texts, truncation=True, max_length=256)["input_ids"] == want
    assert len(lean) == len(full) and lean.pad_token_id == full.pad_token_id == 1


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.one_of(
            st.text(st.characters(codec="utf-8"), max_size=12),
            st.sampled_from(SPECIAL_PIECES),
        ),
        max_size=12,
    ).map("".join),
    st.sampled_from([512, 12]),
)
def test_any_text_gets_the_same_ids_or_an_equally_scoring_split(
    pair: tuple[Any, LeanTokenizer], text: str, max_length: int
) -> None:
    full, lean = pair
    assert _same_or_tie(full, lean, text, max_length)


def test_a_tie_is_an_equally_scoring_split_of_the_same_text(pair: tuple[Any, LeanTokenizer]) -> None:
    full, lean = pair
    text = "524,find ich nicht,0,0,0"  # found comparing 131,154 texts: one of 76 ties
    want = list(full([text])["input_ids"][0])
    got = lean([text])["input_ids"][0]
    assert want != got  # the tie is real (else this check says nothing)
    assert _same_or_tie(full, lean, text)
    assert _pieces_score(lean, [*want[1:-1], 5])[1] != _pieces_score(lean, got[1:-1])[1]  # the score is sensitive


def test_scoring_loads_the_lean_tokenizer_from_the_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from nlp.scorer import TransformerScorer

    monkeypatch.setenv("RESONANZ_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(loading, "_TOKENIZERS", weakref.WeakValueDictionary())
    scorer = TransformerScorer(progress=False)
    assert isinstance(scorer.tokenizer, LeanTokenizer)
    assert list((tmp_path / "models" / "lean-tokenizer").glob(f"*/{PIPELINE_FILE}"))
    # the other default models (same tokenizer files) share it
    from nlp.embedder import Embedder

    assert Embedder(progress=False).runner.tokenizer is scorer.tokenizer


def test_other_tokenizers_are_left_to_transformers(tiny_family: dict[str, Path]) -> None:
    from transformers import AutoTokenizer

    tiny = AutoTokenizer.from_pretrained(tiny_family["sentiment"])
    assert not applies(tiny)
    assert not isinstance(loading.load_tokenizer(str(tiny_family["sentiment"])), LeanTokenizer)


def test_a_damaged_conversion_falls_back_to_the_full_tokenizer(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("RESONANZ_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(loading, "_TOKENIZERS", weakref.WeakValueDictionary())
    source = loading._source("default", "sentiment", None)
    lean = loading.load_tokenizer(source)
    assert isinstance(lean, LeanTokenizer)
    expected = lean(["Lieferung kam zu spät"])["input_ids"]
    (model,) = (tmp_path / "models" / "lean-tokenizer").glob("*/sentencepiece.model")
    model.write_bytes(b"not a model")
    del lean
    monkeypatch.setattr(loading, "_TOKENIZERS", weakref.WeakValueDictionary())
    full = loading.load_tokenizer(source)
    assert not isinstance(full, LeanTokenizer) and "lean tokenizer is off" in caplog.text
    assert [list(x) for x in full(["Lieferung kam zu spät"])["input_ids"]] == expected
