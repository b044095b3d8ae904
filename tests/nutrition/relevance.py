"""Search relevance over the labelled queries in `data/search_relevance.json`: hit@3 (the share of
queries with an expected food among the first three results) and MRR (the mean over queries of
1 / the rank of the first expected food in the first `DEPTH` results, 0 when none is there).

Shared by the relevance test and the bench (`bench/search.py`), so both report the same figures.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

LABELS = Path(__file__).resolve().parent / "data" / "search_relevance.json"
DEPTH = 20
# The floor the relevance test holds (test_search_relevance.py), reported by the bench too.
HIT_AT_3_FLOOR = 0.96
MRR_FLOOR = 0.87


@dataclass(frozen=True)
class Labelled:
    query: str
    kind: str
    expected: frozenset[str]  # NDB numbers


@dataclass
class Report:
    queries: int = 0
    hits_at_3: int = 0
    reciprocal_ranks: float = 0.0
    ranks: dict[str, int | None] = field(default_factory=dict)  # query: rank of the first expected food

    @property
    def hit_at_3(self) -> float:
        return self.hits_at_3 / self.queries if self.queries else 0.0

    @property
    def mrr(self) -> float:
        return self.reciprocal_ranks / self.queries if self.queries else 0.0

    def misses(self) -> dict[str, int | None]:
        return {query: rank for query, rank in self.ranks.items() if rank is None or rank > 3}

    def summary(self) -> str:
        return f"hit@3 {self.hit_at_3:.3f}, MRR {self.mrr:.3f} over {self.queries} queries"


def load_labels(path: Path = LABELS) -> list[Labelled]:
    document = json.loads(path.read_text(encoding="utf-8"))
    return [
        Labelled(query=entry["query"], kind=entry["kind"], expected=frozenset(entry["expected"]))
        for entry in document["queries"]
    ]


def evaluate(search: Callable[[str], list[str]], labels: list[Labelled]) -> Report:
    """`search(query)` gives the NDB numbers (source ids) of the results, best first."""
    report = Report()
    for label in labels:
        results = search(label.query)[:DEPTH]
        rank = next((index for index, ndb in enumerate(results, start=1) if ndb in label.expected), None)
        report.queries += 1
        report.ranks[label.query] = rank
        if rank is not None:
            report.reciprocal_ranks += 1 / rank
            report.hits_at_3 += rank <= 3
    return report
