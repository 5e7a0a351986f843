"""The rollups' per-account and per-post rows of one day and cell, packed into one binary value, and the sums
read from them.

Why packed
----------
Kish's effective n needs ``Σ W_v²`` over the voices of a period (``W_v``: a voice's weight summed over the whole
period), and the author and customer counts are distinct counts. Neither adds up across days, so the rollups keep
one row per (day, cell, account) and group them by voice when asked. At a million posts an answer reads one to
2.5 million such rows; as table rows (``answer_rollup_voice`` until migration 0016) SQLite grouped them in 1.5-6 s.
Packed per (day, brand, voice, topic), the same rows are a few thousand values: the database hands them over
as bytes and numpy groups them with one sort. The EM-estimated shares of ``ask`` need each post's probabilities;
they are packed per (day, brand, voice) the same way (``posts``), instead of a query over the raw posts.

Trade-off: the rows can only be read through this module (no SQL over them), and a filter on class, platform or
language is applied after reading the pack (the pack holds every class of its day and cell). Exact, unlike a
sketch (AMS for ``Σ W_v²``, HyperLogLog for authors): the answers equal the raw query's
(tests/answers/test_rollup_equivalence.py).

Format: a numpy structured array (:data:`DTYPES`, little-endian) as bytes; class, platform and language as
one-byte codes into the pack's own vocabulary (JSON, stored beside the bytes). Everything here is a pure function.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

Kind = Literal["accounts", "posts"]
CODES = [("segment", "u1"), ("platform", "u1"), ("language", "u1")]
DTYPES: dict[str, np.dtype[Any]] = {
    "accounts": np.dtype(
        [("voice_key", "<i8"), ("identity_id", "<i8"), ("weight_sum", "<f8"), ("unweighted", "<i4"), *CODES]
    ),
    "posts": np.dtype([("post_id", "<i8"), ("p_negative", "<f8"), ("p_positive", "<f8"), ("weight", "<f8"), *CODES]),
}
"""``accounts``: one account's posts of the day and cell: its voice (the customer's id when linked, else minus the
account's id), the sum of the known weights and how many posts have no weight yet. ``posts``: one post, its
negative and positive probability and its weight (NaN: none yet). Both with the codes of class, platform and
language."""
CODED = tuple(name for name, _ in CODES)
MAX_CODES = 256

Int64 = npt.NDArray[np.int64]
Float64 = npt.NDArray[np.float64]


class PackError(ValueError):
    """A pack that cannot be written or read (a vocabulary over 256 values, bytes of the wrong length)."""


@dataclass(frozen=True)
class AccountRow:
    """What one account contributed to one day and cell (the input of :func:`pack` for ``accounts``)."""

    voice_key: int
    identity_id: int
    segment: str
    platform: str
    language: str
    weight_sum: float
    unweighted: int


@dataclass(frozen=True)
class PostRow:
    """One post of a day and cell (the input of :func:`pack` for ``posts``)."""

    post_id: int
    segment: str
    platform: str
    language: str
    p_negative: float
    p_positive: float
    weight: float | None


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

    def matching(
        self, classes: Sequence[str] = (), platforms: Sequence[str] = (), languages: Sequence[str] = ()
    ) -> Pack:
        """The rows whose class, platform and language are among the given ones (empty: any)."""
        keep = np.ones(len(self.rows), dtype=bool)
        for column, wanted in (("segment", classes), ("platform", platforms), ("language", languages)):
            if wanted:
                keep &= self.codes(column, wanted)
        return self if keep.all() else Pack(self.rows[keep], self.vocab)


def pack(kind: Kind, rows: Sequence[AccountRow] | Sequence[PostRow]) -> tuple[str, bytes]:
    """The vocabulary (JSON) and bytes of ``rows`` (:class:`AccountRow` for ``accounts``, :class:`PostRow` for
    ``posts``)."""
    dtype = DTYPES[kind]
    out = np.zeros(len(rows), dtype=dtype)
    for column in dtype.names or ():
        if column not in CODED:
            values = [getattr(row, column) for row in rows]
            out[column] = [np.nan if v is None else v for v in values] if column == "weight" else values
    vocab: dict[str, dict[str, int]] = {}
    for column in CODED:
        names = vocab[column] = {}
        codes = [names.setdefault(getattr(row, column), len(names)) for row in rows]
        if len(names) > MAX_CODES:
            raise PackError(f"Ein Rollup-Paket hat {len(names)} Werte in {column!r} (höchstens {MAX_CODES}).")
        out[column] = codes
    return json.dumps({column: list(names) for column, names in vocab.items()}), out.tobytes()


def unpack(kind: str, vocab: str, data: bytes | memoryview) -> Pack:
    """The pack written by :func:`pack` (``data`` as the database returns it: bytes or a memoryview)."""
    raw = bytes(data) if isinstance(data, memoryview) else data
    dtype = DTYPES.get(kind)
    if dtype is None or len(raw) % dtype.itemsize:
        raise PackError(
            f"Ein Rollup-Paket der Art {kind!r} hat {len(raw)} Bytes, das passt nicht zu seinem Format: "
            "`resonanz db rebuild-rollups` baut die Rollups neu."
        )
    names = json.loads(vocab)
    return Pack(np.frombuffer(raw, dtype=dtype), {column: list(names.get(column, [])) for column in CODED})


@dataclass(frozen=True)
class _ByVoice:
    """Rows sorted by (group, voice): ``order`` (row numbers in that order) and ``key`` (per sorted row one
    ascending number per (group, voice); ``key >> group_shift`` is the group)."""

    order: Int64
    key: Int64
    group_shift: int


def _by_group_and_voice(groups: Int64, voice_keys: Int64) -> _ByVoice | None:
    """The rows sorted by (group, voice) with one ``np.sort`` of a 64-bit number per row: group, voice (less the
    smallest) and row number side by side, each in as many bits as its largest value needs. None when the three
    do not fit 63 bits (the caller sorts with ``lexsort``).

    Why not ``argsort``: numpy sorts 64-bit numbers with SIMD but ``argsort`` does not; for 1.5 million rows here
    ``argsort`` took 198 ms, ``sort`` 26 ms. The row number in the low bits gives the order back."""
    n = len(groups)
    if not n or int(groups.min()) < 0:
        return None
    low = int(voice_keys.min())
    voice_bits = (int(voice_keys.max()) - low).bit_length()
    row_bits = max(1, (n - 1).bit_length())
    if int(groups.max()).bit_length() + voice_bits + row_bits > 63:
        return None
    packed = (groups << (voice_bits + row_bits)) | ((voice_keys - low) << row_bits) | np.arange(n, dtype=np.int64)
    packed.sort()
    return _ByVoice(packed & ((1 << row_bits) - 1), packed >> row_bits, voice_bits)


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


def _starts(ordered: Int64) -> npt.NDArray[np.bool_]:
    """Where a new value starts in sorted ``ordered``."""
    new = np.ones(len(ordered), dtype=bool)
    new[1:] = ordered[1:] != ordered[:-1]
    return new


def _key_range(keys: Int64) -> tuple[int, int]:
    """The smallest key and how many keys lie from it to the largest (the width of an array counting them)."""
    low = int(keys.min())
    return low, int(keys.max()) - low + 1


DENSE_CELLS = 1 << 21
"""The most (group, voice) cells :func:`weight_squares` counts in an array instead of sorting (each cell 16 bytes
while counting: 32 MB)."""


def weight_squares(groups: Int64, voice_keys: Int64, weights: Float64) -> dict[int, tuple[int, float]]:
    """Per group: how many distinct voices it has and ``Σ_v W_v²``, ``W_v`` the sum of the voice's ``weights`` in
    the group. E.g. groups [0, 0, 1], voices [7, 7, 7], weights [1, 2, 5] -> {0: (1, 9.0), 1: (1, 25.0)}.

    Few groups (e.g. the whole span, or per class), with voices from a range of keys small enough that groups x
    keys fit :data:`DENSE_CELLS`: each (group, voice)'s sum is counted into an array with ``bincount``, no sort
    (a million rows, 250,000 keys: about 10 ms instead of 70). Otherwise one sort (:func:`_by_group_and_voice`).
    Both add a voice's weights in the order of the rows. numpy's ``unique`` is not used: it hashes without
    ``return_inverse`` (1.2 s for a million keys here, a sort takes 0.03 s)."""
    if not len(groups):
        return {}
    low, keys = _key_range(voice_keys)
    group_count = int(groups.max()) + 1
    if int(groups.min()) >= 0 and group_count * keys <= DENSE_CELLS:
        cell = groups * keys + (voice_keys - low)
        rows = np.bincount(cell, minlength=group_count * keys).reshape(group_count, keys)
        per_voice = np.bincount(cell, weights=weights, minlength=group_count * keys).reshape(group_count, keys)
        voices, squares = np.count_nonzero(rows, axis=1), np.einsum("gv,gv->g", per_voice, per_voice)
        return {g: (int(voices[g]), float(squares[g])) for g in np.flatnonzero(voices).tolist()}
    ranked = _by_group_and_voice(groups, voice_keys)
    if ranked is not None:
        order, new = ranked.order, _starts(ranked.key)
        group_of = ranked.key[new] >> ranked.group_shift  # sorted
    else:
        order, new = _first_of_runs(groups, voice_keys)
        group_of = groups[order][new]  # sorted
    per_voice = np.bincount(np.cumsum(new) - 1, weights=weights[order])
    first = _starts(group_of)
    index = np.cumsum(first) - 1
    voices = np.bincount(index)
    squares = np.bincount(index, weights=per_voice * per_voice)
    return {int(g): (int(n), float(s)) for g, n, s in zip(group_of[first], voices, squares, strict=True)}


def heads(groups: Int64, voice_keys: Int64, identity_ids: Int64) -> dict[int, tuple[int, int]]:
    """Per group: its authors (distinct (voice, account) pairs) and customers (distinct voices with a positive
    key, i.e. linked to a customer). E.g. groups [0, 0, 0], voices [5, 5, -3], accounts [1, 2, 3] -> {0: (3, 1)}.

    When every account has one voice (as the rollups write them) and groups x accounts and groups x voices fit
    :data:`DENSE_CELLS`, both are counted in arrays (:func:`_dense_heads`); otherwise by sorting."""
    if not len(groups):
        return {}
    dense = _dense_heads(groups, voice_keys, identity_ids)
    if dense is not None:
        return dense
    ranked = _by_group_and_voice(groups, voice_keys)
    if ranked is None or identity_ids.min() < 0 or identity_ids.max() >= 1 << 32 or len(groups) >= 1 << 31:
        order, new = _first_of_runs(groups, voice_keys, identity_ids)
        pair_groups = groups[order][new]
        key_order, key_new = _first_of_runs(groups, voice_keys)
        customer_groups = groups[key_order][key_new & (voice_keys[key_order] > 0)]
    else:  # a sort of (group, voice), then of (its rank, account): 64-bit keys both
        new = _starts(ranked.key)
        pairs = np.sort(((np.cumsum(new) - 1) << 32) | identity_ids[ranked.order])
        firsts = ranked.key[new]
        pair_groups = firsts[pairs[_starts(pairs)] >> 32] >> ranked.group_shift
        customer_groups = firsts[voice_keys[ranked.order][new] > 0] >> ranked.group_shift
    first = _starts(pair_groups)  # sorted by group in both ways
    found = pair_groups[first]
    authors = np.bincount(np.cumsum(first) - 1)
    customers = np.bincount(np.searchsorted(found, customer_groups), minlength=len(found))
    return {int(g): (int(a), int(c)) for g, a, c in zip(found, authors, customers, strict=True)}


def _dense_heads(groups: Int64, voice_keys: Int64, identity_ids: Int64) -> dict[int, tuple[int, int]] | None:
    """:func:`heads` counted in arrays, or None where that does not apply: an account with several voices (its
    pairs are then no longer its groups' accounts), negative groups, or too many cells. A million rows in five
    groups: 35-80 ms instead of about 130 (profiled)."""
    group_count = int(groups.max()) + 1
    low_id, ids = _key_range(identity_ids)
    low_voice, voices = _key_range(voice_keys)
    if int(groups.min()) < 0 or group_count * max(ids, voices) > DENSE_CELLS:
        return None
    account = identity_ids - low_id
    least, most = np.full(ids, voices, dtype=np.int64), np.full(ids, -1, dtype=np.int64)
    np.minimum.at(least, account, voice_keys - low_voice)
    np.maximum.at(most, account, voice_keys - low_voice)
    if bool(((least != most) & (most >= 0)).any()):  # an account with rows under two voices
        return None
    authors = np.count_nonzero(
        np.bincount(groups * ids + account, minlength=group_count * ids).reshape(group_count, ids), axis=1
    )
    linked = voice_keys > 0
    cells = groups[linked] * voices + (voice_keys[linked] - low_voice)
    customers = np.count_nonzero(
        np.bincount(cells, minlength=group_count * voices).reshape(group_count, voices), axis=1
    )
    return {g: (int(authors[g]), int(customers[g])) for g in np.flatnonzero(authors).tolist()}


@dataclass
class Standing:
    """Every linked account's customer and class as the answers see them now (accounts not in it are prospects),
    for comparing with what the packs hold (:func:`drifted`)."""

    identity_ids: Int64
    customer_ids: Int64
    segments: Int64
    numbering: dict[str, int]

    @classmethod
    def of(cls, mapping: Mapping[int, tuple[int, str]]) -> Standing:
        """From identity -> (customer, class)."""
        numbering: dict[str, int] = {"prospect": 0}
        ids = np.array(sorted(mapping), dtype=np.int64)
        customers = np.array([mapping[i][0] for i in ids.tolist()], dtype=np.int64)
        segments = np.array([numbering.setdefault(mapping[i][1], len(numbering)) for i in ids.tolist()], dtype=np.int64)
        return cls(ids, customers, segments, numbering)


def drifted(pack: Pack, now: Standing) -> Int64:
    """The accounts of an ``accounts`` pack whose customer or class is not the one in ``now`` any more. E.g. a
    pack row (account 4, voice -4, prospect) drifted once account 4 is linked to customer 9."""
    rows = pack.rows
    ids = rows["identity_id"].astype(np.int64)
    if not len(ids):
        return ids
    stored_customer = np.where(rows["voice_key"] > 0, rows["voice_key"], 0)
    stored_segment = pack.mapped("segment", now.numbering)
    if not len(now.identity_ids):
        return np.asarray(ids[(stored_customer != 0) | (stored_segment != now.numbering["prospect"])], dtype=np.int64)
    at = np.minimum(np.searchsorted(now.identity_ids, ids), len(now.identity_ids) - 1)
    known = now.identity_ids[at] == ids
    customer = np.where(known, now.customer_ids[at], 0)
    segment = np.where(known, now.segments[at], now.numbering["prospect"])
    return np.asarray(ids[(customer != stored_customer) | (segment != stored_segment)], dtype=np.int64)
