"""An HTML page per vocabulary, generated from its ontology: what a person sees when
they open a term's IRI in a browser.

Semantic, accessible and static: landmarks (header, nav, main, footer), one heading
level per section, each term an <article> whose id is its local name (so the term IRI
``<base>bank#Account`` lands on its description), French text marked ``lang="fr"``, no
script, a few lines of CSS that respect the reader's colour scheme.
"""

from __future__ import annotations

from html import escape
from typing import NamedTuple

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS
from rdflib.term import Node

from vocab import catalog
from vocab.iris import check_base, context_iri, namespace, ontology_iri, shapes_iri

SCHEMA = "http://schema.org/"

# Prefixes for IRIs outside our vocabularies, to show them compactly.
_KNOWN = {
    "schema": SCHEMA,
    "prov": "http://www.w3.org/ns/prov#",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "vcard": "http://www.w3.org/2006/vcard/ns#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dcterms": "http://purl.org/dc/terms/",
    "dpv": "https://w3id.org/dpv#",
    "odrl": "http://www.w3.org/ns/odrl/2/",
    "saref": "https://saref.etsi.org/core/",
    "sosa": "http://www.w3.org/ns/sosa/",
    "fibo-fnd-agr-ctr": "https://spec.edmcouncil.org/fibo/ontology/FND/Agreements/Contracts/",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
}

_CSS = """
body{font-family:system-ui,sans-serif;line-height:1.5;max-width:60rem;margin:0 auto;padding:1rem}
@media (prefers-color-scheme:dark){body{background:#111;color:#eee}a{color:#8cf}}
article{border-top:1px solid #8884;padding:.5rem 0}
dt{font-weight:bold}dd{margin:0 0 .5rem 1.5rem}
pre{overflow-x:auto;padding:.5rem;border:1px solid #8886}
table{border-collapse:collapse}
th,td{text-align:left;padding:.2rem .6rem;border-bottom:1px solid #8884}
[lang=fr]{font-style:italic}
"""


class _Names:
    """Compact names: ``prefix:local`` for our vocabularies and the known ones."""

    def __init__(self, base: str, served_at: str | None = None) -> None:
        self.prefixes = {name: namespace(name, base) for name in catalog.domains()}
        self.prefixes.update(_KNOWN)
        self.base, self.served_at = base, served_at

    def href(self, iri: str) -> str:
        """Where a link to one of our terms goes: the copy served here, when there is one
        (the canonical IRI may not resolve yet); the term itself is shown unchanged."""
        if self.served_at and iri.startswith(self.base):
            return self.served_at + iri[len(self.base) :]
        return iri

    def short(self, iri: Node) -> str:
        text = str(iri)
        for prefix, ns in self.prefixes.items():
            if text.startswith(ns) and len(text) > len(ns):
                return f"{prefix}:{text[len(ns) :]}"
        return text

    def link(self, iri: Node) -> str:
        if not isinstance(iri, URIRef):
            return escape(str(iri))
        return f'<a href="{escape(self.href(str(iri)))}"><code>{escape(self.short(iri))}</code></a>'


def _text(graph: Graph, subject: Node, predicate: URIRef, lang: str) -> str:
    for value in graph.objects(subject, predicate):
        if isinstance(value, Literal) and value.language == lang:
            return str(value)
    return ""


def _bilingual(graph: Graph, subject: Node, predicate: URIRef, tag: str = "span") -> str:
    english = _text(graph, subject, predicate, "en")
    french = _text(graph, subject, predicate, "fr")
    parts = []
    if english:
        parts.append(f"<{tag}>{escape(english)}</{tag}>")
    if french:
        parts.append(f'<{tag} lang="fr">{escape(french)}</{tag}>')
    return (" / " if tag == "span" else "").join(parts)


class _Term(NamedTuple):
    iri: URIRef
    local: str


def _terms(graph: Graph, ns: str, kinds: tuple[URIRef, ...]) -> list[_Term]:
    found = {
        s
        for kind in kinds
        for s in graph.subjects(RDF.type, kind)
        if isinstance(s, URIRef) and str(s).startswith(ns)
    }
    return sorted((_Term(s, str(s)[len(ns) :]) for s in found), key=lambda t: t.local.lower())


def _list(names: _Names, values: list[Node]) -> str:
    return ", ".join(names.link(v) for v in sorted(values, key=str))


