"""Errors raised by domain actions. Messages are Chinese: they are shown to people as-is."""

from __future__ import annotations


class ActionError(Exception):
    """The action cannot be done in the current state or with this input; nothing changed."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotAllowed(ActionError):
    """The actor has no right to do this."""
