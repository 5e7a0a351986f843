"""The web app: the community managers' review queue, the dashboard, ``ask`` and the digest archive."""

from __future__ import annotations

from resonanz.web.app import create_app

__all__ = ["create_app"]
