"""Signals for the apps that follow disclosure items without belonging to the procedure
(search, feeds): STYLE 4 — signals only connect apps that should not know each other."""

from __future__ import annotations

from django.dispatch import Signal

# Sent at the end of every step (`actions._done`), inside the step's transaction and after
# the item and its audience keys are saved, with `item=` the Disclosure. A receiver that
# raises rolls the whole step back: nothing is half-done.
disclosure_changed = Signal()
