"""What a run will ask of memory, estimated from its recipe before anything loads, and refused when it cannot fit.

Each recipe value has bounds (:mod:`suite.core.config`), but some costs are products of values
that are each within bounds: images x pixels, batch x length x length, batch x length x
vocabulary. A domain that knows such a product declares it (:class:`suite.core.registry.
EstimatesMemory`); :func:`check` compares each estimate with the memory this machine has and
refuses, in one line naming the keys to lower, the run that would fail later in an allocator
(or, worse, push the machine into swap). The estimates are coarse on purpose: they catch the
value that is a thousand times too large, not the one that is 10% too large.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from suite.core import registry
from suite.core.errors import RecipeError

if TYPE_CHECKING:
    from suite.core.recipe import Recipe

FLOAT32 = 4


@dataclass(frozen=True)
class MemoryNeed:
    """One product a run will hold in memory at once: ``bytes`` of it, ``what`` it is, and the recipe ``keys``
    whose product it is (the ones to lower)."""

    bytes: float
    what: str
    keys: tuple[str, ...]


def transformer_batch(batch: int, length: int, *, layers: int = 6, heads: int = 12, width: int = 384) -> float:
    """Bytes of a transformer encoder's activations for one training batch: every layer's attention scores
    (batch x heads x length x length) and hidden states (batch x length x width x ~16), kept for the backward
    pass. The defaults are the bundled MiniLM's; a larger model needs more, so this is a floor."""
    per_layer = batch * heads * length * length * 2 + batch * length * width * 16
    return float(per_layer * layers * FLOAT32)


def available_bytes() -> int:
    """The memory this machine can give a new process now: ``MemAvailable`` on Linux, else the physical memory."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 2 ** 62          # unknown: nothing is refused


def check(domain: registry.Domain, recipe: Recipe, *, available: int | None = None) -> None:
    """Refuse a recipe one of whose memory needs is larger than what this machine has.

    Args:
        available: bytes to compare with (default: :func:`available_bytes`).

    Raises:
        RecipeError: one line: what would not fit, about how much it needs and has, and the keys to lower.
    """
    if not isinstance(domain, registry.EstimatesMemory):
        return
    available = available_bytes() if available is None else available
    for need in domain.memory_needs(recipe):
        if need.bytes > available:
            raise RecipeError(f"{recipe.origin}: {need.what} would need about {_size(need.bytes)} of memory at once, "
                              f"more than the {_size(available)} this machine has free; lower "
                              f"{' or '.join(need.keys)}")


def _size(n: float) -> str:
    for unit, scale in (("TiB", 2 ** 40), ("GiB", 2 ** 30), ("MiB", 2 ** 20)):
        if n >= scale:
            return f"{n / scale:,.1f} {unit}"
    return f"{n / 1024:,.0f} KiB"