def _class_article(graph: Graph, names: _Names, term: _Term, props: list[_Term]) -> str:
    rows = [f"<dt>Label</dt><dd>{_bilingual(graph, term.iri, RDFS.label)}</dd>"]
    rows.append(f"<dt>Definition</dt><dd>{_bilingual(graph, term.iri, RDFS.comment, 'p')}</dd>")
    parents = list(graph.objects(term.iri, RDFS.subClassOf))
    parents += list(graph.objects(term.iri, OWL.equivalentClass))
    if parents:
        rows.append(f"<dt>Subclass of</dt><dd>{_list(names, parents)}</dd>")
    children = list(graph.subjects(RDFS.subClassOf, term.iri))
    if children:
        rows.append(f"<dt>Subclasses</dt><dd>{_list(names, children)}</dd>")
    used = [p.iri for p in props if (p.iri, SCHEMA_DOMAIN, term.iri) in graph]
    if used:
        rows.append(f"<dt>Properties</dt><dd>{_list(names, used)}</dd>")
    members = list(graph.subjects(RDF.type, term.iri))
    if members:
        rows.append(f"<dt>Values</dt><dd>{_list(names, members)}</dd>")
    return _article(names, term, rows)


SCHEMA_DOMAIN = URIRef(SCHEMA + "domainIncludes")
SCHEMA_RANGE = URIRef(SCHEMA + "rangeIncludes")


def _property_article(graph: Graph, names: _Names, term: _Term) -> str:
    kind = "object" if (term.iri, RDF.type, OWL.ObjectProperty) in graph else "datatype"
    rows = [f"<dt>Label</dt><dd>{_bilingual(graph, term.iri, RDFS.label)}</dd>"]
    rows.append(f"<dt>Definition</dt><dd>{_bilingual(graph, term.iri, RDFS.comment, 'p')}</dd>")
    rows.append(f"<dt>Kind</dt><dd>{kind} property</dd>")
    domain = list(graph.objects(term.iri, SCHEMA_DOMAIN))
    if domain:
        rows.append(f"<dt>Used on</dt><dd>{_list(names, domain)}</dd>")
    ranges = list(graph.objects(term.iri, RDFS.range)) + list(graph.objects(term.iri, SCHEMA_RANGE))
    if ranges:
        rows.append(f"<dt>Values</dt><dd>{_list(names, ranges)}</dd>")
    parents = list(graph.objects(term.iri, RDFS.subPropertyOf))
    if parents:
        rows.append(f"<dt>Subproperty of</dt><dd>{_list(names, parents)}</dd>")
    return _article(names, term, rows)


def _article(names: _Names, term: _Term, rows: list[str]) -> str:
    heading = f'<h3 id="{escape(term.local)}-h"><code>{escape(names.short(term.iri))}</code></h3>'
    return (
        f'<article id="{escape(term.local)}" aria-labelledby="{escape(term.local)}-h">'
        f"{heading}<dl>{''.join(rows)}</dl></article>"
    )


def _concepts(graph: Graph, names: _Names, ns: str, classes: set[URIRef]) -> str:
    concepts = [
        t
        for t in _terms(graph, ns, (SKOS.Concept, *classes))
        if (t.iri, RDF.type, OWL.Class) not in graph
    ]
    if not concepts:
        return ""
    rows = []
    for term in concepts:
        broader = _list(names, list(graph.objects(term.iri, SKOS.broader)))
        rows.append(
            f'<tr id="{escape(term.local)}"><th scope="row"><code>{escape(names.short(term.iri))}'
            f"</code></th><td>{escape(_text(graph, term.iri, SKOS.prefLabel, 'en'))}</td>"
            f'<td lang="fr">{escape(_text(graph, term.iri, SKOS.prefLabel, "fr"))}</td>'
            f"<td>{_list(names, list(graph.objects(term.iri, RDF.type)))}</td>"
            f"<td>{broader}</td></tr>"
        )
    return (
        '<section id="concepts" aria-labelledby="concepts-h"><h2 id="concepts-h">Concepts</h2>'
        "<table><caption>Values defined by this vocabulary (SKOS concepts)</caption><thead><tr>"
        '<th scope="col">Concept</th><th scope="col">English</th><th scope="col">Français</th>'
        '<th scope="col">Type</th><th scope="col">Broader</th></tr></thead><tbody>'
        + "".join(rows)
        + "</tbody></table></section>"
    )


