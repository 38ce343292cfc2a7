"""Leave-one-set-out selection and ablation verdicts for the story benchmark.

Pure functions over score tables (``table[set][candidate] = B-cubed F1``), so the choice
rule is the same for the baseline's distance cut and for wirehouse's story settings, and
it can be read and tested apart from the runs that fill the tables.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable, Mapping, Sequence
from typing import Any, TypeVar

K = TypeVar("K", bound=Hashable)

# an ablation verdict: the rule must raise the held-out B-cubed F1 of at least this many
# sets and lower none (issue 15), figures compared at the 3 decimals printed
KEEP_MIN_IMPROVED = 3
VERDICT_DECIMALS = 3


def choose(
    table: Mapping[str, Mapping[K, float]],
    held_out: str,
    candidates: Sequence[K],
    training: Sequence[str],
) -> K | None:
    """The candidate with the best mean score over `training` minus `held_out`; ties go
    to the earliest in `candidates` (so order them by preference: the lower cut, the
    shipped settings first). None when no training set is left."""
    train = [s for s in training if s != held_out and s in table]
    if not train or not candidates:
        return None
    best, best_mean = None, -1.0
    for candidate in candidates:
        mean = sum(table[s][candidate] for s in train) / len(train)
        if mean > best_mean:
            best, best_mean = candidate, mean
    return best


def mean_over(table: Mapping[str, Mapping[K, float]], candidate: K, sets: Sequence[str]) -> float:
    return sum(table[s][candidate] for s in sets) / len(sets) if sets else 0.0


@dataclasses.dataclass(frozen=True)
class Verdict:
    keep: bool
    improved: list[str]
    hurt: list[str]

    @property
    def text(self) -> str:
        return "keep" if self.keep else "remove"


def verdict(on: Mapping[str, float], off: Mapping[str, float], sets: Sequence[str]) -> Verdict:
    """Keep a rule when switching it on raises the held-out score of at least
    :data:`KEEP_MIN_IMPROVED` of `sets` and lowers none (at the printed precision)."""
    improved, hurt = [], []
    for s in sets:
        a, b = round(on[s], VERDICT_DECIMALS), round(off[s], VERDICT_DECIMALS)
        if a > b:
            improved.append(s)
        elif a < b:
            hurt.append(s)
    return Verdict(len(improved) >= KEEP_MIN_IMPROVED and not hurt, improved, hurt)


SHORT_NAMES = {
    "threshold": "t",
    "attach_threshold": "a",
    "window_days": "win",
    "small_story": "small",
}


def describe(config: Any, default: Any) -> str:
    """A config as its fields that differ from `default` ("shipped" when none), short."""
    parts = []
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        if value != getattr(default, f.name, None):
            if isinstance(value, float):
                value = f"{value:g}"
            elif isinstance(value, int) and value >= 10**5:
                value = "off"
            parts.append(f"{SHORT_NAMES.get(f.name, f.name)}={value}")
    return " ".join(parts) or "shipped"
