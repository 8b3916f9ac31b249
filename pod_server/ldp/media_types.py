"""The media types the server reads and writes, named once.

Essences only (lower case, no parameters): compare them with
``conneg``-normalised values, never with raw header text.
"""

from __future__ import annotations

# RDF syntaxes (Solid Protocol: Turtle and JSON-LD MUST; the others by conneg).
TURTLE = "text/turtle"
JSON_LD = "application/ld+json"
N_TRIPLES = "application/n-triples"
N_QUADS = "application/n-quads"
N3 = "text/n3"
RDF_XML = "application/rdf+xml"

# PATCH bodies: N3 Patch is an N3 document; SPARQL Update its own type.
N3_PATCH = N3
SPARQL_UPDATE = "application/sparql-update"

# Bytes of unknown kind.
OCTET_STREAM = "application/octet-stream"
