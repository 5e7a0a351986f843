"""Exceptions raised by the store. Messages say what to do."""


class StoreError(Exception):
    """Base class for all store errors."""


class DatabaseUnavailableError(StoreError):
    """The database cannot be reached or opened."""


class MigrationError(StoreError):
    """The schema could not be created or upgraded."""
