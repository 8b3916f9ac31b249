"""The compiled shapes' own rules: which shapes they leave to pyshacl, and literals read
as rdflib reads them. Agreement with pyshacl on the shipped shapes: test_shape_plan_parity."""

from __future__ import annotations

import pyoxigraph as ox
import pytest
from hypothesis import given
from hypothesis import strategies as st
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import XSD

import vocab
from pod_server.ldp import rdf
from pod_server.ldp.media_types import TURTLE
from vocab import catalog, shape_plan, validation

PREFIXES = """
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix ex: <https://example.org/> .
"""
SUPPORTED = """
ex:ThingShape a sh:NodeShape ; sh:targetClass ex:Thing ;
    sh:property [ sh:path ex:name ; sh:minCount 1 ; sh:datatype xsd:string ] .
"""
# One shape each, with something the compiled shapes do not evaluate.
UNSUPPORTED = {
    "closed": "sh:closed true",
    "severity": "sh:severity sh:Warning ; sh:property [ sh:path ex:size ; sh:minCount 1 ]",
    "sequence path": "sh:property [ sh:path ( ex:a ex:b ) ; sh:minCount 1 ]",
    "xone": "sh:xone ( [ sh:class ex:A ] [ sh:class ex:B ] )",
    "flags": 'sh:property [ sh:path ex:name ; sh:pattern "^a" ; sh:flags "i" ]',
    "languageIn": 'sh:property [ sh:path ex:name ; sh:languageIn ( "en" ) ]',
    "recursion": "sh:property [ sh:path ex:part ; sh:node ex:OtherShape ]",
    "deactivated": "sh:deactivated true",
}


def _shapes(extra: str) -> Graph:
    text = (
        PREFIXES
        + SUPPORTED
        + f"ex:OtherShape a sh:NodeShape ; sh:targetClass ex:Other ; {extra} .\n"
    )
    return Graph().parse(data=text, format="turtle")


def _data(text: str) -> tuple[Graph, shape_plan.Data]:
    turtle = (PREFIXES + text).encode()
    graph = Graph().parse(data=turtle, format="turtle")
    return graph, shape_plan.Data.from_quads(ox.parse(turtle, format=ox.RdfFormat.TURTLE))


@pytest.mark.parametrize("feature", sorted(UNSUPPORTED))
def test_a_shape_the_engine_cannot_evaluate_is_left_to_pyshacl(feature: str) -> None:
    shapes = _shapes(UNSUPPORTED[feature])
    plan = shape_plan.compile_plan(shapes)
    assert list(plan.uncompiled) == ["https://example.org/OtherShape"]
    assert [str(s.node) for s, _ in plan.shapes] == ["https://example.org/ThingShape"]
    # Data the uncompiled shape does not reach: decided here, as pyshacl decides it.
    graph, data = _data('ex:t a ex:Thing ; ex:name "T" .')
    assert plan.check(data) == []
    assert vocab.validate(graph, shapes).conforms
    graph, data = _data("ex:t a ex:Thing .")
    assert [r[2] for r in plan.check(data)] == ["MinCountConstraintComponent"]
    assert not vocab.validate(graph, shapes).conforms
    # Data it reaches (even through a subclass declared in the data): pyshacl's call.
    for text in ("ex:o a ex:Other .", "ex:o a ex:Sub . ex:Sub rdfs:subClassOf ex:Other ."):
        _, data = _data("@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n" + text)
        with pytest.raises(shape_plan.Undecided):
            plan.check(data)


def test_shapes_declaring_their_own_components_are_left_to_pyshacl_entirely() -> None:
    shapes = _shapes("ex:colour ex:red") + Graph().parse(
        data=PREFIXES + "ex:C a sh:ConstraintComponent ; sh:parameter [ sh:path ex:colour ] .",
        format="turtle",
    )
    plan = shape_plan.compile_plan(shapes)
    assert plan.whole_graph_unsupported is not None
    _, data = _data('ex:t a ex:Thing ; ex:name "T" .')
    with pytest.raises(shape_plan.Undecided):
        plan.check(data)


