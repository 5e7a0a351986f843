"""Scoring candidate (customer, identity) pairs with Splink on DuckDB.

Input: the feature rows of :mod:`linker.identity.features`; output: one :class:`Candidate` per blocked pair
with its match weight (log2 posterior odds, prior included) and the level reached in each
comparison. The model itself (levels, m/u priors, blocking) lives in :mod:`linker.identity.model`.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from linker.errors import ProbabilisticLinkError
from linker.identity.features import add_tf, term_frequencies
from linker.identity.model import CITY_PRIOR_U, LEVEL_NAMES, splink_settings
from linker.identity.namefreq import first_name_share, last_name_share, unlisted_first, unlisted_last

log = logging.getLogger(__name__)

MIN_MATCH_WEIGHT = -12.0
"""Pairs below this (odds < 1:4096) are dropped: they cannot change any decision."""


@dataclass(frozen=True, slots=True)
class Candidate:
    customer_id: int
    identity_id: int
    match_weight: float
    levels: dict[str, str]
    """comparison -> level name ("exact", "nickname", ..., or "null")."""
    bits: dict[str, float]
    """comparison -> its contribution in bits (log2 Bayes factor incl. term-frequency adjustment);
    "contradiction" holds the bits of :mod:`linker.identity.contradictions` once they are applied."""
    contradictions: tuple[str, ...] = ()
    """Evidence against the match found outside the model (German, for the evidence list)."""
    ruled_out: bool = False
    """The profile says it is someone else: the pair is out, whatever its weight."""
    expected_namesakes: float = math.inf
    """How many people are expected to bear the name as far as it matched (see
    :func:`linker.identity.namefreq.expected_namesakes`); unknown counts as many."""


def _level_name(comparison: str, gamma: int) -> str:
    names = LEVEL_NAMES[comparison]
    if gamma < 0:
        return "null"
    return names[len(names) - 1 - gamma]


def score_pairs(
    customer_rows: list[dict[str, Any]],
    identity_rows: list[dict[str, Any]],
    customer_share: float,
    *,
    min_match_weight: float = MIN_MATCH_WEIGHT,
) -> list[Candidate]:
    """All blocked pairs scored by the Fellegi-Sunter model (see :mod:`linker.identity.model`)."""
    if not customer_rows or not identity_rows:
        return []
    import pandas as pd
    import pyarrow as pa  # a dependency of splink
    from splink import DuckDBAPI, Linker

    n = len(customer_rows)
    # (column, prior share, which values leave the customer's own record out); see model.py on "last_rare"
    priors: tuple[tuple[str, Callable[[str], float], Callable[[str], bool] | None], ...] = (
        ("first_name", first_name_share, unlisted_first),
        ("last_name", last_name_share, None),
        ("last_rare", last_name_share, unlisted_last),
        ("city", lambda _v: CITY_PRIOR_U, None),
    )
    for rows in (customer_rows, identity_rows):
        for row in rows:
            row["last_rare"] = row["last_name"]
    for column, prior, loo in priors:
        tf = term_frequencies(customer_rows, column, prior, leave_one_out=loo)
        add_tf(customer_rows, column, tf)
        add_tf(identity_rows, column, tf)

    def frame(rows: Sequence[dict[str, Any]]) -> pd.DataFrame:
        df = pd.DataFrame(list(rows))
        # Typed explicitly: DuckDB infers a column's type from its first rows, and a CRM whose first
        # customers have no e-mail gave "NULL[]", which the contact blocking rule cannot compare.
        key_type = pa.list_(pa.string())
        df["contact_keys"] = pd.Series(
            pa.array([list(k) for k in df["contact_keys"]], type=key_type), dtype=pd.ArrowDtype(key_type)
        )
        for col in df.columns:  # likewise an all-None column (no customer has a two-word family name)
            if col != "contact_keys" and df[col].isna().all():
                df[col] = df[col].astype("float64" if col.startswith("tf_") else "string")
        return df

    try:
        db = DuckDBAPI()
        customers = db.register(frame(customer_rows), dataset_display_name="customers")
        identities = db.register(frame(identity_rows), dataset_display_name="identities")
        linker = Linker([customers, identities], splink_settings(n, customer_share), log_level=logging.WARNING)
        predictions = linker.inference.predict(threshold_match_weight=min_match_weight, warning_mode="never")
        df = predictions.as_pandas_dataframe()  # type: ignore[no-untyped-call]
    except Exception as exc:  # splink and duckdb raise many types
        raise ProbabilisticLinkError(
            f"Splink could not score the candidate pairs: {exc}. Run with --verbose for details; "
            "if DuckDB ran out of memory, link fewer identities per run."
        ) from exc
    candidates: list[Candidate] = []
    comparisons = list(LEVEL_NAMES)
    for row in df.itertuples(index=False):
        rec = row._asdict()
        if rec["source_dataset_l"] == "customers":
            cid, iid = int(rec["unique_id_l"]), int(rec["unique_id_r"])
        else:
            cid, iid = int(rec["unique_id_r"]), int(rec["unique_id_l"])
        levels = {c: _level_name(c, int(rec[f"gamma_{c}"])) for c in comparisons}
        bits = {}
        for c in comparisons:
            value = float(rec[f"mw_{c}"])
            tf_key = f"mw_tf_adj_{c}"
            if tf_key in rec and rec[tf_key] == rec[tf_key]:  # not NaN
                value += float(rec[tf_key])
            bits[c] = value
        candidates.append(Candidate(cid, iid, float(rec["match_weight"]), levels, bits))
    log.debug("probabilistic: %d candidate pairs for %d identities", len(candidates), len(identity_rows))
    return candidates
