"""PATCH engines: N3 Patch (Solid Protocol 0.11) and SPARQL 1.1 Update, as pure functions."""

from __future__ import annotations

import pytest
from rdflib import BNode, Graph, Literal, URIRef

from pod_server.errors import (
    BadRequest,
    Conflict,
    PodError,
    UnprocessableEntity,
    UnsupportedMediaType,
)
from pod_server.ldp.patch import ACCEPT_PATCH, Patch, apply_patch, parse_patch

BASE = "https://pod.example/alice/doc"
EX = "http://www.example.org/terms#"
N3 = "text/n3"
SPARQL = "application/sparql-update"
PREFIXES = f"@prefix solid: <http://www.w3.org/ns/solid/terms#>.\n@prefix ex: <{EX}>.\n"


def ex(name: str) -> URIRef:
    return URIRef(EX + name)


def me(fragment: str = "me") -> URIRef:
    return URIRef(f"{BASE}#{fragment}")


def turtle(data: str) -> Graph:
    graph = Graph()
    graph.parse(data=f"@prefix ex: <{EX}>.\n{data}", format="turtle", publicID=BASE)
    return graph


def n3(body: str) -> Patch:
    return parse_patch((PREFIXES + body).encode(), N3, BASE)


def sparql(body: str) -> Patch:
    return parse_patch(body.encode(), SPARQL, BASE)


def raises(error: type[PodError], body: str, media_type: str = N3) -> PodError:
    """Parse (and apply to an empty graph) expecting ``error``; return it for message checks."""
    text = PREFIXES + body if media_type == N3 else body
    with pytest.raises(error) as caught:
        apply_patch(Graph(), parse_patch(text.encode(), media_type, BASE))
    assert type(caught.value) is error  # not a subclass standing in for it
    return caught.value


@pytest.fixture
def garcia() -> Graph:
    return turtle('<#claudia> ex:familyName "Garcia"; ex:givenName "Claudia".')


# --- N3 Patch: applying --------------------------------------------------------------------


def test_n3_insert_into_empty_graph_creates_triples() -> None:
    patch = n3('_:p a solid:InsertDeletePatch; solid:inserts { <#me> ex:name "Alice". }.')
    result = apply_patch(Graph(), patch)
    assert set(result) == {(me(), ex("name"), Literal("Alice"))}
    assert (patch.inserts_only, patch.deletes, patch.has_where) == (True, False, False)


def test_n3_spec_example_renames_via_where_binding(garcia: Graph) -> None:
    patch = n3(
        """_:rename a solid:InsertDeletePatch;
          solid:where   { ?person ex:familyName "Garcia". };
          solid:inserts { ?person ex:givenName "Alex". };
          solid:deletes { ?person ex:givenName "Claudia". }."""
    )
    result = apply_patch(garcia, patch)
    assert (me("claudia"), ex("givenName"), Literal("Alex")) in result
    assert (me("claudia"), ex("givenName"), Literal("Claudia")) not in result
    assert len(result) == 2
    assert (patch.inserts_only, patch.deletes, patch.has_where) == (False, True, True)


def test_n3_input_graph_is_untouched_and_result_is_new(garcia: Graph) -> None:
    before = set(garcia)
    patch = n3(
        '<#p> a solid:InsertDeletePatch; solid:deletes { <#claudia> ex:givenName "Claudia". };'
        ' solid:inserts { <#claudia> ex:nick "C". }.'
    )
    result = apply_patch(garcia, patch)
    assert set(garcia) == before
    assert result is not garcia
    assert set(result) != before


def test_n3_relative_iris_resolve_against_base() -> None:
    patch = n3(
        "<#patch> a solid:InsertDeletePatch;"
        " solid:inserts { <#me> ex:knows <../bob/card#me>, <>, <other>. }."
    )
    objects = set(apply_patch(Graph(), patch).objects(me(), ex("knows")))
    assert objects == {
        URIRef("https://pod.example/bob/card#me"),
        URIRef(BASE),
        URIRef("https://pod.example/alice/other"),
    }