@pytest.mark.parametrize(
    "value", [Literal("x", datatype=XSD.string), Literal("x", lang="EN")], ids=["string", "lang"]
)
def test_a_graph_the_parser_would_not_produce_is_left_to_pyshacl(value: Literal) -> None:
    """The server's parser makes "x"^^xsd:string plain and tags lower case; the engine
    models that reading only, so other graphs are not its call."""
    graph = Graph()
    graph.add((URIRef("https://example.org/s"), URIRef("https://example.org/p"), value))
    with pytest.raises(shape_plan.Undecided):
        shape_plan.Data.from_rdflib(graph)


# --------------------------------------------------------------------------- literals

FORMS = {
    str(XSD.decimal): r"-?(?:0|[1-9][0-9]{0,27})\.[0-9]{1,27}|-?(?:0|[1-9][0-9]{0,27})",
    str(XSD.integer): r"0|-?[1-9][0-9]{0,17}",
    str(XSD.date): r"[0-9]{4}-[0-9]{2}-[0-9]{2}",
}


@pytest.mark.parametrize("datatype", sorted(FORMS))
@given(data=st.data())
def test_a_fast_lexical_form_is_one_rdflib_keeps_and_reads_well_typed(
    datatype: str, data: st.DataObject
) -> None:
    """Where ``_fast_form`` says yes, rdflib agrees: same lexical form, a well-typed value
    of the datatype's Python type. Everything else is asked of rdflib itself."""
    text = data.draw(st.from_regex(FORMS[datatype], fullmatch=True))
    literals = shape_plan.Literals()
    lit = ox.Literal(text, datatype=ox.NamedNode(datatype))
    reference = Literal(text, datatype=datatype)
    assert literals.lexical(lit) == str(reference)
    expected_ok = reference.ill_typed is not True and isinstance(
        reference.value, shape_plan._VALUE_TYPES[datatype]
    )
    assert literals.has_datatype(lit, datatype) == expected_ok
    if shape_plan._fast_form(text, datatype):
        assert str(reference) == text and expected_ok


def test_compiled_shapes_follow_a_changed_shapes_file(monkeypatch: pytest.MonkeyPatch) -> None:
    """The compiled shapes (and pyshacl's) are dropped when a shapes file changes."""
    first = validation._compiled_domain("bank", vocab.DEFAULT_BASE)
    assert validation._compiled_domain("bank", vocab.DEFAULT_BASE) is first
    real = catalog.shapes_files_state

    def touched(domain: str, base: str) -> tuple[tuple[str, int, int], ...]:
        return tuple((path, mtime + 1, size) for path, mtime, size in real(domain, base))

    monkeypatch.setattr(catalog, "shapes_files_state", touched)
    second = validation._compiled_domain("bank", vocab.DEFAULT_BASE)
    assert second is not first
    assert validation._compiled_domain("bank", vocab.DEFAULT_BASE) is second


@pytest.mark.parametrize("value", ['"abc"^^xsd:decimal', "[]"], ids=["ill-typed", "blank"])
def test_values_pyshacl_cannot_compare_are_refused_not_a_crash(value: str) -> None:
    """sh:lessThanOrEquals over an ill-typed decimal or a blank node makes pyshacl raise;
    the write is refused with a message (a 422), and the fast engine leaves it alone."""
    text = catalog.read_text("bank", "examples/loan.ttl").replace('"9861.40"^^xsd:decimal', value)
    assert value in text
    graph = Graph().parse(data=text, format="turtle")
    report = vocab.validate(graph, "bank")
    assert not report.conforms
    assert "cannot be validated" in report.summary()
    data = shape_plan.Data.from_rdflib(graph)
    with pytest.raises(shape_plan.Undecided):
        validation.fast_results(data, "bank")


