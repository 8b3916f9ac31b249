"""An insert-only N3 Patch creating a document in a shape-validated container: stored from
Oxigraph's terms when the compiled shapes accept it, exactly as the general path stores it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from rdflib import Graph
from rdflib.compare import isomorphic

import vocab
from pod_server.access.rules import AccessRules
from pod_server.ldp import writing
from pod_server.ldp.conditions import NONE, Conditions
from pod_server.ldp.media_types import TURTLE
from pod_server.ldp.n3patch import GroundInsert, N3Patch, parse_n3_patch
from pod_server.ldp.shapes import ShapeViolation
from pod_server.ldp.store import Body, Limits, ResourceStore
from pod_server.storage.memory import MemoryBackend

BASE = "https://pod.example/"
DOC = "/bank/2024-03"
CREATE = Conditions(if_none_match=("*",))
HEAD = (
    "@prefix solid: <http://www.w3.org/ns/solid/terms#>.\n"
    "@prefix xsd: <http://www.w3.org/2001/XMLSchema#>.\n"
    "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#>.\n"
    "_:p a solid:InsertDeletePatch; solid:inserts {\n"
)


def body(data: str, content_type: str = TURTLE) -> Body:
    raw = data.encode()

    async def chunks() -> AsyncIterator[bytes]:
        yield raw

    return Body(content_type, chunks(), len(raw), content_type)


async def validated_store() -> ResourceStore:
    store = ResourceStore(MemoryBackend(), BASE, Limits(1 << 22, 1 << 22), rules=AccessRules())
    await store.put("/bank/", body(""), NONE)
    shapes = vocab.shapes_iri("bank")
    meta = f"<{BASE}bank/> <http://www.w3.org/ns/ldp#constrainedBy> <{shapes}>."
    await store.put("/bank/.meta", body(meta), NONE)
    return store


def month() -> str:
    """The bank example month as N-Triples lines, its transactions in the document."""
    text = vocab.read_text("bank", "examples/month.ttl").replace(
        "https://alice.pod.example/bank/2024-03/transactions#", f"{BASE}bank/2024-03#"
    )
    return Graph().parse(data=text, format="turtle").serialize(format="nt")


EXTRAS = [
    "",
    # Lexical forms rdflib normalises (and its terms store normalised), odd strings,
    # language tags, IRIs sharing a string prefix with the document, duplicates.
    '<#x> rdfs:comment "said \\"hi\\"\\nand left \\\\ 🎉", "été"@fr, "plain"@en-gb .\n'
    '<#x> <#n> "007"^^xsd:integer, "+1.50"^^xsd:decimal, "TRUE"^^xsd:boolean, 1e3 .\n'
    '<#x> <#n> "2024-04-01T06:00:00Z"^^xsd:dateTime, "0001"^^xsd:integer, 1 .\n'
    f"<#x> rdfs:seeAlso <{BASE}bank/2024-032>, <>, <other>, <#x>, <../up> .\n"
    '<#x> <#odd> "x"^^<#localType>, "tab\\there" . <#x> <#odd> "tab\\there" .\n',
]


def no_graph(*_args: object) -> None:
    raise AssertionError("the general path was taken")


async def general_only(*_args: object) -> None:
    return None


async def stored_after(patch_text: str, fast: bool, monkeypatch: pytest.MonkeyPatch) -> bytes:
    """The stored text after a create-only PATCH, by the fast path (which must then be
    the one taken) or by the general path only."""
    with monkeypatch.context() as patched:
        if fast:
            patched.setattr(writing, "apply_patch", no_graph)
        else:
            patched.setattr(writing.Writer, "_created_conforming", general_only)
        store = await validated_store()
        patch = await store.read_patch(DOC, body(patch_text, "text/n3"))
        result = await store.patch(DOC, patch, CREATE)
    assert result.created
    data, _ = await store._reader.read_body(DOC)
    return data


@pytest.mark.parametrize("extra", EXTRAS, ids=["month", "month-and-odd-terms"])
async def test_stored_exactly_as_the_general_path_stores_it(
    extra: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = HEAD + month() + extra + "} ."
    assert isinstance(parse_n3_patch(text, BASE + DOC[1:]), GroundInsert)
    fast = await stored_after(text, True, monkeypatch)
    general = await stored_after(text, False, monkeypatch)
    assert fast == general
    assert b"@base" not in fast and b"<#t0001>" in fast


async def test_the_fast_path_stores_the_triples_inserted(monkeypatch: pytest.MonkeyPatch) -> None:
    data = await stored_after(HEAD + month() + "} .", True, monkeypatch)
    expected = Graph().parse(data=month(), format="nt")
    assert isomorphic(Graph().parse(data=data, format="turtle", publicID=BASE + DOC[1:]), expected)


async def test_a_violation_still_gets_pyshacls_report(monkeypatch: pytest.MonkeyPatch) -> None:
    broken = month().replace("FR7612548029980001234567818", "FR76")
    store = await validated_store()
    patch = await store.read_patch(DOC, body(HEAD + broken + "} .", "text/n3"))
    with pytest.raises(ShapeViolation) as caught:
        await store.patch(DOC, patch, CREATE)
    assert b"ValidationReport" in caught.value.body  # pyshacl's report, as before
    assert await store.meta(DOC) is None


async def test_an_existing_document_takes_the_general_path() -> None:
    store = await validated_store()
    first = await store.read_patch(DOC, body(HEAD + month() + "} .", "text/n3"))
    await store.patch(DOC, first, CREATE)
    comment = f'<{BASE}bank/2024-03#t0001> rdfs:comment "more" .\n'
    second = await store.read_patch(DOC, body(HEAD + comment + "} .", "text/n3"))
    result = await store.patch(DOC, second, NONE)
    assert not result.created
    _, graph = await store.graph_of(DOC)
    expected = Graph().parse(data=month(), format="nt")
    expected.parse(data=HEAD.split("_:p")[0] + comment, format="turtle")
    assert isomorphic(graph, expected)


def test_only_patches_that_only_insert_ground_triples_are_ground_inserts() -> None:
    base = BASE + DOC[1:]
    assert isinstance(parse_n3_patch(HEAD + "<#a> <#b> <#c> . } .", base), GroundInsert)
    where = HEAD.replace("solid:inserts {", "solid:where { <#a> <#b> <#c> }; solid:inserts {")
    assert isinstance(parse_n3_patch(where + "<#a> <#b> <#d> . } .", base), N3Patch)
    deletes = HEAD.replace("solid:inserts {", "solid:deletes { <#a> <#b> <#c> }; solid:inserts {")
    assert isinstance(parse_n3_patch(deletes + "} .", base), N3Patch)
    # Left to rdflib's parser altogether: an explicit xsd:string.
    assert isinstance(parse_n3_patch(HEAD + '<#a> <#b> "x"^^xsd:string . } .', base), N3Patch)
