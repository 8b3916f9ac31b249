"""Run the registered checks against one server and collect their outcomes."""

from __future__ import annotations

import asyncio
import time
import traceback
import uuid
from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from urllib.parse import urldefrag

import aiohttp

from conformance import areas  # noqa: F401 - importing registers every check
from conformance.auth import Credentials, Login
from conformance.context import Agent, Context
from conformance.deviations import deviation_for
from conformance.http import send
from conformance.rdf import PIM, URIRef, graph_of
from conformance.registry import AREAS, REGISTRY, Check, Failed, Skipped

IDENTITY_FLAGS = {"alice": "--alice-credentials", "bob": "--bob-credentials"}


class Outcome(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"
    DEVIATION = "deviation"  # failed, as the deviations table says it does (strict xfail)
    FIXED = "fixed"  # listed as a deviation but passed: the entry must go (fails the run)


@dataclass
class Result:
    check: Check
    outcome: Outcome
    message: str = ""
    seconds: float = 0.0


@dataclass
class Run:
    server: str
    profile: str
    identities: tuple[str, ...]
    storage: str = ""  # the storage root the checks ran in: the server, or Alice's storage
    results: list[Result] = field(default_factory=list)
    seconds: float = 0.0

    def count(self, area: str | None = None) -> Counter[Outcome]:
        return Counter(r.outcome for r in self.results if area is None or r.check.area == area)

    @property
    def problems(self) -> list[Result]:
        """What fails the run: failures not in the deviations table, and fixed deviations."""
        return [r for r in self.results if r.outcome in (Outcome.FAILED, Outcome.FIXED)]

    @property
    def ok(self) -> bool:
        return not self.problems

    def totals(self) -> tuple[int, int, int]:
        """(passed, failed, skipped) for the closing line; known deviations count as skipped
        (like pytest's xfail they do not fail the run), fixed ones as failed."""
        counts = self.count()
        failed = counts[Outcome.FAILED] + counts[Outcome.FIXED]
        skipped = counts[Outcome.SKIPPED] + counts[Outcome.DEVIATION]
        return counts[Outcome.PASSED], failed, skipped

    def summary_line(self) -> str:
        passed, failed, skipped = self.totals()
        return f"{passed} passed, {failed} failed, {skipped} skipped"


async def detect_profile(http: aiohttp.ClientSession, server: str) -> str:
    """Which server this is, to pick its deviations: "css", "ours" or "generic"."""
    reply = await send(http, "HEAD", server)
    if "Community Solid Server" in (reply.header("X-Powered-By") or ""):
        return "css"
    if "aiohttp" in (reply.header("Server") or ""):
        return "ours"
    return "generic"


def select(only: tuple[str, ...] = ()) -> list[Check]:
    """Checks in registry order; ``only`` holds areas or check-id prefixes."""
    for name in only:
        if name not in AREAS and not any(c.startswith(name) for c in REGISTRY):
            raise ValueError(f"--only {name!r}: no such area or check id prefix")
    return [c for c in REGISTRY.values() if not only or any(c.id.startswith(o) for o in only)]


async def run_one(ctx: Context, check: Check, profile: str) -> Result:
    started = time.monotonic()
    missing = [need for need in check.needs if getattr(ctx, need) is None]
    if missing:
        flags = " and ".join(IDENTITY_FLAGS[m] for m in missing)
        return Result(check, Outcome.SKIPPED, f"needs {flags} (a Solid-OIDC identity)")
    try:
        await check.fn(ctx)
        outcome, message = Outcome.PASSED, ""
    except Skipped as skipped:
        return Result(check, Outcome.SKIPPED, str(skipped), time.monotonic() - started)
    except Failed as failure:
        outcome, message = Outcome.FAILED, str(failure)
    except (aiohttp.ClientError, TimeoutError) as error:
        outcome, message = Outcome.FAILED, f"HTTP error: {error!r}"
    except Exception:  # a bug in the check, or a reply it could not digest: still a failure
        outcome, message = Outcome.FAILED, "error in check:\n" + traceback.format_exc(limit=4)
    reason = deviation_for(profile, check.id)
    if reason is not None:
        if outcome is Outcome.FAILED:
            outcome, message = Outcome.DEVIATION, f"known deviation: {reason}\n{message}"
        else:
            outcome, message = Outcome.FIXED, f"listed as a deviation ({reason}) but passed"
    return Result(check, outcome, message, time.monotonic() - started)


async def log_in(http: aiohttp.ClientSession, path: str | None, name: str) -> Agent | None:
    if path is None:
        return None
    login = Login(Credentials.from_file(path))
    await login.log_in(http)
    return Agent(name, http, login)


async def run_suite(
    server: str,
    *,
    alice_credentials: str | None = None,
    bob_credentials: str | None = None,
    only: tuple[str, ...] = (),
    profile: str = "auto",
    concurrency: int = 4,
    keep: bool = False,
) -> Run:
    """Run the suite against ``server`` and return every outcome.

    ``server`` is the storage root; on a multi-user server whose root Alice may not write, the
    suite works in her own storage under it instead (see ``open_scratch``)."""
    server = server.rstrip("/") + "/"
    started = time.monotonic()
    checks = select(only)
    async with aiohttp.ClientSession() as http:
        if profile == "auto":
            profile = await detect_profile(http, server)
        alice = await log_in(http, alice_credentials, "alice")
        bob = await log_in(http, bob_credentials, "bob")
        anon = Agent("anonymous", http)
        writer = alice or anon
        storage, scratch = await open_scratch(server, writer, alice)
        ctx = Context(storage, http, anon, writer, alice, bob, scratch, profile)
        identities = tuple(a.name for a in (alice, bob) if a)
        run = Run(server, profile, identities, storage)
        gate = asyncio.Semaphore(max(1, concurrency))

        async def guarded(check: Check) -> Result:
            async with gate:
                return await run_one(ctx, check, profile)

        run.results = list(await asyncio.gather(*(guarded(c) for c in checks)))
        if not keep:
            await clean_up(ctx)
    run.seconds = time.monotonic() - started
    return run


async def open_scratch(server: str, writer: Agent, alice: Agent | None) -> tuple[str, str]:
    """Where the run works: (storage root, scratch container), the container created.

    ``server`` itself when the writer may create the scratch container there (a server with a
    single storage, or one whose root is open). Otherwise, with Alice signed in, her own
    storage: the ``pim:storage`` of her WebID profile that lies under ``server`` (a multi-user
    server, whose root belongs to nobody and whose pods sit below it).
    """
    name = f"conformance-{uuid.uuid4().hex[:10]}/"
    created = await writer.put(server + name, "", "text/turtle")
    if created.ok:
        return server, server + name
    refusals = [created]
    if alice is not None and created.status in (401, 403):
        for storage in await storages_of(alice, server):
            attempt = await alice.put(storage + name, "", "text/turtle")
            if attempt.ok:
                return storage, storage + name
            refusals.append(attempt)
    tried = "; ".join(reply.describe() for reply in refusals)
    hint = " (with identities, pass Alice's storage as the server)" if alice else ""
    raise RuntimeError(f"cannot create the scratch container{hint}: {tried}")


async def storages_of(agent: Agent, server: str) -> list[str]:
    """The storages the agent's WebID profile names (``pim:storage``) under ``server``."""
    webid = agent.webid or ""
    reply = await agent.get(urldefrag(webid).url, Accept="text/turtle")
    if not reply.ok:
        return []
    try:
        graph = graph_of(reply)
    except Failed:  # a profile that is not RDF names no storage; the caller reports the refusal
        return []
    found = {str(s) for s in graph.objects(URIRef(webid), PIM.storage)}
    return sorted(s for s in found if s.startswith(server) and s.endswith("/"))


async def clean_up(ctx: Context) -> None:
    """Best effort: delete the scratch tree, deepest first. What nobody may delete (the
    open-server access checks lock some resources away) stays behind."""
    from conformance.cleanup import delete_tree

    await delete_tree(ctx.writer, ctx.scratch)
