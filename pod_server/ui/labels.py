"""Names of RDF terms for people, in the page's language where a vocabulary gives one.

Our own vocabularies (``vocab/``) label their terms in English and French; a few terms
every pod holds (containment, types, profile terms) are labelled here. A term with no
label is shown by its local name.
"""

from __future__ import annotations

from functools import cache

from rdflib import Literal, URIRef
from rdflib.namespace import RDFS

import vocab.catalog as catalog

_LDP = "http://www.w3.org/ns/ldp#"
_COMMON: dict[str, dict[str, str]] = {
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#type": {"en": "type", "fr": "type"},
    str(RDFS.label): {"en": "label", "fr": "libellé"},
    str(RDFS.comment): {"en": "comment", "fr": "commentaire"},
    _LDP + "contains": {"en": "contains", "fr": "contient"},
    _LDP + "Container": {"en": "container", "fr": "conteneur"},
    _LDP + "BasicContainer": {"en": "basic container", "fr": "conteneur simple"},
    _LDP + "Resource": {"en": "resource", "fr": "ressource"},
    "http://purl.org/dc/terms/modified": {"en": "modified", "fr": "modifié"},
    "http://purl.org/dc/terms/title": {"en": "title", "fr": "titre"},
    "http://purl.org/dc/terms/created": {"en": "created", "fr": "créé"},
    "http://www.w3.org/ns/posix/stat#size": {"en": "size (bytes)", "fr": "taille (octets)"},
    "http://www.w3.org/ns/posix/stat#mtime": {"en": "modified (POSIX)", "fr": "modifié (POSIX)"},
    "http://xmlns.com/foaf/0.1/name": {"en": "name", "fr": "nom"},
    "http://xmlns.com/foaf/0.1/Person": {"en": "person", "fr": "personne"},
    "http://xmlns.com/foaf/0.1/primaryTopic": {"en": "primary topic", "fr": "sujet principal"},
    "http://xmlns.com/foaf/0.1/maker": {"en": "maker", "fr": "auteur"},
    "http://xmlns.com/foaf/0.1/PersonalProfileDocument": {
        "en": "profile document",
        "fr": "document de profil",
    },
    "http://www.w3.org/ns/solid/terms#oidcIssuer": {
        "en": "identity provider",
        "fr": "fournisseur d'identité",
    },
    "http://www.w3.org/ns/pim/space#storage": {"en": "storage", "fr": "stockage"},
    "http://www.w3.org/ns/pim/space#Storage": {"en": "storage", "fr": "stockage"},
    "http://www.w3.org/2006/vcard/ns#fn": {"en": "full name", "fr": "nom complet"},
    "https://schema.org/name": {"en": "name", "fr": "nom"},
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
