"""Micro-batching: concurrent requests that arrive within ``max_wait_ms`` share one predictor call.

Every request becomes one or more queue items (a request longer than ``max_batch`` is cut
into chunks). One asyncio task takes the oldest item, waits up to ``max_wait_ms`` for
more with the same options, and hands at most ``max_batch`` inputs to ``run_batch`` on a
single worker thread, so the predictor is never called from two threads at once. While
a batch runs, new requests queue up and form the next batch: under load batches grow
without any waiting. If a merged batch fails with a :class:`SuiteError` (one request's
unknown user, say), each of its requests runs again alone, so only the bad one fails.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from suite.core.errors import SuiteError


@dataclass
class _Item:
    inputs: list
    options: dict
    key: tuple
    future: asyncio.Future


@dataclass
class BatchStats:
    """What the batcher formed so far (``GET /stats``)."""

    requests: int = 0
    inputs: int = 0
    batches: int = 0
    in_flight: int = 0
    queued: int = 0          # inputs waiting for a batch, or in the running one
    dropped: int = 0         # requests whose client left before their answer
    batch_sizes: collections.Counter = field(default_factory=collections.Counter)

    def to_dict(self) -> dict:
        sizes = {str(size): count for size, count in sorted(self.batch_sizes.items())}
        return {"requests": self.requests, "inputs": self.inputs, "batches": self.batches,
                "in_flight": self.in_flight, "queued": self.queued, "dropped": self.dropped, "batch_sizes": sizes,
                "largest_batch": max(self.batch_sizes, default=0)}


class MicroBatcher:
    """Merge concurrent ``submit`` calls into batched ``run_batch(inputs, options)`` calls.

    Args:
        run_batch: a blocking function returning one result per input, in order.
        max_batch: most inputs per call (1 turns batching off).
        max_wait_ms: how long the oldest waiting request waits for company.

    Example:
        >>> batcher = MicroBatcher(lambda xs, opts: [x * 2 for x in xs], max_batch=8, max_wait_ms=5)
        >>> # inside the event loop: batcher.start(); await batcher.submit([1, 2], {}) -> [2, 4]
    """

    def __init__(self, run_batch: Callable[[list, dict], list], *, max_batch: int, max_wait_ms: float):
        if max_batch < 1 or max_wait_ms < 0:
            raise ValueError(f"max_batch must be >= 1 and max_wait_ms >= 0, got {max_batch}, {max_wait_ms}")
        self.run_batch, self.max_batch, self.max_wait = run_batch, max_batch, max_wait_ms / 1000
        self.stats = BatchStats()
        self.executor = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="suite-predict")
        self._queue: asyncio.Queue | None = None
        self._task: asyncio.Task | None = None
        self._pending: collections.deque[_Item] = collections.deque()

    def start(self) -> None:
        """Start the batching task on the running event loop."""
        self._queue = asyncio.Queue()
        self._task = asyncio.get_running_loop().create_task(self._loop(), name="suite-batcher")

    async def stop(self) -> None:
        """Stop the batching task and the worker thread (after the running batch)."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        self.executor.shutdown(wait=True)

    async def submit(self, inputs: list, options: dict) -> list:
        """Results for ``inputs``, computed in one or more shared batches.

        Raises:
            SuiteError: the predictor rejected this request's inputs.
        """
        loop = asyncio.get_running_loop()
        key = tuple(sorted(options.items()))
        items = [_Item(inputs[i:i + self.max_batch], options, key, loop.create_future())
                 for i in range(0, len(inputs), self.max_batch)]
        self.stats.requests += 1
        self.stats.inputs += len(inputs)
        self.stats.in_flight += 1
        self.stats.queued += len(inputs)
        try:
            for item in items:
                self._queue.put_nowait(item)
            chunks = await asyncio.gather(*(item.future for item in items), return_exceptions=True)
        finally:
            self.stats.in_flight -= 1
            self.stats.queued -= len(inputs)
        for chunk in chunks:
            if isinstance(chunk, BaseException):
                raise chunk
        return [result for chunk in chunks for result in chunk]

    async def _loop(self) -> None:
        while True:
            if not self._pending:
                self._pending.append(await self._queue.get())
            await self._gather_company()
            batch = self._take_batch()
            await self._run(batch)

    async def _gather_company(self) -> None:
        """Move queued items into ``_pending`` until the first one's batch is full or the wait is over."""
        deadline = asyncio.get_running_loop().time() + self.max_wait
        while self._fill() < self.max_batch:
            if not self._queue.empty():
                self._pending.append(self._queue.get_nowait())
                continue
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                return
            try:
                self._pending.append(await asyncio.wait_for(self._queue.get(), remaining))
            except asyncio.TimeoutError:
                return

    def _fill(self) -> int:
        key = self._pending[0].key
        return sum(len(item.inputs) for item in self._pending if item.key == key)

    def _take_batch(self) -> list[_Item]:
        """The oldest item and the later ones with the same options, up to ``max_batch`` inputs."""
        first = self._pending.popleft()
        batch, size, keep = [first], len(first.inputs), collections.deque()
        while self._pending:
            item = self._pending.popleft()
            if item.key == first.key and size + len(item.inputs) <= self.max_batch:
                batch.append(item)
                size += len(item.inputs)
            else:
                keep.append(item)
        self._pending = keep
        return [item for item in batch if not item.future.done()]   # a client that left is skipped

    async def _run(self, batch: list[_Item]) -> None:
        if not batch:
            return
        inputs = [x for item in batch for x in item.inputs]
        self.stats.batches += 1
        self.stats.batch_sizes[len(inputs)] += 1
        loop = asyncio.get_running_loop()
        try:
            results = await loop.run_in_executor(self.executor, self.run_batch, inputs, batch[0].options)
            if len(results) != len(inputs):
                raise RuntimeError(f"the predictor returned {len(results)} results for {len(inputs)} inputs")
        except SuiteError as error:
            if len(batch) == 1:
                _settle(batch[0].future, error=error)
                return
            for item in batch:          # find the request at fault: each one alone
                await self._run([item])
            return
        except Exception as error:  # noqa: BLE001 - a bug fails this batch's requests, not the server
            for item in batch:
                _settle(item.future, error=error)
            return
        start = 0
        for item in batch:
            _settle(item.future, result=results[start:start + len(item.inputs)])
            start += len(item.inputs)


def _settle(future: asyncio.Future, *, result: Any = None, error: BaseException | None = None) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)