@pytest.mark.filterwarnings("ignore")  # rdflib warns on "false0"; pytest would raise
@pytest.mark.parametrize("order", ["valid first", "ill-typed first"])
def test_values_rdflib_merges_keep_the_first_parsed_as_rdflib_does(order: str) -> None:
    """ "false" and "false0"^^xsd:boolean are one term to rdflib (the lexical form is
    normalised): its graph keeps whichever came first, valid or ill-typed, and pyshacl's
    verdict follows. Found by the full parity run."""
    text = catalog.read_text("energy", "examples/gas.ttl")
    first, later = "false", '"false0"^^<http://www.w3.org/2001/XMLSchema#boolean>'
    if order != "valid first":
        first, later = later, first
    assert text.count("energy:estimated false ;") == 1
    text = text.replace("energy:estimated false ;", f"energy:estimated {first} ;")
    reading = text[text.index("energy:estimated") :].split("\n\n")[0]  # sanity only
    assert first in reading
    subject = "<https://alice.pod.example/energy/gas/readings#2024-03-01>"
    text += f"\n{subject} <https://w3id.org/solid-pods/vocab/energy#estimated> {later} .\n"
    body = text.encode()
    graph = rdf.parse(body, TURTLE, "https://alice.pod.example/energy/gas/x")
    data = shape_plan.Data.from_quads(ox.parse(body, format=ox.RdfFormat.TURTLE))
    expected = vocab.validate(graph, "energy").conforms
    assert expected is (order == "valid first")
    assert (not validation.fast_results(data, "energy")) is expected


def test_the_index_of_interleaved_subjects_is_the_triple_by_triple_one() -> None:
    """``from_quads`` compares each subject with the previous one instead of hashing it:
    a subject coming back after another (or a blank node) still lands on its own entry."""
    text = """
    ex:a a ex:Thing ; ex:name "a" .
    ex:b a ex:Thing ; ex:name "b" .
    ex:a ex:name "a2" ; a ex:Other .
    _:x ex:name "x" .
    ex:b ex:name "b2" .
    _:x ex:name "x2" .
    ex:Other <http://www.w3.org/2000/01/rdf-schema#subClassOf> ex:Thing .
    """
    turtle = (PREFIXES + text).encode()
    quads = list(ox.parse(turtle, format=ox.RdfFormat.TURTLE))
    fast = shape_plan.Data.from_quads(quads)
    one_by_one = shape_plan.Data()
    for q in quads:
        one_by_one.add(q.subject, q.predicate.value, q.object)
    assert fast.out == one_by_one.out
    assert list(fast.out) == list(one_by_one.out)
    assert fast.typed == one_by_one.typed
    assert fast.subclasses == one_by_one.subclasses
    assert len(fast.out) == 4


def test_a_failing_value_shared_by_focus_nodes_is_reported_for_each() -> None:
    """Each distinct value is tested once per shape; its failures still go to every focus
    node that has it, with the counts checked in the same loop."""
    shapes = Graph().parse(
        data=PREFIXES
        + """
        ex:ThingShape a sh:NodeShape ; sh:targetClass ex:Thing ; sh:property [
            sh:path ex:code ; sh:minCount 1 ; sh:maxCount 1 ; sh:datatype xsd:string ;
            sh:pattern "^[A-Z]+$" ] .
        """,
        format="turtle",
    )
    _graph, data = _data(
        """
        ex:a a ex:Thing ; ex:code "bad" .
        ex:b a ex:Thing ; ex:code "bad" .
        ex:c a ex:Thing ; ex:code "OK" .
        ex:d a ex:Thing ; ex:code "OK", "bad" .
        ex:e a ex:Thing .
        """
    )
    found = shape_plan.compile_plan(shapes).check(data)
    got = sorted((str(f.value), c, v.value if v is not None else None) for f, _p, c, v in found)
    ex = "https://example.org/"
    assert got == [
        (f"{ex}a", "PatternConstraintComponent", "bad"),
        (f"{ex}b", "PatternConstraintComponent", "bad"),
        (f"{ex}d", "MaxCountConstraintComponent", None),
        (f"{ex}d", "PatternConstraintComponent", "bad"),
        (f"{ex}e", "MinCountConstraintComponent", None),
    ]
