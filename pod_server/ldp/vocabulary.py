"""IRIs of the vocabularies the Solid Protocol itself uses (as plain strings)."""

from __future__ import annotations

LDP = "http://www.w3.org/ns/ldp#"
PIM = "http://www.w3.org/ns/pim/space#"
SOLID = "http://www.w3.org/ns/solid/terms#"
ACL = "http://www.w3.org/ns/auth/acl#"
IANA_MEDIA_TYPES = "http://www.w3.org/ns/iana/media-types/"

LDP_RESOURCE = LDP + "Resource"
LDP_CONTAINER = LDP + "Container"
LDP_BASIC_CONTAINER = LDP + "BasicContainer"
LDP_RDF_SOURCE = LDP + "RDFSource"
LDP_NON_RDF_SOURCE = LDP + "NonRDFSource"
LDP_CONTAINS = LDP + "contains"
PIM_STORAGE = PIM + "Storage"
SOLID_STORAGE_DESCRIPTION = SOLID + "storageDescription"
SOLID_OWNER = SOLID + "owner"
CONTAINER_TYPES = frozenset({LDP_CONTAINER, LDP_BASIC_CONTAINER})
