"""Who may build a synthetic province: only the operator, from the command line.

Synthetic data fills the real tables; it is for load tests and benchmarks on a database of
its own, never something a signed-in person can trigger.
"""

from __future__ import annotations

from typing import Any


def can_generate(actor: Any) -> bool:
    """The operator's own command (actor None) and nobody else."""
    return actor is None