def test_n3_where_only_patch_needs_read_and_changes_nothing(garcia: Graph) -> None:
    patch = n3('<#p> a solid:InsertDeletePatch; solid:where { ?x ex:familyName "Garcia". }.')
    assert (patch.inserts_only, patch.deletes, patch.has_where) == (False, False, True)
    assert set(apply_patch(garcia, patch)) == set(garcia)


def test_n3_where_with_inserts_only_is_not_an_unconditional_append(garcia: Graph) -> None:
    patch = n3(
        "<#p> a solid:InsertDeletePatch;"
        ' solid:where { ?x ex:familyName "Garcia". }; solid:inserts { ?x ex:nick "G". }.'
    )
    assert (patch.inserts_only, patch.deletes, patch.has_where) == (False, False, True)
    assert (me("claudia"), ex("nick"), Literal("G")) in apply_patch(garcia, patch)


def test_n3_where_no_match_is_409(garcia: Graph) -> None:
    patch = n3(
        "<#p> a solid:InsertDeletePatch;"
        ' solid:where { ?x ex:familyName "Smith". }; solid:inserts { ?x ex:nick "S". }.'
    )
    with pytest.raises(Conflict, match="does not match"):
        apply_patch(garcia, patch)


def test_n3_where_two_matches_is_409() -> None:
    graph = turtle('<#a> ex:familyName "Garcia". <#b> ex:familyName "Garcia".')
    patch = n3(
        "<#p> a solid:InsertDeletePatch;"
        ' solid:where { ?x ex:familyName "Garcia". }; solid:inserts { ?x ex:nick "G". }.'
    )
    with pytest.raises(Conflict, match="more than one"):
        apply_patch(graph, patch)


def test_n3_where_join_narrows_to_one_match() -> None:
    graph = turtle(
        '<#a> ex:familyName "Garcia"; ex:givenName "Ana". <#b> ex:familyName "Garcia"; '
        'ex:givenName "Bea".'
    )
    patch = n3(
        "<#p> a solid:InsertDeletePatch;"
        ' solid:where { ?x ex:familyName "Garcia"; ex:givenName "Bea". };'
        ' solid:inserts { ?x ex:nick "B". }.'
    )
    assert (me("b"), ex("nick"), Literal("B")) in apply_patch(graph, patch)


def test_n3_repeated_variable_must_bind_consistently() -> None:
    graph = turtle("<#a> ex:knows <#a>. <#b> ex:knows <#c>.")
    patch = n3(
        "<#p> a solid:InsertDeletePatch;"
        ' solid:where { ?x ex:knows ?x. }; solid:inserts { ?x ex:note "self". }.'
    )
    assert (me("a"), ex("note"), Literal("self")) in apply_patch(graph, patch)


def test_n3_blank_node_in_where_matches_existentially() -> None:
    # Two blank-node witnesses, one ?x: still exactly one variable mapping.
    graph = turtle('<#a> ex:address [ ex:city "Paris" ], [ ex:city "Lyon" ].')
    patch = n3(
        "<#p> a solid:InsertDeletePatch;"
        " solid:where { ?x ex:address [ ]. }; solid:inserts { ?x ex:hasAddress true. }."
    )
    assert (me("a"), ex("hasAddress"), Literal(True)) in apply_patch(graph, patch)


def test_n3_delete_of_absent_triple_is_409(garcia: Graph) -> None:
    patch = n3('<#p> a solid:InsertDeletePatch; solid:deletes { <#claudia> ex:nick "X". }.')
    with pytest.raises(Conflict, match="not in the document"):
        apply_patch(garcia, patch)


def test_n3_delete_fails_atomically_when_one_triple_is_absent(garcia: Graph) -> None:
    patch = n3(
        "<#p> a solid:InsertDeletePatch;"
        ' solid:deletes { <#claudia> ex:givenName "Claudia". <#claudia> ex:nick "X". }.'
    )
    with pytest.raises(Conflict):
        apply_patch(garcia, patch)
    assert len(garcia) == 2


