"""A least-recently-used cache bounded by the bytes it holds."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable


class BytesLRU:
    """Maps keys to byte strings, forgetting the least recently used past ``budget`` bytes.

    Keys carry a resource's etag, so an entry never goes stale: a write gives the
    resource a new etag and the old entry simply ages out.
    """

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.size = 0
        self._entries: OrderedDict[Hashable, bytes] = OrderedDict()

    def get(self, key: Hashable) -> bytes | None:
        value = self._entries.get(key)
        if value is not None:
            self._entries.move_to_end(key)
        return value

    def put(self, key: Hashable, value: bytes) -> None:
        if len(value) > self.budget // 8:
            return  # one huge representation must not flush everything else
        old = self._entries.pop(key, None)
        self.size += len(value) - (len(old) if old is not None else 0)
        self._entries[key] = value
        while self.size > self.budget:
            _, evicted = self._entries.popitem(last=False)
            self.size -= len(evicted)

    def __len__(self) -> int:
        return len(self._entries)
