"""Where each vocabulary lives: the namespace base and the IRIs derived from it.

Every file under vocab/ is written against ``DEFAULT_BASE``, the canonical IRIs, and those
are the terms on every server: a pod server serves copies of the documents at its own
``BASE/vocab/`` and recognises their URLs (``split(iri, copies)``), but never renames a
term, else data valid on one server would be unchecked on another. A ``base`` other than
DEFAULT_BASE makes the loaders rewrite the namespace: for a fork publishing its own
vocabularies, whose terms are then other terms.

For a domain ``d`` and a base ``B`` (ending in "/"):

* ``B d #``              namespace of the terms (``B d #Account``), a hash namespace so
                          every term dereferences to the ontology document;
* ``B d``                the ontology document (Turtle, JSON-LD or HTML by negotiation);
* ``B d /shapes``        the SHACL shapes document, shapes named ``B d /shapes#...``;
* ``B d /context.jsonld``the JSON-LD context document.
"""

from __future__ import annotations

import re

DEFAULT_BASE = "https://w3id.org/solid-pods/vocab/"

# An absolute http(s) IRI without characters that would break Turtle or JSON when the
# base is spliced into the files, ending in "/" so that "<base><domain>" is a path.
_BASE = re.compile(r"^https?://[^\s<>\"{}|\\^`#?]+/$")


def check_base(base: str | None) -> str:
    """``base``, or DEFAULT_BASE for None; ValueError if it cannot be a namespace base."""
    if base is None:
        return DEFAULT_BASE
    if not _BASE.match(base):
        raise ValueError(
            f"vocabulary base must be an absolute http(s) IRI ending in '/', got {base!r}"
        )
    return base


def rebase(text: str, base: str | None) -> str:
    """``text`` (a vocabulary file) with DEFAULT_BASE replaced by ``base``."""
    base = check_base(base)
    return text if base == DEFAULT_BASE else text.replace(DEFAULT_BASE, base)


def namespace(domain: str, base: str | None = None) -> str:
    return f"{check_base(base)}{domain}#"


def ontology_iri(domain: str, base: str | None = None) -> str:
    return f"{check_base(base)}{domain}"


def shapes_iri(domain: str, base: str | None = None) -> str:
    return f"{check_base(base)}{domain}/shapes"


def context_iri(domain: str, base: str | None = None) -> str:
    return f"{check_base(base)}{domain}/context.jsonld"


def split(iri: str, base: str | None = None) -> tuple[str, str] | None:
    """(domain, kind) for an IRI under ``base``, kind being "ontology", "shapes" or
    "context"; None if the IRI is not one of ours. A term or shape IRI (with a fragment)
    maps to the document that defines it, so ``ldp:constrainedBy <B bank/shapes#X>``
    and ``<B bank/shapes>`` both give ("bank", "shapes")."""
    base = check_base(base)
    if not iri.startswith(base):
        return None
    rest = iri[len(base) :].partition("#")[0]
    domain, _, tail = rest.partition("/")
    kinds = {"": "ontology", "shapes": "shapes", "context.jsonld": "context"}
    if not re.fullmatch(r"[a-z]+", domain) or tail not in kinds:
        return None
    return domain, kinds[tail]
