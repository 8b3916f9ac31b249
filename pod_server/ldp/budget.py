"""Bounded CPU work: what one request may cost, and the runner that enforces it.

Three bounds, so that no single request can stall the server for others:

* Nesting depth, checked by a cheap scan *before* any recursive parser sees the body
  (``check_nesting`` for the bracket syntaxes, ``json_depth`` on decoded JSON; RDF/XML
  counts open elements while parsing). Too deep is a 400.
* Solutions of a WHERE clause, counted as they are produced (sparql_update, n3patch).
  Too many is a 422.
* Wall-clock time. Heavy steps run on a small pool of worker threads (``Runner``). At
  the time limit the loop raises an exception inside the job's thread, so an over-long
  parse, evaluation or SHACL validation really stops and unwinds (see ``_Job``). rdflib,
  pyld and pyshacl are pure Python, so no step of theirs escapes it; C parts (expat,
  json, Oxigraph) are linear in the body, whose size is limited. Over time is a 422 (a 503
  when the heavy data was stored, not sent: converting a large document on a GET);
  when every worker is taken and too many jobs already wait, a 503 with Retry-After.

Small bodies whose cost is linear in their size (a 1 KB PUT or PATCH) stay on the event
loop: a thread hop would cost more than the work.
"""

from __future__ import annotations

import asyncio
import ctypes
import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from pod_server.errors import BadRequest, ServiceUnavailable, UnprocessableEntity

if TYPE_CHECKING:
    from pod_server.ldp.process_lane import ProcessLane

T = TypeVar("T")

DEFAULT_MAX_NESTING = 100  # rdflib's parsers overflow Python's stack at a few hundred
DEFAULT_MAX_SOLUTIONS = 10_000
DEFAULT_WORK_SECONDS = 10
DEFAULT_HEAVY_JOBS = 2
INLINE_BYTES = 64 * 1024  # bodies up to this are parsed on the event loop (about 30 ms)
INLINE_TRIPLES = 2_000  # graphs up to this are written out on the event loop
QUEUED_PER_HEAVY_JOB = 32  # heavy steps that may wait per worker before a 503: a
# burst of uploads (a connector posting a year of months at once) waits rather than fails;
# each waits with its body read (at most max_rdf_size), which bounds the memory it holds
RETRY_AFTER_SECONDS = 2


@dataclass(frozen=True, slots=True)
class WorkLimits:
    """The per-request bounds; every field has a safe default."""

    max_nesting: int = DEFAULT_MAX_NESTING  # brackets or elements open at once
    max_solutions: int = DEFAULT_MAX_SOLUTIONS  # WHERE solutions per patch operation
    seconds: float = DEFAULT_WORK_SECONDS  # wall-clock per heavy step
    jobs: int = DEFAULT_HEAVY_JOBS  # heavy steps running at once (per server process)
    queue: int = QUEUED_PER_HEAVY_JOB * DEFAULT_HEAVY_JOBS  # waiting for a worker; beyond: 503
    # Large validated Turtle checked in ``jobs`` worker processes (``process_lane``), not threads
    processes: bool = False

    def __post_init__(self) -> None:
        if min(self.max_nesting, self.max_solutions, self.jobs, self.queue) < 1:
            raise ValueError("work limits must be positive")
        if self.seconds <= 0:
            raise ValueError("the work time limit must be positive")


# --------------------------------------------------------------------------- nesting

# Things inside which brackets do not count, in Turtle, N3, TriG and SPARQL: long and
# short strings, IRIs and comments. An IRI cannot hold whitespace, so "?a < ?b" in a
# SPARQL FILTER is no IRI. Anything the scan misreads can only make it count fewer
# brackets, never more; the parsers still turn a RecursionError into a 400.
_OPAQUE = re.compile(
    r"(?=[\"'<#])"  # cheap test first: most positions start none of these
    r'(?:"""(?:[^"\\]|\\.|"(?!""))*"""'
    r"|'''(?:[^'\\]|\\.|'(?!''))*'''"
    r'|"(?:[^"\\\n\r]|\\.)*"'
    r"|'(?:[^'\\\n\r]|\\.)*'"
    r'|<[^<>"{}|^`\\\s]*>'
    r"|#[^\n\r]*)",
    re.DOTALL,
)
_BRACKETS = re.compile(r"[\[\](){}]")
_OPENING = frozenset("[({")


def bracket_depth(text: str, limit: int) -> int:
    """How deep ``[``, ``(`` and ``{`` nest outside strings, IRIs and comments, counting
    no further than ``limit + 1`` (the scan stops as soon as the limit is passed)."""
    depth = deepest = 0
    for bracket in _BRACKETS.findall(_OPAQUE.sub(" ", text)):
        if bracket in _OPENING:
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    break
        elif depth:
            depth -= 1
    return deepest


def check_nesting(text: str, limit: int, syntax: str) -> None:
    """Refuse a Turtle, N3 or SPARQL text nesting deeper than ``limit`` (400)."""
    if sum(map(text.count, _OPENING)) <= limit:
        return  # too few brackets to nest that deep: the usual case, at C speed
    if bracket_depth(text, limit) > limit:
        raise too_deep(syntax, limit)


def json_depth(value: object, limit: int) -> int:
    """Depth of a decoded JSON value (a scalar is 0), counted iteratively up to ``limit + 1``."""
    deepest = 0
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        depth += 1
        if depth > deepest:
            deepest = depth
            if deepest > limit:
                break
        stack.extend((child, depth) for child in children if isinstance(child, dict | list))
    return deepest


