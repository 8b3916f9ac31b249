"""The storage Turtle writer: round trips, determinism, prefixes, relative IRIs, escapes."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import RDF, XSD
from rdflib.term import Node, Variable

import vocab
from pod_server.errors import BadRequest
from pod_server.ldp import rdf
from pod_server.ldp.turtle_writer import Unwritable, terms_of, write_turtle
from tests.unit.ldp.test_rdf import rich_graph

BASE = "https://pod.example/alice/bank/transactions-2026-03"
DIRECTORY = "https://pod.example/alice/bank/"
EX = Namespace("http://example.org/ns#")
SLASH = Namespace("http://example.org/terms/")
VOCAB = Path(__file__).resolve().parents[3] / "vocab"
VOCAB_FILES = sorted(VOCAB.glob("*/*.ttl"))
EXAMPLES = [example for domain in vocab.domains() for example in vocab.examples(domain)]


def stored(graph: Graph, base: str = BASE) -> bytes:
    return rdf.storage_turtle(graph, base)


def old_writer(graph: Graph, base: str = BASE) -> bytes:
    """What the server stored before: rdflib's serialiser, without its @base line."""
    data = rdf.serialize(graph, rdf.TURTLE, base)
    return data[data.index(b"\n") + 1 :] if data.startswith(b"@base ") else data


def read_both_ways(data: bytes, base: str = BASE) -> tuple[Graph, Graph]:
    """The stored text as the server reads it (Oxigraph first) and as rdflib's own Turtle
    parser reads it: both must accept it and agree."""
    served = rdf.parse(data, rdf.TURTLE, base)
    plain = Graph().parse(data=data.decode("utf-8"), format="turtle", publicID=base)
    return served, plain


def assert_round_trip(graph: Graph, base: str = BASE) -> bytes:
    data = stored(graph, base)
    assert b"@base" not in data
    served, plain = read_both_ways(data, base)
    assert isomorphic(served, graph)
    assert isomorphic(plain, graph)
    return data


# --------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("path", VOCAB_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_ontology_and_shapes_graph_round_trips(path: Path) -> None:
    graph = rdf.parse(path.read_bytes(), rdf.TURTLE, BASE)
    assert len(graph) > 0
    assert_round_trip(graph)


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: f"{e.domain}/{e.path}")
def test_every_vocab_example_round_trips(example: vocab.Example) -> None:
    graph = vocab.example_graph(example)
    assert len(graph) > 0
    assert_round_trip(graph)


def test_the_rich_graph_round_trips() -> None:
    # Lists, blank nodes, astral characters, IRIs sharing a string prefix with the base.
    assert_round_trip(rich_graph(), "https://pod.example/alice/profile/card")


def test_an_empty_graph_is_empty_text() -> None:
    assert stored(Graph()) == b""
    assert write_turtle([], BASE, rdf.PREFIXES) == b""


NASTY_IRIS = [
    BASE,  # the document itself: <>
    BASE + "#me",
    BASE + "#me:too",  # a colon in a fragment: never relative, never a prefixed name
    BASE + "2",  # shares a string prefix with the base: not <2>
    BASE + "/below",
    DIRECTORY + "sibling",
    DIRECTORY + "sub/dir/doc?q=1&r=2#frag",
    DIRECTORY + "a:b",  # would read as a scheme
    DIRECTORY + "../escape",
    DIRECTORY + "./dot",
    "https://pod.example/alice/caf%C3%A9%20au%20lait",
    "https://pod.example/alice/été/日本#ñ",
    "https://pod.example/",
    "https://other.example/alice/bank/x",
    "urn:uuid:1b4e28ba-2fa1-11d2-883f-0016d3cca427",
    str(SLASH) + "with#hash",
    str(EX) + "colon:inside",
    str(EX) + "ends.",
    str(EX) + "in.side",
    str(EX) + "1digit",
    str(EX) + "-dash",
    str(EX) + "pct%41",
    str(EX) + "tilde~x",
    str(EX) + "",
    str(SLASH) + "a/b",
    str(SLASH) + "é",
    str(SLASH) + "x\u00b7y",
    str(SLASH) + "_under",
    "http://example.org/ns",  # shares a string prefix with the namespace
    "http://example.org/ns#a?b=c",
]


@pytest.mark.parametrize("iri", NASTY_IRIS)
def test_nasty_iris_round_trip_in_every_position(iri: str) -> None:
    graph = Graph()
    graph.add((URIRef(iri), URIRef(iri), URIRef(iri)))
    graph.add((EX.s, EX.p, Literal("x", datatype=URIRef(iri))))
    graph.add((EX.s, RDF.type, URIRef(iri)))
    graph.bind("ex", EX)
    graph.bind("t", SLASH)
    assert_round_trip(graph)