def _examples(domain: str, base: str) -> str:
    figures = []
    for example in catalog.examples(domain):
        text = catalog.read_text(domain, example.path, base)
        lines = text.count("\n")
        if lines > 120:  # the generated bank month: show its beginning only
            text = "\n".join(text.splitlines()[:60]) + f"\n# ... ({lines} lines in all)\n"
        figures.append(
            f"<figure><figcaption><code>{escape(example.path)}</code> "
            f"({escape(example.media_type)})</figcaption>"
            f"<pre><code>{escape(text)}</code></pre></figure>"
        )
    return (
        '<section id="examples" aria-labelledby="examples-h"><h2 id="examples-h">Examples</h2>'
        + "".join(figures)
        + "</section>"
    )


def _document(iri: str, base: str, served_at: str | None) -> str:
    """A link to a document by its IRI, and to the local copy when there is one."""
    link = f'<a href="{escape(iri)}">{escape(iri)}</a>'
    if served_at is None or served_at == base:
        return link
    copy = served_at + iri[len(base) :]
    return f'{link} (copy served here: <a href="{escape(copy)}">{escape(copy)}</a>)'


def html_page(domain: str, base: str | None = None, *, served_at: str | None = None) -> str:
    """The HTML documentation of ``domain``'s vocabulary, IRIs under ``base``.

    ``served_at`` is where a server publishes copies of the documents (its
    ``BASE/vocab/``): the page links to those copies too; the terms stay as they are.
    """
    base = check_base(base)
    graph = catalog.ontology(domain, base)
    names = _Names(base, served_at)
    ns = namespace(domain, base)
    onto = URIRef(ontology_iri(domain, base))
    classes = _terms(graph, ns, (OWL.Class, RDFS.Class))
    props = _terms(graph, ns, (OWL.ObjectProperty, OWL.DatatypeProperty, RDF.Property))
    title_en = _text(graph, onto, DCTERMS.title, "en") or domain
    title_fr = _text(graph, onto, DCTERMS.title, "fr")
    imports = list(graph.objects(onto, OWL.imports))
    facts = [
        f"<dt>Namespace</dt><dd><code>{escape(ns)}</code> "
        f"(prefix <code>{escape(domain)}:</code>)</dd>",
        f"<dt>Ontology</dt><dd>{_document(str(onto), base, served_at)} "
        "(Turtle, JSON-LD or HTML by content negotiation)</dd>",
        f"<dt>SHACL shapes</dt><dd>{_document(shapes_iri(domain, base), base, served_at)}</dd>",
        f"<dt>JSON-LD context</dt><dd>{_document(context_iri(domain, base), base, served_at)}</dd>",
    ]
    if imports:
        facts.append(f"<dt>Builds on</dt><dd>{_list(names, imports)}</dd>")
    concept_classes = {t.iri for t in classes if (t.iri, RDFS.subClassOf, SKOS.Concept) in graph}
    body = [
        '<section id="classes" aria-labelledby="classes-h"><h2 id="classes-h">Classes</h2>',
        *(_class_article(graph, names, t, props) for t in classes),
        "</section>",
        '<section id="properties" aria-labelledby="properties-h">'
        '<h2 id="properties-h">Properties</h2>',
        *(_property_article(graph, names, t) for t in props),
        "</section>",
        _concepts(graph, names, ns, concept_classes),
        _examples(domain, base),
    ]
    french_title = f' <span lang="fr">({escape(title_fr)})</span>' if title_fr else ""
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title_en)} vocabulary</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        f"<header><h1>{escape(title_en)}{french_title}</h1>"
        f"{_bilingual(graph, onto, DCTERMS.description, 'p')}<dl>{''.join(facts)}</dl></header>\n"
        '<nav aria-label="Contents"><ul><li><a href="#classes">Classes</a></li>'
        '<li><a href="#properties">Properties</a></li>'
        + ('<li><a href="#concepts">Concepts</a></li>' if concept_classes else "")
        + '<li><a href="#examples">Examples</a></li></ul></nav>\n<main>\n'
        + "\n".join(part for part in body if part)
        + "\n</main>\n<footer><p>Generated from the ontology by vocab.html_page.</p></footer>\n"
        "</body>\n</html>\n"
    )