def test_n3_insert_and_delete_of_same_triple_keeps_it(garcia: Graph) -> None:
    triple = '<#claudia> ex:givenName "Claudia".'
    patch = n3(
        f"<#p> a solid:InsertDeletePatch; solid:deletes {{ {triple} }}; solid:inserts {{ {triple} }}."
    )
    assert set(apply_patch(garcia, patch)) == set(garcia)


def test_n3_variable_bound_to_literal_cannot_become_a_subject() -> None:
    graph = turtle('<#a> ex:name "Ann".')
    patch = n3(
        "<#p> a solid:InsertDeletePatch;"
        " solid:where { <#a> ex:name ?n. }; solid:inserts { ?n ex:of <#a>. }."
    )
    with pytest.raises(Conflict, match="invalid triple"):
        apply_patch(graph, patch)


def test_n3_media_type_parameters_are_accepted() -> None:
    body = (PREFIXES + "<#p> a solid:InsertDeletePatch.").encode()
    assert parse_patch(body, "Text/N3; charset=utf-8", BASE).media_type == N3


# --- N3 Patch: malformed (400) and structurally invalid (422) ------------------------------


def test_n3_syntax_error_is_400_with_line_number() -> None:
    error = raises(
        BadRequest, '<#p> a solid:InsertDeletePatch;\n solid:inserts { <#a> ex:b "x }.\n'
    )
    # PREFIXES is two lines, so the broken literal is on line 4.
    assert "line 4" in error.message
    assert "b'" not in error.message  # no bytes reprs leaking from rdflib's message


def test_n3_undefined_prefix_is_400() -> None:
    error = raises(BadRequest, "<#p> a solid:InsertDeletePatch; solid:inserts { <#a> foaf:b 1 }.")
    assert "foaf:" in error.message and "line 3" in error.message


@pytest.mark.parametrize(
    "body",
    [
        "<#p> a solid:InsertDeletePatch; solid:inserts { <#a> ex:b 1 }",  # no final "."
        '<#p> a solid:InsertDeletePatch; solid:inserts { <#a> ex:b "x"@1bad }.',
        '<#p> a solid:InsertDeletePatch; solid:inserts { <#a> ex:b """open }.',
    ],
    ids=["missing-final-dot", "bad-language-tag", "unterminated-long-string"],
)
def test_n3_errors_rdflib_reports_oddly_are_still_400(body: str) -> None:
    error = raises(BadRequest, body)
    assert "line" in error.message


def test_n3_invalid_iri_is_400() -> None:
    raises(BadRequest, "<#p> a solid:InsertDeletePatch; solid:inserts { <#a> ex:b <c d> }.")


def test_n3_without_insert_delete_patch_is_422() -> None:
    error = raises(UnprocessableEntity, "<#p> solid:inserts { <#a> ex:b 1 }.")
    assert "solid:InsertDeletePatch" in error.message


def test_n3_other_patch_type_is_422() -> None:
    error = raises(UnprocessableEntity, "<#p> a solid:Patch; solid:inserts { <#a> ex:b 1 }.")
    assert "not supported" in error.message


def test_n3_empty_document_is_422() -> None:
    raises(UnprocessableEntity, "")


def test_n3_two_patch_resources_is_422() -> None:
    error = raises(
        UnprocessableEntity,
        "<#p> a solid:InsertDeletePatch; solid:inserts { <#a> ex:b 1 }.\n"
        "<#q> a solid:InsertDeletePatch; solid:inserts { <#a> ex:b 2 }.",
    )
    assert "exactly one" in error.message


def test_n3_clause_on_a_second_subject_is_422() -> None:
    raises(
        UnprocessableEntity,
        "<#p> a solid:InsertDeletePatch. <#q> solid:inserts { <#a> ex:b 2 }.",
    )


@pytest.mark.parametrize("clause", ["inserts", "deletes", "where"])
def test_n3_clause_given_twice_is_422(clause: str) -> None:
    error = raises(
        UnprocessableEntity,
        f"<#p> a solid:InsertDeletePatch; solid:{clause} {{ <#a> ex:b 1 }}, {{ <#a> ex:b 2 }}.",
    )
    assert f"solid:{clause}" in error.message


