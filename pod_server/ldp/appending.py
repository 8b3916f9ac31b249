"""The insert-only PATCH path: triples appended to the stored Turtle, never re-parsed.

Concurrent inserts into one document are grouped (``GroupCommit``) into one write.
"""

from __future__ import annotations

from rdflib import Graph

from pod_server.ldp import conditions, rdf
from pod_server.ldp.conditions import Conditions
from pod_server.ldp.locks import GroupCommit
from pod_server.ldp.media_types import TURTLE
from pod_server.ldp.n3patch import GroundInsert, N3Patch
from pod_server.ldp.patch import Patch, apply_patch
from pod_server.ldp.reading import PARSE_ON_LOOP_UP_TO, stored_type
from pod_server.ldp.writing import LogFor, Writer, WriteResult, retrying
from pod_server.storage.base import Staged

NTRIPLES_BASE = "http://localhost/"  # N-Triples has no relative IRIs: any base will do


def as_ntriples(patch: Patch) -> bytes:
    """The triples an insert-only patch adds, as N-Triples text to append."""
    program = patch.program
    if isinstance(program, GroundInsert):  # read by Oxigraph: valid terms only
        return b"\n" + rdf.ntriples(dict.fromkeys(program.insertions))
    if isinstance(program, N3Patch):
        # Without a where clause an N3 Patch has no variables and its inserts no blank
        # nodes (checked when parsed): its triples are the ones to write, as they are.
        data = b"\n" + rdf.ntriples(dict.fromkeys(program.insertions))
    else:
        inserted = apply_patch(Graph(bind_namespaces="none"), patch)  # e.g. fresh blank nodes
        data = b"\n" + rdf.serialize(inserted, rdf.N_TRIPLES, None)
    # rdflib's parsers take terms the stored Turtle could not be read back with.
    rdf.check_readable(data, NTRIPLES_BASE)
    return data


class Appender:
    def __init__(self, writer: Writer) -> None:
        self.writer = writer
        self._group = GroupCommit(self._append_batch)

    async def appendable(self, path: str) -> bool:
        """Whether an insert-only patch may append to the stored text without parsing it:
        a plain Turtle document that no rule needs to see whole (not a container, ACL or
        description, and not in a shape-validated container)."""
        meta = await self.writer.backend.meta(path)
        if meta is not None and stored_type(meta) != TURTLE:
            return False
        return await self.writer.checks.stored_verbatim(path)

    async def inserted(self, patch: Patch) -> bytes:
        on_loop = patch.size <= PARSE_ON_LOOP_UP_TO
        return await self.writer.runner.run(as_ntriples, patch, inline=on_loop)

    async def submit(self, path: str, patch: Patch) -> WriteResult:
        """Append without conditions, in one write with others appending to ``path``."""
        return await self._group.submit(path, await self.inserted(patch))

    async def _append_batch(self, path: str, additions: list[bytes]) -> WriteResult:
        async with self.writer.locks(path):
            return await self.append(path, additions, conditions.NONE)

    async def append(
        self, path: str, additions: list[bytes], cond: Conditions, log: LogFor | None = None
    ) -> WriteResult:
        """Apply insert-only patches by appending their triples as N-Triples, which is valid
        Turtle after any complete Turtle document: no parse and re-serialise of a document
        that grows with every insert. Same graph as the general path (RDF graphs are sets).
        The caller holds ``path``'s lock. ``log``: the audit entry of this one request's
        write (an audited patch is never grouped with others, each has its own entry)."""
        addition = b"".join(additions)
        writer = self.writer

        async def attempt() -> WriteResult:
            meta = await writer.backend.meta(path)
            conditions.evaluate(
                cond, "PATCH", meta.etag if meta else None, None, meta.modified if meta else None
            )
            current, meta = await writer.reader.read_body(path) if meta else (b"", None)
            body = Staged.of(current + addition)
            return await writer.apply_write(path, body, TURTLE, meta, log)

        return await retrying(
            attempt, "The resource kept changing while the patch was applied; try again"
        )