NASTY_LITERALS = [
    Literal(""),
    Literal("she said \"hi\" and 'bye'"),
    Literal('"""triple quoted"""'),
    Literal("back\\slash \\n not a newline \\u0041"),
    Literal("line\nbreaks\r\nand\ttabs"),
    Literal("controls \x00\x01\x08\x0b\x0c\x1f\x7f"),
    Literal("astral 🎉 and combining e\u0301"),
    Literal("x" * 100_000 + '"\n\\'),
    Literal("hello", lang="en"),
    Literal("zoë", lang="fr-be"),
    Literal("ゾエ", lang="ja-latn-jp"),
    Literal("-781.00", datatype=XSD.decimal),
    Literal(".5", datatype=XSD.decimal),
    Literal("+3", datatype=XSD.integer),
    Literal("007", datatype=XSD.integer),
    Literal("forty-two", datatype=XSD.integer),  # ill-typed: kept as it is
    Literal("1.", datatype=XSD.decimal),
    Literal("1e3", datatype=XSD.double),
    Literal("true", datatype=XSD.boolean),
    Literal("TRUE", datatype=XSD.boolean),
    Literal("2026-03-01", datatype=XSD.date),
    Literal("2026-04-01T00:00:00+00:00", datatype=XSD.dateTime),
    Literal("x y", datatype=EX.code),
    Literal("x", datatype=URIRef(BASE + "#localType")),
    Literal("<b>bold</b>", datatype=RDF.HTML),
]


@pytest.mark.parametrize("literal", NASTY_LITERALS, ids=lambda lit: repr(lit)[:60])
def test_nasty_literals_round_trip(literal: Literal) -> None:
    graph = Graph()
    graph.add((URIRef(BASE + "#me"), EX.value, literal))
    assert_round_trip(graph)


def test_literals_are_escaped_as_n_triples_escapes_them() -> None:
    graph = Graph()
    graph.add((EX.s, EX.p, Literal('a"b\\c\nd\re\tf\x00')))
    assert b'"a\\"b\\\\c\\nd\\re\\tf\\u0000"' in stored(graph)


def test_numbers_and_booleans_are_bare_only_in_their_exact_turtle_form() -> None:
    graph = Graph()
    graph.add((EX.s, EX.amount, Literal("-781.00", datatype=XSD.decimal)))
    graph.add((EX.s, EX["count"], Literal("12", datatype=XSD.integer)))
    graph.add((EX.s, EX.flag, Literal("true", datatype=XSD.boolean)))
    graph.add((EX.s, EX.odd, Literal("1", datatype=XSD.decimal)))  # bare 1 is an integer
    graph.add((EX.s, EX.ill, Literal("yes", datatype=XSD.boolean)))
    graph.bind("ex", EX)
    text = stored(graph).decode()
    assert "ex:amount -781.00 ;" in text and "12 ;" in text and "true ;" in text
    assert 'ex:odd "1"^^xsd:decimal' in text and '"yes"^^xsd:boolean' in text
    assert_round_trip(graph)
    back = rdf.parse(text.encode(), rdf.TURTLE, BASE)
    assert str(back.value(EX.s, EX.amount)) == "-781.00"


def test_an_explicit_xsd_string_is_kept_as_the_old_writer_kept_it() -> None:
    graph = Graph()
    graph.add((EX.s, EX.p, Literal("x", datatype=XSD.string)))
    data = stored(graph)
    assert b'"x"^^xsd:string' in data
    assert isomorphic(Graph().parse(data=data, format="turtle"), graph)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["iri", "blank"]),
            st.sampled_from(NASTY_IRIS),
            st.sampled_from([*NASTY_IRIS, str(RDF.type)]),
            st.one_of(
                st.sampled_from(NASTY_IRIS),
                st.sampled_from(NASTY_LITERALS[:-15]),
                st.text(st.characters(exclude_categories=("Cs",)), max_size=20).map(Literal),
                st.integers(0, 3),  # a blank node
            ),
        ),
        max_size=12,
    )
)
def test_random_graphs_round_trip(rows: list[tuple[str, str, str, object]]) -> None:
    graph = Graph()
    blanks = [BNode() for _ in range(4)]
    for kind, subject, predicate, obj in rows:
        s: Node = blanks[len(subject) % 4] if kind == "blank" else URIRef(subject)
        o: Node = (
            blanks[obj]
            if isinstance(obj, int)
            else obj
            if isinstance(obj, Literal)
            else URIRef(str(obj))
        )
        graph.add((s, URIRef(predicate), o))
    graph.bind("ex", EX)
    assert_round_trip(graph)


# --------------------------------------------------------------------------- the form