def test_n3_clause_that_is_not_a_formula_is_422() -> None:
    error = raises(UnprocessableEntity, "<#p> a solid:InsertDeletePatch; solid:inserts <#a>.")
    assert "formula" in error.message


def test_n3_nested_formula_is_422() -> None:
    raises(
        UnprocessableEntity,
        "<#p> a solid:InsertDeletePatch; solid:inserts { { <#a> ex:b 1 } ex:c <#d> }.",
    )


def test_n3_literal_subject_is_422() -> None:
    raises(UnprocessableEntity, '<#p> a solid:InsertDeletePatch; solid:inserts { "x" ex:c <#d> }.')


@pytest.mark.parametrize("clause", ["inserts", "deletes"])
def test_n3_variable_not_in_where_is_422(clause: str) -> None:
    error = raises(
        UnprocessableEntity,
        f"<#p> a solid:InsertDeletePatch; solid:where {{ ?y ex:a 1 }};"
        f" solid:{clause} {{ ?x ex:b ?y }}.",
    )
    assert "?x" in error.message and "?y" not in error.message


@pytest.mark.parametrize(
    ("clause", "formula"),
    [
        ("deletes", "{ <#a> ex:b _:x }"),
        ("deletes", "{ [] ex:b 1 }"),
        # The brief assumed inserts may hold blank nodes; Solid Protocol 0.11 says: "The
        # ?insertions and ?deletions formulae MUST NOT contain blank nodes", and a 422.
        ("inserts", "{ <#a> ex:b _:x }"),
        ("inserts", "{ <#a> ex:b [ ex:c 1 ] }"),
        ("inserts", "{ <#a> ex:list (1 2) }"),  # a list is made of blank nodes
    ],
)
def test_n3_blank_node_in_inserts_or_deletes_is_422(clause: str, formula: str) -> None:
    error = raises(
        UnprocessableEntity, f"<#p> a solid:InsertDeletePatch; solid:{clause} {formula}."
    )
    assert "blank node" in error.message


def test_n3_blank_node_as_patch_identifier_is_fine() -> None:
    patch = n3("_:patch a solid:InsertDeletePatch; solid:inserts { <#a> ex:b 1 }.")
    assert len(apply_patch(Graph(), patch)) == 1


# --- SPARQL Update -------------------------------------------------------------------------


def test_sparql_insert_data_into_empty_graph() -> None:
    patch = sparql(f'INSERT DATA {{ <#me> <{EX}name> "Alice" . }}')
    assert set(apply_patch(Graph(), patch)) == {(me(), ex("name"), Literal("Alice"))}
    assert (patch.inserts_only, patch.deletes, patch.has_where) == (True, False, False)


def test_sparql_delete_data_removes_triple(garcia: Graph) -> None:
    patch = sparql(f'DELETE DATA {{ <#claudia> <{EX}givenName> "Claudia" }}')
    result = apply_patch(garcia, patch)
    assert set(result) == {(me("claudia"), ex("familyName"), Literal("Garcia"))}
    assert (patch.inserts_only, patch.deletes, patch.has_where) == (False, True, False)


def test_sparql_delete_data_of_absent_triple_is_a_no_op(garcia: Graph) -> None:
    # SPARQL semantics, deliberately unlike N3 Patch's 409.
    patch = sparql(f'DELETE DATA {{ <#claudia> <{EX}nick> "nobody" }}')
    assert set(apply_patch(garcia, patch)) == set(garcia)


def test_sparql_delete_insert_where(garcia: Graph) -> None:
    patch = sparql(
        f"PREFIX ex: <{EX}>\n"
        'DELETE { ?p ex:givenName "Claudia" } INSERT { ?p ex:givenName "Alex" }\n'
        'WHERE { ?p ex:familyName "Garcia" }'
    )
    result = apply_patch(garcia, patch)
    assert set(result.objects(me("claudia"), ex("givenName"))) == {Literal("Alex")}
    assert (patch.inserts_only, patch.deletes, patch.has_where) == (False, True, True)


