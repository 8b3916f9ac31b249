"""Names of RDF terms for people, in the page's language where a vocabulary gives one.

Our own vocabularies (``vocab/``) label their terms in English and French; a few terms
every pod holds (containment, types, profile terms) are labelled here. A term with no
label is shown by its local name.
"""

from __future__ import annotations

from functools import cache

from rdflib import Literal, URIRef
from rdflib.namespace import DCTERMS, FOAF, RDF, RDFS, SDO

import vocab.catalog as catalog
from pod_server.ldp.vocabulary import LDP, PIM, POSIX, SOLID

_COMMON: dict[str, dict[str, str]] = {
    str(term): names
    for term, names in (
        (RDF.type, {"en": "type", "fr": "type"}),
        (RDFS.label, {"en": "label", "fr": "libellé"}),
        (RDFS.comment, {"en": "comment", "fr": "commentaire"}),
        (LDP.contains, {"en": "contains", "fr": "contient"}),
        (LDP.Container, {"en": "container", "fr": "conteneur"}),
        (LDP.BasicContainer, {"en": "basic container", "fr": "conteneur simple"}),
        (LDP.Resource, {"en": "resource", "fr": "ressource"}),
        (DCTERMS.modified, {"en": "modified", "fr": "modifié"}),
        (DCTERMS.title, {"en": "title", "fr": "titre"}),
        (DCTERMS.created, {"en": "created", "fr": "créé"}),
        (POSIX.size, {"en": "size (bytes)", "fr": "taille (octets)"}),
        (POSIX.mtime, {"en": "modified (POSIX)", "fr": "modifié (POSIX)"}),
        (FOAF.name, {"en": "name", "fr": "nom"}),
        (FOAF.Person, {"en": "person", "fr": "personne"}),
        (FOAF.primaryTopic, {"en": "primary topic", "fr": "sujet principal"}),
        (FOAF.maker, {"en": "maker", "fr": "auteur"}),
        (FOAF.PersonalProfileDocument, {"en": "profile document", "fr": "document de profil"}),
        (SOLID.oidcIssuer, {"en": "identity provider", "fr": "fournisseur d'identité"}),
        (PIM.storage, {"en": "storage", "fr": "stockage"}),
        (PIM.Storage, {"en": "storage", "fr": "stockage"}),
        (PIM.preferencesFile, {"en": "preferences", "fr": "préférences"}),
        (SDO.name, {"en": "name", "fr": "nom"}),
    )
}


@cache
def vocabulary_labels(base: str) -> dict[str, dict[str, str]]:
    """Every ``rdfs:label`` of our vocabularies' terms, served under ``base``."""
    found: dict[str, dict[str, str]] = {}
    for domain in catalog.domains():
        graph = catalog.ontology(domain, base)
        for term, text in graph.subject_objects(RDFS.label):
            if isinstance(term, URIRef) and isinstance(text, Literal):
                found.setdefault(str(term), {}).setdefault(text.language or "en", str(text))
    return found


def local_name(iri: str) -> str:
    """The end of an IRI after its last ``#`` or ``/`` (the IRI itself if none)."""
    cut = max(iri.rfind("#"), iri.rstrip("/").rfind("/"))
    return iri[cut + 1 :] or iri if cut >= 0 else iri


def label(iri: str, lang: str, vocab_base: str) -> str | None:
    """A person's name for ``iri`` in ``lang`` (else English), if any vocabulary has one."""
    names = _COMMON.get(iri) or vocabulary_labels(vocab_base).get(iri)
    if not names:
        return None
    return names.get(lang) or names.get("en") or next(iter(names.values()))
