"""Errors a person must act on, with messages in plain words (shown as they are on pages and
by the command line, never as a traceback)."""

from __future__ import annotations


class StoreError(RuntimeError):
    """The store cannot be used as it is: unreachable, or its schema is not the one this
    release expects. The message says what is wrong and what to do."""
