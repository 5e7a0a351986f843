"""Deterministic linking: an identifier the CRM already knows appears on the social profile.

Identifiers are e-mail addresses and phone numbers (found in the bio) and handles or profile URLs
(the identity's own handle, profile URL and account id, plus links in its bio), compared as
normalised keys (:mod:`linker.identity.handles`). Outcomes:

* a key shared with exactly one customer -> auto link, probability 1.0;
* a key shared with several customers (a family e-mail, a shop's phone) -> every one of them goes to
  review with probability 1/k, whatever the thresholds (a human picks the right one);
* only a *bare* CRM handle ("@max", platform unknown) equals the identity's user name -> review with
  probability :data:`WEAK_HANDLE_PROBABILITY` (0.8, shared among several candidates), never auto: the
  same user name on another platform is often somebody else.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from linker.identity.evidence import text
from linker.identity.handles import WEAK_PREFIX, handle_keys, local_name, url_keys
from linker.identity.normalise import emails_in, normalise_email, normalise_phone, phones_in, urls_in
from linker.identity.records import AUTO, PENDING, CustomerRecord, IdentityRecord, LinkDecision, LinkThresholds

WEAK_HANDLE_PROBABILITY = 0.8
_METHOD_ORDER = ("email", "phone", "handle", "profile_url")
_CRM_LABEL = {"email": text("crm_email"), "phone": text("crm_phone"), "handle": text("crm_handle"),
              "profile_url": text("crm_profile_url")}  # fmt: skip


@dataclass(frozen=True, slots=True)
class KeySource:
    customer_id: int
    field: str
    raw: str


def customer_keys(customer: CustomerRecord) -> dict[str, KeySource]:
    """Every identifier key of a customer, with the CRM field and value it came from."""
    keys: dict[str, KeySource] = {}
    cid = customer.customer_id
    for raw in customer.emails:
        email = normalise_email(raw)
        if email:
            keys.setdefault("email:" + email, KeySource(cid, "email", raw))
    for raw in customer.phones:
        phone = normalise_phone(raw)
        if phone:
            keys.setdefault("phone:" + phone, KeySource(cid, "phone", raw))
    for raw in customer.handles:
        for key in handle_keys(raw):
            keys.setdefault(key, KeySource(cid, "handle", raw))
    for raw in customer.profile_urls:
        for key in url_keys(raw):
            keys.setdefault(key, KeySource(cid, "profile_url", raw))
    return keys


def identity_keys(identity: IdentityRecord) -> dict[str, str]:
    """Every identifier key of an identity -> the raw value it was read from (for the evidence)."""
    keys: dict[str, str] = {}
    for key in handle_keys(identity.handle, identity.platform):
        keys.setdefault(key, identity.handle or "")
    if identity.profile_url:
        for key in url_keys(identity.profile_url):
            keys.setdefault(key, identity.profile_url)
    account = identity.account_id or ""
    if account.startswith(("http://", "https://", "did:")):
        for key in handle_keys(account, identity.platform):
            keys.setdefault(key, account)
    elif identity.platform.lower() == "youtube" and account.startswith("UC"):
        keys.setdefault("youtube:channel:" + account.lower(), account)
    for email in emails_in(identity.bio):
        keys.setdefault("email:" + email, email)
    for phone in phones_in(identity.bio):
        keys.setdefault("phone:" + phone, phone)
    for url in urls_in(identity.bio):
        for key in url_keys(url):
            keys.setdefault(key, url)
    for key in list(keys):
        user = local_name(key)
        if user:
            keys.setdefault(WEAK_PREFIX + user, user)
    return keys


class KeyIndex:
    """key -> the customers that carry it; built once per run."""

    def __init__(self, customers: Iterable[CustomerRecord]) -> None:
        self._index: dict[str, list[KeySource]] = {}
        for customer in customers:
            for key, source in customer_keys(customer).items():
                self._index.setdefault(key, []).append(source)

    def lookup(self, key: str) -> list[KeySource]:
        return self._index.get(key, [])


def _evidence(key: str, found: str, source: KeySource, identity: IdentityRecord) -> str:
    kind = key.partition(":")[0]
    label = _CRM_LABEL[source.field]
    if kind == "email":
        return text("key_email", found=found, platform=identity.platform, label=label, raw=source.raw)
    if kind == "phone":
        return text("key_phone", found=found, label=label, raw=source.raw)
    if key.startswith(WEAK_PREFIX):
        return text("key_weak_handle", found=found, label=label, raw=source.raw)
    return text("key_account", platform=identity.platform, found=found, label=label, raw=source.raw)


def deterministic_links(
    customers: Sequence[CustomerRecord],
    identities: Sequence[IdentityRecord],
    thresholds: LinkThresholds | None = None,
    excluded: frozenset[tuple[int, int]] = frozenset(),
    index: KeyIndex | None = None,
) -> dict[int, list[LinkDecision]]:
    """identity id -> its deterministic link decisions (only identities with at least one key match).

    ``excluded`` holds (identity, customer) pairs a human has rejected; they are never proposed.
    """
    thresholds = thresholds or LinkThresholds()
    index = index or KeyIndex(customers)
    result: dict[int, list[LinkDecision]] = {}
    for identity in identities:
        strong: dict[int, list[tuple[str, str, KeySource]]] = {}
        weak: dict[int, list[tuple[str, str, KeySource]]] = {}
        for key, found in identity_keys(identity).items():
            for source in index.lookup(key):
                if (identity.identity_id, source.customer_id) in excluded:
                    continue
                target = weak if key.startswith(WEAK_PREFIX) else strong
                target.setdefault(source.customer_id, []).append((key, found, source))
        matches, probability = (strong, 1.0) if strong else (weak, WEAK_HANDLE_PROBABILITY)
        if not matches:
            continue
        decisions: list[LinkDecision] = []
        share = probability / len(matches)
        for cid, hits in sorted(matches.items()):
            hits.sort(key=lambda h: _METHOD_ORDER.index(h[2].field))
            evidence = []
            seen_values: set[str] = set()
            for key, found, source in hits:  # one line per CRM value (a URL yields several keys)
                if source.raw not in seen_values:
                    seen_values.add(source.raw)
                    evidence.append(_evidence(key, found, source, identity))
            if len(matches) > 1:
                evidence.append(text("key_ambiguous", n=len(matches)))
            if strong:
                status = AUTO if len(matches) == 1 else PENDING
            else:
                status = thresholds.status(share)
                status = PENDING if status == AUTO else status
            decisions.append(
                LinkDecision(identity.identity_id, cid, hits[0][2].field, round(share, 4), status, evidence)
            )
        result[identity.identity_id] = decisions
    return result
