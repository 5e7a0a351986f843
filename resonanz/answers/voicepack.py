"""The per-account rows of one rollup day and cell, packed into one binary value, and the sums read from them.

Why packed
----------
Kish's effective n needs ``Σ W_v²`` over the voices of a period (``W_v``: a voice's weight summed over the whole
period), and the author and customer counts are distinct counts. Neither adds up across days, so the rollups keep
one row per (day, cell, account) and group them by voice when asked. At a million posts an answer reads one to
2.5 million such rows; as table rows (``answer_rollup_voice`` until migration 0016) SQLite grouped them in 1.5-6 s.
Packed per (day, brand, voice, topic), the same rows are a few thousand values: the database hands them over
as bytes and numpy groups them with one sort.

Trade-off: the rows can only be read through this module (no SQL over them), and a filter on class, platform or
language is applied after reading the pack (the pack holds every class of its day and cell). Exact, unlike a
sketch (AMS for ``Σ W_v²``, HyperLogLog for authors): the answers equal the raw query's
(tests/answers/test_rollup_equivalence.py).

Format: a numpy structured array (:data:`PACK_DTYPE`, little-endian) as bytes; class, platform and language as
one-byte codes into the pack's own vocabulary (JSON, stored beside the bytes). Everything here is a pure function.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

PACK_DTYPE = np.dtype(
    [
        ("voice_key", "<i8"),
        ("identity_id", "<i8"),
        ("weight_sum", "<f8"),
        ("unweighted", "<i4"),
        ("segment", "u1"),
        ("platform", "u1"),
        ("language", "u1"),
    ]
)
"""One account's posts of the day and cell: its voice (the customer's id when linked, else minus the account's
id), the sum of the known weights, how many posts have no weight yet, and the codes of its class, platform and
language."""
CODED = ("segment", "platform", "language")
MAX_CODES = 256
VOICE_BITS = 40
"""A voice key and a group number share one 64-bit sort key: voices within ±2^39, groups below 2^23."""

Int64 = npt.NDArray[np.int64]
Float64 = npt.NDArray[np.float64]


class PackError(ValueError):
    """A pack that cannot be written or read (a vocabulary over 256 values, bytes of the wrong length)."""


@dataclass(frozen=True)
class VoiceRow:
    """What one account contributed to one day and cell (the input of :func:`pack`)."""

    voice_key: int
    identity_id: int
    segment: str
    platform: str
    language: str
    weight_sum: float
    unweighted: int


@dataclass(frozen=True)
class Pack:
    """A decoded pack: its rows and the vocabulary of each coded column."""

    rows: np.ndarray
    vocab: Mapping[str, Sequence[str]]

    def codes(self, column: str, keep: Iterable[str]) -> npt.NDArray[np.bool_]:
        """Per row, whether its ``column`` (class, platform or language) is one of ``keep``."""
        allowed = set(keep)
        table = np.array([value in allowed for value in self.vocab[column]] + [False], dtype=bool)
        return np.asarray(table[self.rows[column]], dtype=bool)

    def mapped(self, column: str, numbering: dict[str, int]) -> Int64:
        """Per row, the number of its ``column`` value in ``numbering`` (new values are added to it)."""
        table = np.array([numbering.setdefault(v, len(numbering)) for v in self.vocab[column]] + [-1], dtype=np.int64)
        return np.asarray(table[self.rows[column]], dtype=np.int64)


def pack(rows: Sequence[VoiceRow]) -> tuple[str, bytes]:
    """The vocabulary (JSON) and bytes of ``rows``."""
    out = np.zeros(len(rows), dtype=PACK_DTYPE)
    for column in ("voice_key", "identity_id", "weight_sum", "unweighted"):
        out[column] = [getattr(row, column) for row in rows]
    vocab: dict[str, dict[str, int]] = {}
    for column in CODED:
        values = vocab[column] = {}
        codes = [values.setdefault(getattr(row, column), len(values)) for row in rows]
        if len(values) > MAX_CODES:
            raise PackError(f"Ein Rollup-Paket hat {len(values)} Werte in {column!r} (höchstens {MAX_CODES}).")
        out[column] = codes
    return json.dumps({column: list(values) for column, values in vocab.items()}), out.tobytes()


def unpack(vocab: str, data: bytes | memoryview) -> Pack:
    """The pack written by :func:`pack` (``data`` as the database returns it: bytes or a memoryview)."""
    raw = bytes(data) if isinstance(data, memoryview) else data
    if len(raw) % PACK_DTYPE.itemsize:
        raise PackError(
            f"Ein Rollup-Paket hat {len(raw)} Bytes, kein Vielfaches von {PACK_DTYPE.itemsize}: "
            "`resonanz db rebuild-rollups` baut die Rollups neu."
        )
    names = json.loads(vocab)
    return Pack(np.frombuffer(raw, dtype=PACK_DTYPE), {column: list(names.get(column, [])) for column in CODED})


def _sort_key(groups: Int64, voice_keys: Int64) -> Int64 | None:
    """One sortable key per (group, voice), or None when they do not fit 64 bits."""
    if not len(groups):
        return np.zeros(0, dtype=np.int64)
    limit = 1 << (VOICE_BITS - 1)
    if groups.min() < 0 or groups.max() >= 1 << (63 - VOICE_BITS) or np.abs(voice_keys).max() >= limit:
        return None
    return (groups << VOICE_BITS) | (voice_keys + limit)


def _first_of_runs(*columns: Int64) -> tuple[Int64, npt.NDArray[np.bool_]]:
    """The order that sorts rows by ``columns`` (the first most significant) and, in that order, where a new
    combination starts."""
    order = np.lexsort(columns[::-1]).astype(np.int64)
    new = np.ones(len(order), dtype=bool)
    if len(order) > 1:
        same = np.ones(len(order) - 1, dtype=bool)
        for column in columns:
            ordered = column[order]
            same &= ordered[1:] == ordered[:-1]
        new[1:] = ~same
    return order, new


def weight_squares(groups: Int64, voice_keys: Int64, weights: Float64) -> dict[int, tuple[int, float]]:
    """Per group: how many distinct voices it has and ``Σ_v W_v²``, ``W_v`` the sum of the voice's ``weights`` in
    the group. E.g. groups [0, 0, 1], voices [7, 7, 7], weights [1, 2, 5] -> {0: (1, 9.0), 1: (1, 25.0)}."""
    key = _sort_key(groups, voice_keys)
    if key is not None:
        unique, inverse = np.unique(key, return_inverse=True)
        group_of = unique >> VOICE_BITS
    else:
        order, new = _first_of_runs(groups, voice_keys)
        inverse = np.empty(len(order), dtype=np.int64)
        inverse[order] = np.cumsum(new) - 1
        group_of = groups[order][new]
    per_voice = np.bincount(inverse.ravel(), weights=weights, minlength=len(group_of))
    found, index = np.unique(group_of, return_inverse=True)
    voices = np.bincount(index, minlength=len(found))
    squares = np.bincount(index, weights=per_voice * per_voice, minlength=len(found))
    return {int(g): (int(n), float(s)) for g, n, s in zip(found, voices, squares, strict=True)}


def heads(groups: Int64, voice_keys: Int64, identity_ids: Int64) -> dict[int, tuple[int, int]]:
    """Per group: its authors (distinct (voice, account) pairs) and customers (distinct voices with a positive
    key, i.e. linked to a customer). E.g. groups [0, 0, 0], voices [5, 5, -3], accounts [1, 2, 3] -> {0: (3, 1)}."""
    if not len(groups):
        return {}
    order, new = _first_of_runs(groups, voice_keys, identity_ids)
    pair_groups = groups[order][new]
    found, index = np.unique(pair_groups, return_inverse=True)
    authors = np.bincount(index, minlength=len(found))
    key_order, key_new = _first_of_runs(groups, voice_keys)
    customer = key_new & (voice_keys[key_order] > 0)
    customer_groups = groups[key_order][customer]
    customers = np.bincount(np.searchsorted(found, customer_groups), minlength=len(found))
    return {int(g): (int(a), int(c)) for g, a, c in zip(found, authors, customers, strict=True)}
