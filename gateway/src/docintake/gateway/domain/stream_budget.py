"""How many live progress streams may be open at once: per API key and in all."""

from collections import Counter

from docintake.gateway.domain.refusals import TooManyStreams


class StreamBudget:
    def __init__(self, per_key: int, in_all: int):
        self.per_key, self.in_all = per_key, in_all
        self._open: Counter[str] = Counter()

    def take(self, key: str) -> None:
        """Count one more stream of `key`; raises TooManyStreams past either limit."""
        if self._open[key] >= self.per_key:
            raise TooManyStreams(self.per_key, "for this API key")
        if self._open.total() >= self.in_all:
            raise TooManyStreams(self.in_all, "in all")
        self._open[key] += 1

    def give_back(self, key: str) -> None:
        self._open[key] -= 1
        if self._open[key] <= 0:
            del self._open[key]
