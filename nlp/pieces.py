"""Which tokens of a post's model input belong to which of its pieces (sentences, cut again at line breaks).

A flag's evidence is the piece of a post its classifier rates highest. Rating each piece in a pass of its
own costs as much model work again as the post; instead :class:`~nlp.trunk.SharedTrunk` pools the token states
of the post's own pass per piece (``"pieces"`` outputs), given each token's piece number from here.

The numbers come from tokenising the pieces' model texts (:attr:`~nlp.preprocess.Prepared.model_pieces`) one by
one: a tokenizer that splits words at spaces (as e5's does) gives the post's tokens as the pieces' tokens in a
row. Where that does not hold (pieces glued without a space, a truncated post), or a post has one piece or more
than ``limit``, the post gets no numbers and its evidence is rated piece by piece as before. Trade-off: a piece's
pooled states have seen the rest of the post (attention), so its rating is not the rating of the piece alone;
the evidence chosen may differ where two pieces score close (measured in the CHANGELOG).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from nlp.preprocess import Prepared


def piece_segments(
    tokenizer: Any, prefix: str, posts: Sequence[Prepared], ids: Sequence[Sequence[int]], limit: int
) -> tuple[list[list[int]], set[int]]:
    """Per post, one number per token of ``ids`` (the posts' model inputs with special tokens): ``k + 1`` for
    the tokens of piece ``k``, 0 for the special tokens and the input ``prefix``; and the posts that got numbers
    (all zeros for the others)."""
    wanted = [i for i, post in enumerate(posts) if 2 <= len(post.model_pieces) <= limit]
    texts: list[str] = []
    for i in wanted:
        first, *rest = posts[i].model_pieces
        texts += [prefix + first, first, *rest]
    encoded: list[list[int]] = tokenizer(texts, add_special_tokens=False)["input_ids"] if texts else []
    segments = [[0] * len(seq) for seq in ids]
    aligned: set[int] = set()
    pos = 0
    for i in wanted:
        count = len(posts[i].model_pieces)
        with_prefix, *pieces = encoded[pos : pos + count + 1]
        pos += count + 1
        head = len(with_prefix) - len(pieces[0])
        if head < 0 or list(with_prefix[head:]) != list(pieces[0]):
            continue
        joined = [*with_prefix, *(t for piece in pieces[1:] for t in piece)]
        seq = ids[i]
        if len(seq) != len(joined) + 2 or list(seq[1:-1]) != joined:
            continue
        numbers = segments[i]
        at = 1 + head
        for k, piece in enumerate(pieces):
            numbers[at : at + len(piece)] = [k + 1] * len(piece)
            at += len(piece)
        aligned.add(i)
    return segments, aligned
