"""Group commit: writes queued while a commit is under way are committed together by the next one."""
from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


def _settle(future: asyncio.Future, result: Any = None, exception: BaseException | None = None) -> None:
    """Resolves a waiter's future unless the waiter gave up (was cancelled) meanwhile."""
    if future.done():
        return
    if exception is not None:
        future.set_exception(exception)
    else:
        future.set_result(result)


class GroupCommit(Generic[Item, Result]):
    """Queues items and commits them in batches with ``commit`` (one result per item, in order).

    One flusher task at a time commits everything queued, batch after batch, under ``lock``; every
    waiter of a batch is woken at once. If a batch fails, its items are retried one by one, so one
    bad write never fails another.
    """

    def __init__(self, lock: asyncio.Lock, commit: Callable[[list[Item]], Awaitable[list[Result]]]):
        self.lock, self.commit = lock, commit
        self._pending: list[tuple[Item, asyncio.Future]] = []
        self._flusher: asyncio.Task | None = None

    async def submit(self, item: Item) -> Result:
        """Queues ``item`` for the next group commit and waits for its result."""
        future: asyncio.Future = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        return await future

    async def close(self) -> None:
        if self._flusher is not None:
            await asyncio.gather(self._flusher, return_exceptions=True)

    async def _flush(self) -> None:
        batch: list[tuple[Item, asyncio.Future]] = []
        try:
            async with self.lock:
                while self._pending:
                    batch, self._pending = self._pending, []
                    await self._commit(batch)
        finally:
            for _, future in batch:  # cancelled part-way (shutdown): release the waiters
                if not future.done():
                    future.cancel()

    async def _commit(self, batch: list[tuple[Item, asyncio.Future]]) -> None:
        try:
            results = await self.commit([item for item, _ in batch])
        except Exception as exc:
            if len(batch) == 1:
                _settle(batch[0][1], exception=exc)
                return
            for item, future in batch:
                try:
                    _settle(future, (await self.commit([item]))[0])
                except Exception as single:
                    _settle(future, exception=single)
            return
        for (_, future), result in zip(batch, results):
            _settle(future, result)