def test_sparql_deletes_for_all_solutions_before_inserting() -> None:
    # rdflib's own evalUpdate deletes and inserts solution by solution and would lose a triple
    # here; SPARQL 1.1 Update §3.1.3 (and we) delete first, then insert.
    graph = turtle("<#a> ex:p <#b>. <#b> ex:p <#a>.")
    patch = sparql(
        f"PREFIX ex: <{EX}> DELETE {{ ?x ex:p ?y }} INSERT {{ ?y ex:p ?x }} WHERE {{ ?x ex:p ?y }}"
    )
    assert set(apply_patch(graph, patch)) == set(graph)


def test_sparql_insert_where_needs_read_but_does_not_delete(garcia: Graph) -> None:
    patch = sparql(
        f'PREFIX ex: <{EX}> INSERT {{ ?p ex:nick "G" }} WHERE {{ ?p ex:familyName "Garcia" }}'
    )
    assert (patch.inserts_only, patch.deletes, patch.has_where) == (False, False, True)
    assert (me("claudia"), ex("nick"), Literal("G")) in apply_patch(garcia, patch)


def test_sparql_optional_and_filter_in_where(garcia: Graph) -> None:
    patch = sparql(
        f"PREFIX ex: <{EX}> INSERT {{ ?p ex:nick ?n }} WHERE {{ ?p ex:familyName ?f "
        'OPTIONAL { ?p ex:missing ?n } FILTER(STRSTARTS(?f, "Gar")) }'
    )
    # ?n stays unbound, so the template triple is skipped rather than inserted half-empty.
    assert set(apply_patch(garcia, patch)) == set(garcia)


def test_sparql_delete_where(garcia: Graph) -> None:
    patch = sparql(f"DELETE WHERE {{ <#claudia> <{EX}givenName> ?any }}")
    assert set(apply_patch(garcia, patch)) == {(me("claudia"), ex("familyName"), Literal("Garcia"))}
    assert (patch.inserts_only, patch.deletes, patch.has_where) == (False, True, True)


def test_sparql_several_operations_with_prefixes_and_trailing_semicolon(garcia: Graph) -> None:
    patch = sparql(
        f"PREFIX ex: <{EX}>\n"
        'DELETE DATA { <#claudia> ex:givenName "Claudia" } ;\n'
        'INSERT DATA { <#claudia> ex:givenName "Alex" } ;\n'
        "PREFIX foaf: <http://xmlns.com/foaf/0.1/>\n"
        "INSERT DATA { <#claudia> foaf:knows <#me> . ex:later ex:sees <#claudia> } ;\n"
    )
    result = apply_patch(garcia, patch)
    assert set(result.objects(me("claudia"), ex("givenName"))) == {Literal("Alex")}
    assert (me("claudia"), URIRef("http://xmlns.com/foaf/0.1/knows"), me()) in result
    assert (ex("later"), ex("sees"), me("claudia")) in result  # ex: carries over
    assert (patch.inserts_only, patch.deletes, patch.has_where) == (False, True, False)


def test_sparql_operations_apply_in_order() -> None:
    patch = sparql(f"INSERT DATA {{ <#a> <{EX}p> 1 }}; DELETE WHERE {{ <#a> <{EX}p> ?o }}")
    assert len(apply_patch(Graph(), patch)) == 0


def test_sparql_relative_iris_resolve_against_base() -> None:
    patch = sparql("INSERT DATA { <#me> <../vocab#knows> <> , <other> , <a/b:c> }")
    result = apply_patch(Graph(), patch)
    knows = URIRef("https://pod.example/vocab#knows")
    assert set(result.objects(me(), knows)) == {
        URIRef(BASE),
        URIRef("https://pod.example/alice/other"),
        URIRef("https://pod.example/alice/a/b:c"),
    }


def test_sparql_base_declaration_holds_for_later_operations() -> None:
    patch = sparql(
        "BASE <https://other.example/dir/> INSERT DATA { <a> <p> <#t:1> };"
        " INSERT DATA { <b> <p> <../c> }"
    )
    assert set(apply_patch(Graph(), patch)) == {
        (
            URIRef("https://other.example/dir/a"),
            URIRef("https://other.example/dir/p"),
            URIRef("https://other.example/dir/#t:1"),
        ),
        (
            URIRef("https://other.example/dir/b"),
            URIRef("https://other.example/dir/p"),
            URIRef("https://other.example/c"),
        ),
    }


def test_sparql_only_insert_data_operations_are_inserts_only() -> None:
    patch = sparql(f"INSERT DATA {{ <#a> <{EX}p> 1 }}; INSERT DATA {{ <#a> <{EX}p> 2 }};")
    assert (patch.inserts_only, patch.deletes, patch.has_where) == (True, False, False)


def test_sparql_empty_update_is_a_no_op(garcia: Graph) -> None:
    patch = sparql(f"PREFIX ex: <{EX}>")
    assert set(apply_patch(garcia, patch)) == set(garcia)
    assert (patch.inserts_only, patch.deletes, patch.has_where) == (True, False, False)


def test_sparql_blank_nodes_in_insert_data_are_fresh() -> None:
    graph = Graph()
    graph.add((me(), ex("p"), BNode("b")))  # same label the patch uses
    result = apply_patch(graph, sparql(f"INSERT DATA {{ <#me> <{EX}q> _:b . _:b <{EX}r> 1 }}"))
    (node,) = result.objects(me(), ex("q"))
    assert isinstance(node, BNode) and node != BNode("b")
    assert (node, ex("r"), Literal(1)) in result


def test_sparql_input_graph_is_untouched(garcia: Graph) -> None:
    before = set(garcia)
    apply_patch(garcia, sparql(f"DELETE WHERE {{ ?s ?p ?o }}; INSERT DATA {{ <#x> <{EX}p> 1 }}"))
    assert set(garcia) == before


def test_inrupt_solid_client_patch(garcia: Graph) -> None:
    # Shape of @inrupt/solid-client's saveSolidDatasetAt body: `${deletes} ${inserts}`, each
    # "DELETE DATA {…};" / "INSERT DATA {…};" with absolute IRIs written by the N3.js Writer.
    doc = BASE
    body = (
        f'DELETE DATA {{<{doc}#claudia> <{EX}givenName> "Claudia".}}; '
        f'INSERT DATA {{<{doc}#claudia> <{EX}givenName> "Alex".\n'
        f'<{doc}#claudia> <{EX}age> "42"^^<http://www.w3.org/2001/XMLSchema#integer>.\n'
        f'<{doc}#claudia> <{EX}bio> "Hola"@es.}};'
    )
    patch = sparql(body)
    result = apply_patch(garcia, patch)
    assert set(result.objects(me("claudia"), ex("givenName"))) == {Literal("Alex")}
    assert (me("claudia"), ex("age"), Literal(42)) in result
    assert (me("claudia"), ex("bio"), Literal("Hola", lang="es")) in result
    assert (patch.inserts_only, patch.deletes, patch.has_where) == (False, True, False)


def test_inrupt_insert_only_patch_has_a_leading_space() -> None:
    patch = sparql(f' INSERT DATA {{<{BASE}#me> <{EX}name> "Alice".}};')
    assert patch.inserts_only
    assert len(apply_patch(Graph(), patch)) == 1


@pytest.mark.parametrize(
    ("body", "keyword"),
    [
        ("LOAD <http://example.org/data.ttl>", "LOAD"),
        ("CLEAR DEFAULT", "CLEAR"),
        ("CLEAR ALL", "CLEAR"),
        ("CREATE GRAPH <http://example.org/g>", "CREATE"),
        ("DROP GRAPH <http://example.org/g>", "DROP"),
        ("COPY DEFAULT TO <http://example.org/g>", "COPY"),
        ("MOVE <http://example.org/g> TO DEFAULT", "MOVE"),
        ("ADD <http://example.org/g> TO DEFAULT", "ADD"),
        ("INSERT DATA { GRAPH <http://example.org/g> { <#a> <#b> <#c> } }", "GRAPH"),
        ("DELETE DATA { GRAPH <http://example.org/g> { <#a> <#b> <#c> } }", "GRAPH"),
        ("DELETE WHERE { GRAPH <http://example.org/g> { ?s ?p ?o } }", "GRAPH"),
        ("INSERT { GRAPH <http://example.org/g> { ?s ?p ?o } } WHERE { ?s ?p ?o }", "GRAPH"),
        ("INSERT { ?s ?p ?o } WHERE { GRAPH <http://example.org/g> { ?s ?p ?o } }", "GRAPH"),
        ("WITH <http://example.org/g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }", "WITH"),
        ("DELETE { ?s ?p ?o } USING <http://example.org/g> WHERE { ?s ?p ?o }", "USING"),
        ("DELETE { ?s ?p ?o } USING NAMED <http://example.org/g> WHERE { ?s ?p ?o }", "USING"),
        (
            "INSERT { ?s ?p ?o } WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }",
            "SERVICE",
        ),
        (
            "INSERT { ?s ?p ?o } WHERE { { ?s ?p ?o } UNION { SERVICE <http://x/> { ?s ?p ?o } } }",
            "SERVICE",
        ),
        ("INSERT DATA { <#a> <#b> 1 }; LOAD <http://example.org/data.ttl>", "LOAD"),
        (
            "DELETE { ?s ?p ?o } WHERE { ?s ?p ?o FILTER EXISTS { GRAPH <http://x/> { ?s ?p ?o } } }",
            "GRAPH",
        ),
    ],
)
def test_sparql_operations_beyond_the_target_are_422(body: str, keyword: str) -> None:
    error = raises(UnprocessableEntity, body, SPARQL)
    assert keyword in error.message


@pytest.mark.parametrize(
    "body",
    [
        "INSERT DATA { <#a> <#b> <#c> ",
        "INSERT DATA { <#a> <#b> <#c> }\nDELETE DATA { <#a> <#b> <#c> }",  # missing ";"
        "INSERT DATA { <#a> <#b> <#c> } ;;",
        "SELECT * WHERE { ?s ?p ?o }",
        "INSERT DATA { <a b> <#b> <#c> }",
    ],
)
def test_sparql_syntax_error_is_400(body: str) -> None:
    error = raises(BadRequest, body, SPARQL)
    assert "line" in error.message


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        # rdflib would silently resolve foaf: and schema: (pre-bound prefixes).
        ("INSERT DATA { <#a> foaf:name 'x' }", "undeclared prefix 'foaf:'"),
        ("INSERT DATA { <#a> schema:name 'x' }", "undeclared prefix 'schema:'"),
        ("INSERT DATA { <#a> :name 'x' }", "undeclared prefix ':'"),
        ("INSERT DATA { <#a> <#b> ?x }", "variables"),
        ("DELETE DATA { <#a> <#b> _:x }", "blank nodes"),
        ("DELETE WHERE { _:x <#b> ?o }", "blank nodes"),
        ("DELETE { _:x <#b> ?o } WHERE { ?s <#b> ?o }", "blank nodes"),
    ],
)
def test_sparql_grammar_rules_rdflib_does_not_enforce_are_400(body: str, detail: str) -> None:
    error = raises(BadRequest, body, SPARQL)
    assert detail in error.message


@pytest.mark.parametrize(
    ("media_type", "body"),
    [
        (SPARQL, "INSERT { ?s <#p> ?o } WHERE { " + "{ " * 200 + "?s <#p> ?o" + " }" * 200 + " }"),
        (
            N3,
            "<#p> a solid:InsertDeletePatch; solid:where { <#a> <#b> "
            + "[ <#c> " * 400
            + "1"
            + " ]" * 400
            + " }.",
        ),
    ],
)
def test_deeply_nested_body_is_400_not_a_crash(media_type: str, body: str) -> None:
    error = raises(BadRequest, body, media_type)
    assert "nested too deeply" in error.message


def test_sparql_prefix_declared_earlier_applies_to_later_operations() -> None:
    patch = sparql(
        f"PREFIX ex: <{EX}> INSERT DATA {{ <#a> ex:p 1 }}; INSERT DATA {{ <#a> ex:p 2 }}"
    )
    assert len(apply_patch(Graph(), patch)) == 2