def test_subjects_group_predicates_and_objects_with_type_first() -> None:
    graph = Graph()
    me = URIRef(BASE + "#me")
    graph.add((me, EX.name, Literal("Zoë")))
    graph.add((me, EX.knows, URIRef(BASE + "#b")))
    graph.add((me, EX.knows, URIRef(BASE + "#a")))
    graph.add((me, RDF.type, EX.Person))
    graph.bind("ex", EX)
    assert stored(graph).decode() == (
        "@prefix ex: <http://example.org/ns#> .\n"
        "\n"
        "<#me> a ex:Person ;\n"
        "    ex:knows <#a> ,\n"
        "        <#b> ;\n"
        '    ex:name "Zoë" .\n'
    )


def test_blank_nodes_are_labelled_in_order_of_appearance() -> None:
    graph = Graph()
    first, second = BNode(), BNode()
    graph.add((EX.s, EX.p, second))
    graph.add((second, EX.name, Literal("b")))
    graph.add((EX.s, EX.q, first))
    graph.add((first, EX.name, Literal("a")))
    graph.add((first, EX.next, first))
    graph.bind("ex", EX)
    text = stored(graph).decode()
    assert "ex:p _:b0 ;" in text and "ex:q _:b1 ." in text
    assert "[" not in text and "(" not in text
    assert text.index("_:b0") < text.index("_:b1") and "_:b2" not in text
    assert_round_trip(graph)


def test_output_is_the_same_whatever_the_insertion_order_or_blank_ids() -> None:
    def build(order: int) -> Graph:
        graph = Graph()
        alice, bob = BNode(), BNode()  # fresh random ids each time
        triples = [
            (EX.s, EX.knows, alice),
            (EX.s, EX.knows, bob),
            (alice, EX.name, Literal("Alice")),
            (bob, EX.name, Literal("Bob")),
            (EX.s, RDF.type, EX.Person),
            (EX.s, EX.z, Literal("1", datatype=XSD.integer)),
            (EX.a, EX.b, EX.c),
        ]
        for triple in triples[::order]:
            graph.add(triple)
        return graph

    assert stored(build(1)) == stored(build(-1))


def test_only_used_prefixes_are_declared_and_ours_win() -> None:
    graph = Graph(bind_namespaces="none")
    graph.bind("my", "http://my.example/v#")
    graph.bind("foaf", "http://not-foaf.example/")  # clashes with ours: dropped
    graph.add((URIRef(BASE + "#me"), URIRef("http://my.example/v#name"), Literal("x")))
    graph.add((URIRef(BASE + "#me"), URIRef("http://xmlns.com/foaf/0.1/age"), Literal("1")))
    graph.add((URIRef(BASE + "#me"), URIRef("http://not-foaf.example/x"), Literal("2")))
    text = stored(graph).decode()
    assert "@prefix my: <http://my.example/v#> ." in text
    assert "@prefix foaf: <http://xmlns.com/foaf/0.1/> ." in text
    assert "@prefix ns1: <http://not-foaf.example/> ." in text and "ns1:x" in text
    assert "@prefix xsd:" not in text and "@prefix rdf:" not in text
    assert_round_trip(graph)


def test_the_longest_namespace_wins_and_bad_prefixes_are_not_used() -> None:
    table = {"a": "http://e.example/", "ab": "http://e.example/sub/", "1x": "http://e.example/"}
    triples = terms_of([(URIRef("http://e.example/sub/t"), URIRef("http://e.example/p"), EX.o)])
    text = write_turtle(triples, None, table).decode()
    assert "ab:t a:p <http://example.org/ns#o> ." in text
    assert "1x:" not in text


def test_names_that_are_not_plain_local_parts_are_written_in_full() -> None:
    graph = Graph()
    for local in ("a:b", "a%20b", "a.", "~x", "a/b", "a#b", "a?b", "-a"):
        graph.add((EX.s, EX.p, URIRef(str(SLASH) + local)))
    graph.bind("ex", EX)
    graph.bind("t", SLASH)
    text = stored(graph).decode()
    for local in ("a:b", "a%20b", "a.", "~x", "a/b", "a#b", "a?b", "-a"):
        assert f"<{SLASH}{local}>" in text
    assert_round_trip(graph)


def test_relative_iris_only_where_safe() -> None:
    graph = Graph()
    for iri in (BASE, BASE + "#me", BASE + "2", DIRECTORY + "other", BASE + "#a:b"):
        graph.add((URIRef(iri), EX.p, EX.o))
    graph.bind("ex", EX)
    text = stored(graph).decode()
    assert "<> ex:p" in text and "<#me> ex:p" in text and "<other> ex:p" in text
    # A sibling sharing a string prefix with the base is itself, never "<2>".
    assert "<transactions-2026-032> ex:p" in text and "<2>" not in text
    assert f"<{BASE}#a:b>" in text
    # Stored text follows the resource when it moves: read against another base.
    moved = "https://new.example/bob/bank/transactions-2026-03"
    back = rdf.parse(text.encode(), rdf.TURTLE, moved)
    assert (URIRef(moved + "#me"), EX.p, EX.o) in back


