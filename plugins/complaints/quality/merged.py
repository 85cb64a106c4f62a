"""Recorded results of a day that came in batches: each batch's results summed into the day's.

``recorded.record_suite`` gives one result per expectation for one batch. ``DayResults`` adds
them up over the day's batches: element, missing and unexpected counts are summed, the first
``PARTIAL_LIMIT`` unexpected values are kept with their positions in the day's rows, and the
schema-level results (column exists, column type) are the first batch's (every batch has the
same mapped schema). ``set_rule`` replaces a rule's unexpected rows by day-level ones (the key
rule, decided over all batches). ``results`` gives the same dicts ``record_suite`` would on the
whole day at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from complaints.quality.recorded import PARTIAL_LIMIT, row_result


@dataclass
class _Counts:
    n: int = 0
    count: int = 0
    missing: int | None = None
    values: list = field(default_factory=list)
    where: list[int] = field(default_factory=list)

    def add(self, result: dict, offset: int) -> None:
        self.n += result["element_count"]
        self.count += result["unexpected_count"]
        if "missing_count" in result:
            self.missing = (self.missing or 0) + result["missing_count"]
        room = PARTIAL_LIMIT - len(self.values)
        self.values += result["partial_unexpected_list"][:room]
        self.where += [i + offset for i in result["partial_unexpected_index_list"][:room]]


class DayResults:
    def __init__(self) -> None:
        self._first: dict[str, list[dict]] = {}
        self._counts: dict[tuple[str, int], _Counts] = {}

    def add(self, suite: str, results: list[dict], offset: int) -> None:
        """One batch's results of ``suite``; ``offset``: the batch's first row position."""
        self._first.setdefault(suite, results)
        for i, res in enumerate(results):
            if "element_count" in res["result"]:
                self._counts.setdefault((suite, i), _Counts()).add(res["result"], offset)

    def set_rule(self, rule: str, count: int, values: list, where: list[int]) -> None:
        """The day's unexpected rows of ``rule``: their number, first values and positions."""
        for (suite, i), counts in self._counts.items():
            if self._first[suite][i]["meta"].get("rule") == rule:
                counts.count = count
                counts.values = values[:PARTIAL_LIMIT]
                counts.where = where[:PARTIAL_LIMIT]

    def results(self, suite: str) -> list[dict]:
        out = []
        for i, res in enumerate(self._first[suite]):
            counts = self._counts.get((suite, i))
            if counts is not None:
                result = row_result(
                    counts.n, counts.count, counts.missing, counts.values, counts.where
                )
                res = dict(res, success=counts.count == 0, result=result)
            out.append(res)
        return out
