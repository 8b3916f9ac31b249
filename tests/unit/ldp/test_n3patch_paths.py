"""N3 Patch's two parsers agree: Oxigraph's (the common patch) and rdflib's (everything).

For every body below, the fast path either declines (None) or gives exactly the patch the
general path gives; the common forms must take the fast path, else it is dead code.
"""

from __future__ import annotations

import pytest
from rdflib import BNode, Graph

from pod_server.errors import PodError
from pod_server.ldp import n3patch, rdf
from pod_server.ldp.appending import as_ntriples
from pod_server.ldp.n3patch import N3Patch, parse_n3_patch
from pod_server.ldp.patch import apply_patch, parse_patch

BASE = "https://pod.example/alice/doc"
N3 = "text/n3"
HEAD = (
    "@prefix solid: <http://www.w3.org/ns/solid/terms#>.\n"
    "@prefix ex: <http://www.example.org/terms#>.\n"
    "@prefix xsd: <http://www.w3.org/2001/XMLSchema#>.\n"
)
PATCH = "_:p a solid:InsertDeletePatch; "

FAST = [  # the forms clients send most: data-only inserts and deletes
    PATCH + 'solid:inserts { <#s> <#p> "v" . }.',
    PATCH + 'solid:inserts { <#s> ex:n 01, +1.50, 1e3, .5, -0, true, "é\\t\\n" . }.',
    PATCH + 'solid:inserts { <#s> ex:name "Ann"@en, "x"@fr-be, """long\nline""" . }.',
    PATCH + "solid:inserts { <#s> ex:p <other>, <../up>, <#frag>, <> . }.",
    PATCH + 'solid:deletes { <#s> ex:p "old" . }; solid:inserts { <#s> ex:p "new" . }.',
    PATCH + 'solid:inserts { <#s> ex:p "a", "a" ; ex:q "b" . <#t> ex:p ex:o . }.',
    PATCH + 'solid:where { <#s> ex:p "a" . }; solid:inserts { <#s> ex:q "b" . }.',
    PATCH + "solid:inserts { }.",
    "<#patch> a solid:InsertDeletePatch; solid:inserts { <#s> <#p> 1 . }.",
    "@base <http://other.example/dir/>. " + PATCH + 'solid:inserts { <x> <y> "rebased" . }.',
]
GENERAL = [  # left to rdflib's parser: its terms or its verdict
    PATCH + 'solid:where { ?a ex:p "a" . }; solid:inserts { ?a ex:q "b" . }.',
    PATCH + 'solid:inserts { <#s> ex:p "typed"^^xsd:string . }.',
    PATCH + 'solid:inserts { <#s> ex:p "x"@EN-GB . }.',
    PATCH + 'solid:inserts { <#s> ex:p [ ex:q "b" ] . }.',
    PATCH + "solid:inserts { <#s> ex:p ( 1 2 ) . }.",
    PATCH + 'solid:where { [] ex:p "a" . }; solid:inserts { <#s> ex:q "b" . }.',
    PATCH + "solid:inserts { <#s> ex:p { <#a> <#b> <#c> } . }.",
    PATCH + 'solid:inserts { <#s> <#p> "v" . }; solid:inserts { <#s> <#p> "w" . }.',
    PATCH + 'solid:inserts { <#s> <#p> "v" . }. <#other> <#p> "v".',
    "_:p a solid:Patch; solid:inserts { <#s> <#p> 1 . }.",
    "_:p a solid:InsertDeletePatch, solid:InsertDeletePatch; solid:inserts { <#s> <#p> 1 . }.",
    PATCH + 'solid:inserts { "lit" <#p> 1 . }.',
    '"lit" a solid:InsertDeletePatch; solid:inserts { <#s> <#p> 1 . }.',
    '_:p solid:inserts { <#s> <#p> 1 . }. "lit" a solid:InsertDeletePatch.',
    PATCH + 'solid:inserts { <#s> <#p> 1 . }. "lit" solid:inserts { <#s> <#p> 2 . }.',
    PATCH + "solid:inserts <#notaformula>.",
    PATCH + "solid:inserts { <#s> <#p> 1 }",  # no final "."
    PATCH + 'solid:inserts { <#s> <#p> "unterminated . }.',
    PATCH + "solid:inserts { <#s> undeclared:p 1 . }.",
    PATCH + "solid:inserts { <#s> <#p> <a b> . }.",
    "",
]


def general(text: str) -> N3Patch:
    original = n3patch._parse_simple
    n3patch._parse_simple = lambda *_args: None  # type: ignore[assignment]
    try:
        return parse_n3_patch(text, BASE)
    finally:
        n3patch._parse_simple = original  # type: ignore[assignment]


def canonical(patch: N3Patch) -> tuple[frozenset[object], ...]:
    """The patch's clauses as sets, blank nodes named by order of appearance (each parse
    names them afresh)."""
    names: dict[object, str] = {}

    def term(t: object) -> object:
        return names.setdefault(t, f"_:b{len(names)}") if isinstance(t, BNode) else t

    return tuple(
        frozenset(tuple(term(t) for t in triple) for triple in clause)
        for clause in (patch.conditions, patch.insertions, patch.deletions)
    )


@pytest.mark.parametrize("body", FAST)
def test_common_patches_take_the_fast_path_and_agree(body: str) -> None:
    text = HEAD + body
    fast = n3patch._parse_simple(text, BASE, 50)
    assert fast is not None
    assert canonical(fast) == canonical(general(text))
    assert canonical(parse_n3_patch(text, BASE)) == canonical(fast)


@pytest.mark.parametrize("body", GENERAL)
def test_everything_else_is_left_to_the_general_path(body: str) -> None:
    text = HEAD + body
    assert n3patch._parse_simple(text, BASE, 50) is None
    try:
        expected: object = canonical(general(text))
    except PodError as exc:
        expected = (type(exc), exc.message.split(":")[0])
    try:
        got: object = canonical(parse_n3_patch(text, BASE))
    except PodError as exc:
        got = (type(exc), exc.message.split(":")[0])
    assert got == expected


@pytest.mark.parametrize("body", [*FAST[:6], *FAST[7:]])
def test_appended_triples_are_what_applying_the_patch_gives(body: str) -> None:
    """The insert-only path writes an N3 Patch's triples without a graph: the same
    N-Triples as applying the patch to an empty graph and serialising that."""
    patch = parse_patch((HEAD + body).encode(), N3, BASE)
    if not patch.inserts_only:
        pytest.skip("not an insert-only patch")
    direct = as_ntriples(patch)
    applied = b"\n" + rdf.serialize(apply_patch(Graph(), patch), rdf.N_TRIPLES, None)
    assert sorted(direct.splitlines()) == sorted(applied.splitlines())
    assert len(direct.splitlines()) == len(set(direct.splitlines()))  # a set, as a graph
