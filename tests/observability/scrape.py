"""Reading /metrics as Prometheus does: the text parser, then sample values by name and labels."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample


class Scrape:
    """One answer of /metrics, parsed."""

    def __init__(self, text: str) -> None:
        self.samples = [s for f in text_string_to_metric_families(text) for s in f.samples]

    def value(self, name: str, **labels: str) -> float:
        """The sum of the samples `name` whose labels include `labels` (0 for none)."""
        return sum(
            s.value
            for s in self.samples
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
        )

    def of(self, name: str) -> Iterator[Sample]:
        return (s for s in self.samples if s.name == name)

    def label_values(self) -> set[str]:
        return {value for s in self.samples for value in s.labels.values()}

    def names(self) -> set[str]:
        return {s.name for s in self.samples}


def moved(before: Scrape, after: Scrape, name: str, **labels: str) -> float:
    return after.value(name, **labels) - before.value(name, **labels)
