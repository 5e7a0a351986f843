"""Pooling a post's token states per piece: the token numbering (:mod:`nlp.pieces`) and the pooling, by hand."""

from __future__ import annotations

from typing import Any

import torch

from nlp.fast_bert import FastBert
from nlp.pieces import piece_segments
from nlp.preprocess import Prepared

CLS, SEP = 0, 1
PREFIX = "passage: "


class WordTokenizer:
    """One id per whitespace-separated word (as e5's tokenizer splits at spaces), ids from 10 up."""

    def __init__(self) -> None:
        self.vocab: dict[str, int] = {}

    def ids(self, text: str) -> list[int]:
        return [self.vocab.setdefault(w, 10 + len(self.vocab)) for w in text.split()]

    def __call__(self, texts: list[str], *, add_special_tokens: bool = True, **_: Any) -> dict[str, Any]:
        assert not add_special_tokens
        return {"input_ids": [self.ids(t) for t in texts]}


def post(*model_pieces: str, glue: str = " ") -> Prepared:
    text = glue.join(model_pieces)
    return Prepared(text=text, model_text=text, pieces=model_pieces, model_pieces=model_pieces)


def model_input(tok: WordTokenizer, p: Prepared, max_length: int = 64) -> list[int]:
    return [CLS, *tok.ids(PREFIX + p.model_text)[: max_length - 2], SEP]


def test_tokens_are_numbered_by_piece_and_specials_and_prefix_get_zero() -> None:
    tok = WordTokenizer()
    posts = [post("a b.", "c d e!", "f g"), post("only one piece")]
    ids = [model_input(tok, p) for p in posts]
    segments, aligned = piece_segments(tok, PREFIX, posts, ids, limit=8)
    # [CLS] passage: a b. c d e! f g [SEP]
    assert segments[0] == [0, 0, 1, 1, 2, 2, 2, 3, 3, 0]
    assert segments[1] == [0] * len(ids[1]) and aligned == {0}  # one piece: nothing to choose between


def test_posts_whose_tokens_do_not_line_up_get_no_numbers() -> None:
    tok = WordTokenizer()
    glued = post("a b.", "c d", glue="")  # "a b.c d": the pieces' words are not the post's words
    long = post("a b.", "c d", "e f")
    truncated_ids = model_input(tok, long, max_length=6)
    many = post(*(f"w{i} x." for i in range(5)))
    posts, ids = [glued, long, many], [model_input(tok, glued), truncated_ids, model_input(tok, many)]
    segments, aligned = piece_segments(tok, PREFIX, posts, ids, limit=4)
    assert aligned == set()  # glued, truncated, more pieces than the limit
    assert all(set(s) == {0} and len(s) == len(i) for s, i in zip(segments, ids, strict=True))


def test_segment_pool_is_the_normalised_mean_of_each_piece() -> None:
    x = torch.tensor([[9.0, 9.0], [1.0, 0.0], [3.0, 0.0], [0.0, 2.0], [0.0, 5.0], [7.0, 7.0]])  # one row of 6 tokens
    segments = torch.tensor([[0, 1, 1, 2, 5, 0]])
    pooled = FastBert.segment_pool(x, segments, 3)
    assert pooled.shape == (1, 3, 2)
    assert torch.allclose(pooled[0, 0], torch.tensor([1.0, 0.0]))  # mean (2, 0), normalised
    assert torch.allclose(pooled[0, 1], torch.tensor([0.0, 1.0]))  # number 5 > count: left out
    assert torch.equal(pooled[0, 2], torch.zeros(2))  # no such piece