def too_deep(syntax: str, limit: int) -> BadRequest:
    return BadRequest(f"Invalid {syntax}: nested too deeply (the limit is {limit} levels)")


def too_many_solutions(what: str, limit: int) -> UnprocessableEntity:
    return UnprocessableEntity(
        f"{what} has more than {limit} solutions; this server's limit. Narrow the pattern"
    )


# --------------------------------------------------------------------------- deadline


class _Expired(BaseException):
    """Raised inside an over-time job. A BaseException, so that library code's
    ``except Exception`` cannot swallow it and carry on."""


_set_async_exc = ctypes.pythonapi.PyThreadState_SetAsyncExc
_set_async_exc.argtypes = (ctypes.c_ulong, ctypes.py_object)
_set_async_exc.restype = ctypes.c_int
_REPEAT_STOP = 0.05  # seconds between stops, should the job swallow one


class _Job:
    """One call on a worker thread that the event loop can stop.

    Stopping raises ``_Expired`` in the worker thread at its next bytecode boundary
    (CPython's PyThreadState_SetAsyncExc): no cost while the job runs, and pure-Python
    code (rdflib, pyld, pyshacl, our evaluators) cannot outrun it. The lock makes sure a
    stop is never aimed at the thread once it has moved on to another job.
    """

    def __init__(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        self.fn, self.args = fn, args
        self.lock = threading.Lock()
        self.thread: int | None = None
        self.done = False
        self.stops = 0

    def __call__(self) -> Any:
        with self.lock:
            self.thread = threading.get_ident()
        try:
            return self.fn(*self.args)
        finally:
            with self.lock:
                self.done = True
                if self.stops:  # withdraw a stop not yet delivered
                    _set_async_exc(self.thread, ctypes.py_object())

    def stop(self, loop: asyncio.AbstractEventLoop | None) -> None:
        """Stop the job, and again every so often on ``loop`` until it has stopped."""
        with self.lock:
            if self.done:
                return
            if self.thread is not None:  # else not started yet: try again shortly
                self.stops += 1
                _set_async_exc(self.thread, ctypes.py_object(_Expired))
        if loop is not None:
            loop.call_later(_REPEAT_STOP, self.stop, loop)


class OverTime(UnprocessableEntity):
    """422: a step took longer than the time limit (the body sent was too heavy to process).
    Where the work was on stored data, not on the request's body, the caller turns it into
    a 503: the client did nothing wrong (see ``reading.Reader._convert``)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        super().__init__(
            f"This request needs more than the {seconds:g}-second processing limit; "
            "send a smaller or simpler body"
        )


def over_time(seconds: float) -> OverTime:
    return OverTime(seconds)


class Slots:
    """At most ``limits.jobs`` steps at once. Steps beyond wait (at most ``limits.queue``
    of them, for at most the time limit); past that ``busy()`` is raised (a 503 with
    Retry-After) rather than piling up work the server cannot finish in time."""

    def __init__(self, limits: WorkLimits, busy: Callable[[], Exception] | None = None) -> None:
        self.limits = limits
        self.busy = busy or _busy
        self._semaphore: asyncio.Semaphore | None = None  # made on the loop that uses it
        self._waiting = 0

    async def acquire(self) -> None:
        if self._semaphore is None:
            self._semaphore = asyncio.Semaphore(self.limits.jobs)
        if self._semaphore.locked() and self._waiting >= self.limits.queue:
            raise self.busy()
        self._waiting += 1
        try:
            await asyncio.wait_for(self._semaphore.acquire(), self.limits.seconds)
        except TimeoutError:
            raise self.busy() from None
        finally:
            self._waiting -= 1

    def release(self) -> None:
        assert self._semaphore is not None, "released without acquire"
        self._semaphore.release()


class Runner:
    """Runs heavy steps on ``limits.jobs`` worker threads, each under the time limit.

    One per store. Jobs beyond the workers wait (at most ``limits.queue`` of them, for at
    most the time limit); past that the request gets a 503 with Retry-After rather than
    piling up work the server cannot finish in time.
    """

    def __init__(self, limits: WorkLimits, lane: ProcessLane | None = None) -> None:
        self.limits = limits
        self.lane = lane  # worker processes for the steps that have a picklable form
        self._pool = ThreadPoolExecutor(limits.jobs, thread_name_prefix="pod-work")
        self._slots = Slots(limits)
        self._running: set[_Job] = set()

    async def run(self, fn: Callable[..., T], *args: Any, inline: bool = False) -> T:
        """``fn(*args)``: on the loop when ``inline`` (the caller vouches that it is small
        and linear), else on a worker, stopped with a 422 at the time limit."""
        if inline:
            return fn(*args)
        await self._slots.acquire()
        job = _Job(fn, args)
        self._running.add(job)
        try:
            return await self._stoppable(job)
        finally:
            self._running.discard(job)
            self._slots.release()

    async def _stoppable(self, job: _Job) -> Any:
        loop = asyncio.get_running_loop()
        seconds = self.limits.seconds
        timer = loop.call_later(seconds, job.stop, loop)
        try:
            return await loop.run_in_executor(self._pool, job)
        except _Expired:
            raise over_time(seconds) from None
        finally:
            timer.cancel()
            if not job.done:  # this request was cancelled (client gone): stop its work
                job.stop(loop)

    def close(self) -> None:
        """Stop running jobs too: the interpreter waits for worker threads at exit."""
        for job in list(self._running):
            job.stop(None)
        self._pool.shutdown(wait=False, cancel_futures=True)
        if self.lane is not None:
            self.lane.close()


def _busy() -> ServiceUnavailable:
    return ServiceUnavailable(
        "The server is busy with other large requests; try again shortly",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )
