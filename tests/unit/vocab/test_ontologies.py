"""Ontology quality: labels in both languages, mappings, consistency with shapes,
contexts and examples, and the generated namespace module."""

from __future__ import annotations

import json

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS, SH, SKOS, XSD

import vocab
from vocab import generate_namespaces
from vocab.iris import DEFAULT_BASE, namespace

from .helpers import ALL_EXAMPLES

DOMAINS = list(vocab.domains())

# Vocabularies a generic application can be expected to know.
WIDELY_USED = (
    "http://schema.org/",
    "http://www.w3.org/ns/prov#",
    "http://xmlns.com/foaf/0.1/",
    "http://www.w3.org/2006/vcard/ns#",
    "http://www.w3.org/2004/02/skos/core#",
    "https://w3id.org/dpv#",
    "http://www.w3.org/ns/odrl/2/",
    "https://saref.etsi.org/core/",
    "http://www.w3.org/ns/sosa/",
    "https://spec.edmcouncil.org/fibo/",
)


def _ours(iri: object) -> bool:
    return isinstance(iri, URIRef) and str(iri).startswith(DEFAULT_BASE)


def _defined(graph: Graph, domain: str, kinds: tuple[URIRef, ...]) -> list[URIRef]:
    ns = namespace(domain)
    return sorted({s for k in kinds for s in graph.subjects(RDF.type, k) if str(s).startswith(ns)})


def _classes(domain: str) -> list[URIRef]:
    return _defined(vocab.ontology(domain), domain, (OWL.Class,))


def _properties(domain: str) -> list[URIRef]:
    kinds = (OWL.ObjectProperty, OWL.DatatypeProperty)
    return _defined(vocab.ontology(domain), domain, kinds)


def _languages(graph: Graph, subject: URIRef, predicate: URIRef) -> set[str]:
    return {
        o.language
        for o in graph.objects(subject, predicate)
        if isinstance(o, Literal) and o.language
    }


@pytest.mark.parametrize("domain", DOMAINS)
def test_every_class_and_property_has_english_and_french_label_and_comment(
    domain: str,
) -> None:
    graph = vocab.ontology(domain)
    missing = [
        f"{term} {predicate}"
        for term in _classes(domain) + _properties(domain)
        for predicate in (RDFS.label, RDFS.comment)
        if not {"en", "fr"} <= _languages(graph, term, predicate)
    ]
    assert not missing


@pytest.mark.parametrize("domain", DOMAINS)
def test_every_concept_and_the_ontology_have_both_languages(domain: str) -> None:
    graph = vocab.ontology(domain)
    ns = namespace(domain)
    others = {
        s
        for s in graph.subjects()
        if isinstance(s, URIRef)
        and str(s).startswith(ns)
        and (s, RDF.type, OWL.Class) not in graph
        and (s, RDF.type, OWL.ObjectProperty) not in graph
        and (s, RDF.type, OWL.DatatypeProperty) not in graph
    }
    assert all({"en", "fr"} <= _languages(graph, s, SKOS.prefLabel) for s in others), others
    onto = URIRef(vocab.ontology_iri(domain))
    from rdflib.namespace import DCTERMS

    assert {"en", "fr"} <= _languages(graph, onto, DCTERMS.title)
    assert {"en", "fr"} <= _languages(graph, onto, DCTERMS.description)


@pytest.mark.parametrize("domain", DOMAINS)
def test_every_class_maps_to_a_widely_used_vocabulary(domain: str) -> None:
    """Each class has a direct superclass or equivalent outside our vocabularies, so a
    generic application (or owlrl) sees it as something it knows."""
    graph = vocab.ontology(domain)
    unmapped = []
    for cls in _classes(domain):
        parents = set(graph.objects(cls, RDFS.subClassOf)) | set(
            graph.objects(cls, OWL.equivalentClass)
        )
        external = {p for p in parents if str(p).startswith(WIDELY_USED)}
        ancestors = _ancestors(cls)
        if (not external and not any(str(a).startswith(WIDELY_USED) for a in ancestors)) or (
            not external and not parents
        ):
            unmapped.append(cls)
    assert not unmapped


def _ancestors(cls: URIRef) -> set[URIRef]:
    graph = Graph()
    for domain in DOMAINS:
        graph += vocab.ontology(domain)
    return set(graph.transitive_objects(cls, RDFS.subClassOf)) - {cls}


def test_class_counts() -> None:
    counts = {domain: len(_classes(domain)) for domain in DOMAINS}
    assert all(count >= 2 for count in counts.values()), counts
    assert sum(counts.values()) >= 50


def test_namespace_module_is_up_to_date() -> None:
    current = generate_namespaces.OUTPUT.read_text(encoding="utf-8")
    assert current == generate_namespaces.render(), "run python -m vocab.generate_namespaces"


def test_namespaces_are_closed() -> None:
    from vocab.namespaces import BANK, closed_namespace

    assert BANK.Transaction == URIRef(DEFAULT_BASE + "bank#Transaction")
    with pytest.raises(AttributeError):
        _ = BANK.Transction
    other = closed_namespace("bank", "https://pod.example/vocab/")
    assert other.iban == URIRef("https://pod.example/vocab/bank#iban")
    with pytest.raises(AttributeError):
        _ = other.ibn


def _all_terms() -> set[URIRef]:
    terms: set[URIRef] = set()
    for domain in DOMAINS:
        ns = namespace(domain)
        terms |= {s for s in vocab.ontology(domain).subjects() if str(s).startswith(ns)}
    return terms


def test_shapes_only_use_defined_terms() -> None:
    """A typo in a shape's path or class would make it check nothing."""
    terms = _all_terms()
    used: set[URIRef] = set()
    for domain in DOMAINS:
        shapes = vocab.shapes(domain, imports=False)
        for predicate in (SH.path, SH.targetClass, SH["class"], SH.lessThan, SH.lessThanOrEquals):
            used |= {o for o in shapes.objects(None, predicate) if _ours(o) and "#" in str(o)}
        for lst in shapes.objects(None, SH["in"]):
            used |= {o for o in shapes.items(lst) if _ours(o)}
    assert used - terms == set()


@pytest.mark.parametrize(("domain", "example"), ALL_EXAMPLES, ids=lambda v: getattr(v, "path", v))
def test_examples_only_use_defined_terms(domain: str, example: vocab.Example) -> None:
    terms = _all_terms()
    graph = vocab.example_graph(example)
    used = {p for p in graph.predicates() if _ours(p)}
    used |= {o for o in graph.objects(None, RDF.type) if _ours(o)}
    assert used - terms == set()


@pytest.mark.parametrize("domain", DOMAINS)
def test_record_classes_require_provenance(domain: str) -> None:
    """Every class that is an organisation record (subclass of consent:OrganisationRecord,
    directly or not) is a target of the provenance shape in the domain's shapes."""
    record = URIRef(namespace("consent") + "OrganisationRecord")
    merged = vocab.ontology(domain, imports=True)
    shapes = vocab.shapes(domain)
    provenance = URIRef(vocab.shapes_iri("consent") + "#ProvenanceShape")
    targets = set(shapes.objects(provenance, SH.targetClass))
    records = [
        c for c in _classes(domain) if record in merged.transitive_objects(c, RDFS.subClassOf)
    ]
    assert records
    assert set(records) - targets == set()


@pytest.mark.parametrize("domain", DOMAINS)
def test_shape_targets_cover_subclasses(domain: str) -> None:
    """Validation runs without inference, so a shape targeting a class must also target
    that class's subclasses in the same vocabulary (or they would escape it)."""
    merged = vocab.ontology(domain, imports=True)
    shapes = vocab.shapes(domain)
    missing = []
    for shape, target in shapes.subject_objects(SH.targetClass):
        for sub in _classes(domain):
            inherits = sub != target and target in merged.transitive_objects(sub, RDFS.subClassOf)
            if inherits and (shape, SH.targetClass, sub) not in shapes:
                missing.append((shape, sub))
    # Deliberate exceptions: receipts are not checked as generic invoices (no invoice
    # number on every till receipt), and only plain documents must link to a file
    # (invoices and statements carry their data themselves).
    missing = [
        (shape, sub)
        for shape, sub in missing
        if not str(shape).endswith("#DocumentShape")
        and (str(shape).rpartition("#")[2], str(sub).rpartition("#")[2])
        != ("InvoiceShape", "Receipt")
    ]
    assert not missing


@pytest.mark.parametrize("domain", DOMAINS)
def test_context_covers_the_ontology_with_matching_types(domain: str) -> None:
    """Every property of the domain has a JSON term whose coercion matches its range."""
    graph = vocab.ontology(domain)
    ctx = vocab.context(domain)["@context"]
    prefixes = {k: v for k, v in ctx.items() if isinstance(v, str) and v.endswith(("#", "/"))}

    def expand(value: str) -> str:
        prefix, _, local = value.partition(":")
        return prefixes[prefix] + local if prefix in prefixes else value

    by_iri: dict[str, dict[str, str]] = {}
    for name, definition in ctx.items():
        if name.startswith("@") or name in prefixes:
            continue
        entry = {"@id": definition} if isinstance(definition, str) else dict(definition)
        by_iri[expand(entry["@id"])] = entry
    problems = []
    for prop in _properties(domain):
        entry = by_iri.get(str(prop))
        if entry is None:
            problems.append(f"{prop}: no JSON term")
            continue
        coercion = entry.get("@type")
        declared = graph.value(prop, RDFS.range)
        if (prop, RDF.type, OWL.ObjectProperty) in graph:
            if coercion not in (None, "@id", "@vocab"):
                problems.append(f"{prop}: object property coerced to {coercion}")
        elif declared is not None and declared != XSD.string:
            if coercion is None or expand(coercion) != str(declared):
                problems.append(f"{prop}: range {declared} but JSON coercion {coercion}")
        elif coercion is not None:
            problems.append(f"{prop}: string property coerced to {coercion}")
    for cls in _classes(domain):
        # Classes of values (SKOS concepts) are never written as a JSON "type".
        if (cls, RDFS.subClassOf, SKOS.Concept) in graph:
            continue
        if str(cls) not in by_iri:
            problems.append(f"{cls}: no JSON term")
    assert not problems


@pytest.mark.parametrize(
    ("domain", "example"),
    [(d, e) for d, e in ALL_EXAMPLES if e.media_type == "application/ld+json"],
    ids=lambda v: getattr(v, "path", v),
)
def test_json_examples_use_only_context_terms(domain: str, example: vocab.Example) -> None:
    """JSON-LD drops keys its context does not define, silently: catch them."""
    ctx = vocab.context(domain)["@context"]
    unknown: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            for key, value in node.items():
                if not key.startswith("@") and key not in ctx:
                    unknown.add(key)
                walk(value)

    document = json.loads(vocab.read_text(domain, example.path))
    document.pop("@context")
    walk(document)
    assert not unknown
