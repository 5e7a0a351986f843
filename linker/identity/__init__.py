"""Identity linking: which CRM customer (if any) wrote a social post.

Deterministic keys first (an e-mail, phone or profile URL the CRM knows), then a Fellegi-Sunter
model scored with Splink on names, places and handles, then one decision per identity. Entry
point: :func:`linker.identity.pipeline.link_records` on plain :mod:`linker.identity.records`.
Never imports :mod:`linker.value` (an import-linter contract keeps the two apart).
"""