def test_no_base_means_absolute_iris() -> None:
    triples = terms_of([(URIRef(BASE + "#me"), URIRef(BASE + "#p"), URIRef(BASE))])
    text = write_turtle(triples, None, {}).decode()
    assert text == f"@prefix ns1: <{BASE}#> .\n\nns1:me ns1:p <{BASE}> .\n"


def test_prefixes_are_made_up_for_predicates_without_one() -> None:
    graph = Graph(bind_namespaces="none")
    graph.bind("ns1", "http://taken.example/")
    me = URIRef(BASE + "#me")
    graph.add((me, URIRef("http://taken.example/p"), Literal("1")))
    graph.add((me, URIRef("http://a.example/v#name"), URIRef("http://a.example/v#Thing")))
    graph.add((me, URIRef("http://b.example/terms/q"), URIRef("http://c.example/o")))
    graph.add((me, URIRef("http://d.example/x:y"), Literal("no valid local part")))
    graph.add((me, URIRef(BASE + "#own"), Literal("relative, no prefix")))
    text = stored(graph).decode()
    assert "@prefix ns1: <http://taken.example/> ." in text  # the document's own
    assert "@prefix ns2: <http://a.example/v#> ." in text and "ns2:name ns2:Thing" in text
    assert "@prefix ns3: <http://b.example/terms/> ." in text
    assert "<http://c.example/o>" in text and "<http://d.example/x:y>" in text
    assert "<#own>" in text and text.count("@prefix") == 3
    assert_round_trip(graph)


def test_the_projects_vocabularies_have_their_prefixes() -> None:
    bank = vocab.namespace("bank")
    graph = Graph(bind_namespaces="none")
    graph.add((URIRef(BASE + "#t1"), RDF.type, URIRef(bank + "Transaction")))
    graph.add(
        (URIRef(BASE + "#t1"), URIRef(bank + "amount"), Literal("-5.48", datatype=XSD.decimal))
    )
    text = stored(graph).decode()
    assert f"@prefix bank: <{bank}> ." in text
    assert "<#t1> a bank:Transaction ;\n    bank:amount -5.48 .\n" in text
    # Not in what content negotiation writes: that table is unchanged.
    assert "@prefix bank:" not in rdf.serialize(graph, rdf.TURTLE, BASE).decode()


# --------------------------------------------------------------------------- fallback


def test_terms_it_does_not_write_raise_unwritable() -> None:
    with pytest.raises(Unwritable):
        write_turtle(terms_of([(EX.s, EX.p, Variable("x"))]), BASE, {})
    with pytest.raises(Unwritable):
        write_turtle(terms_of([(URIRef("http://e.example/a b"), EX.p, EX.o)]), BASE, {})
    with pytest.raises(Unwritable):
        write_turtle(terms_of([(Literal("s"), EX.p, EX.o)]), BASE, {})
    with pytest.raises(Unwritable):
        write_turtle(terms_of([(EX.s, BNode(), EX.o)]), BASE, {})
    with pytest.raises(Unwritable):
        write_turtle(terms_of([(EX.s, EX.p, Literal("a\ud800b"))]), BASE, {})


def test_storage_turtle_refuses_what_it_could_not_read_back() -> None:
    # rdflib's writer (the fallback) writes it, but that text is not Turtle: a document
    # stored so could no longer be read, so the write is a 400 and nothing is stored.
    graph = Graph()
    graph.add((URIRef(BASE + "#me"), EX.p, Literal("x")))
    graph.add((Literal("a literal subject"), EX.q, EX.o))  # hand-built (or N3): not RDF
    assert b"a literal subject" in old_writer(graph)
    with pytest.raises(BadRequest, match="not valid RDF"):
        stored(graph)


def test_a_stored_document_oxigraph_refuses_is_still_read() -> None:
    # Stored before writes were checked: rdflib reads what Oxigraph's grammar refuses.
    legacy = b'<http://ex.org/a#b#c> <http://ex.org/p> "x" .\n'
    with pytest.raises(BadRequest):
        rdf.parse(legacy, "text/turtle", BASE)  # from a client: a 400
    graph = rdf.parse_stored(legacy, "text/turtle", BASE)
    assert set(graph) == {(URIRef("http://ex.org/a#b#c"), URIRef("http://ex.org/p"), Literal("x"))}
    with pytest.raises(BadRequest):  # not Turtle at all: no second chance
        rdf.parse_stored(b"<a> <b", "text/turtle", BASE)