# --- entry point: media types and encoding -------------------------------------------------


@pytest.mark.parametrize("media_type", ["text/turtle", "application/json-patch+json", ""])
def test_unsupported_media_type_is_415_listing_accepted_ones(media_type: str) -> None:
    with pytest.raises(UnsupportedMediaType) as caught:
        parse_patch(b"", media_type, BASE)
    assert "text/n3" in caught.value.message and SPARQL in caught.value.message
    assert caught.value.headers["Accept-Patch"] == ACCEPT_PATCH


def test_non_utf8_charset_is_415() -> None:
    with pytest.raises(UnsupportedMediaType, match="charset"):
        parse_patch(b"", "application/sparql-update; charset=latin-1", BASE)


@pytest.mark.parametrize("media_type", [N3, SPARQL])
def test_body_that_is_not_utf8_is_400(media_type: str) -> None:
    with pytest.raises(BadRequest, match="UTF-8"):
        parse_patch(b"INSERT DATA { <#a> <#b> '\xff' }", media_type, BASE)


def test_utf8_byte_order_mark_is_tolerated() -> None:
    patch = parse_patch("\ufeffINSERT DATA { <#a> <#b> 'é' }".encode(), SPARQL, BASE)
    assert (me("a"), me("b"), Literal("é")) in apply_patch(Graph(), patch)


def test_patch_is_frozen() -> None:
    patch = sparql("INSERT DATA { <#a> <#b> 1 }")
    with pytest.raises(AttributeError):
        patch.deletes = True  # type: ignore[misc]


def test_n3_where_clause_evaluation_is_bounded() -> None:
    from pod_server.ldp.n3patch import STEPS_PER_SOLUTION

    # More candidate triples than one solution's steps, none with subject == object.
    count = STEPS_PER_SOLUTION + 10
    graph = turtle(" ".join(f"<#s{i}> ex:p <#o{i}>." for i in range(count)))
    patch = n3(
        "<#p> a solid:InsertDeletePatch; solid:where { ?a ex:p ?a. }; solid:inserts { ?a ex:r 1. }."
    )
    with pytest.raises(UnprocessableEntity, match="too expensive"):
        apply_patch(graph, patch, max_solutions=1)
    with pytest.raises(Conflict, match="does not match"):  # within a larger budget: no match
        apply_patch(graph, patch, max_solutions=2)


def test_result_keeps_identifier_and_prefixes(garcia: Graph) -> None:
    garcia.bind("ex", EX)
    result = apply_patch(garcia, sparql("INSERT DATA { <#a> <#b> 1 }"))
    assert result.identifier == garcia.identifier
    assert dict(result.namespaces())["ex"] == URIRef(EX)


def test_sparql_prefix_ending_in_hash_keeps_it() -> None:
    """Regression: a PREFIX IRI ending in '#' lost it, so ex:v became <…nsv>."""
    body = b'PREFIX ex: <http://example.org/ns#>\nINSERT DATA { <#a> ex:v "1" . <#b> <#> "2" . }'
    graph = apply_patch(Graph(), parse_patch(body, "application/sparql-update", "http://pod/doc"))
    predicates = {str(p) for p in graph.predicates()}
    assert predicates == {"http://example.org/ns#v", "http://pod/doc#"}


@pytest.mark.parametrize(
    ("condition", "kept"),
    [
        ("FILTER(false)", 2),
        ("FILTER(0)", 2),
        ('FILTER("")', 2),
        ("FILTER((false))", 2),
        ("FILTER(true)", 0),
        ('FILTER("x")', 0),
        ("FILTER(?o = 1)", 1),
    ],
)
def test_sparql_constant_filter_is_kept(condition: str, kept: int) -> None:
    """Regression: rdflib dropped a falsy constant FILTER, so this deleted every triple."""
    graph = turtle("<#a> <#b> 1 . <#c> <#d> 2 .")
    patch = sparql(f"DELETE {{ ?s ?p ?o }} WHERE {{ ?s ?p ?o {condition} }}")
    assert len(apply_patch(graph, patch)) == kept
