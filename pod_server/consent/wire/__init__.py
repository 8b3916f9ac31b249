"""Wire protocols over the consent model: access requests (LWS JSON, SAI and our own RDF),
owner decisions, and the HTTP services and inbox hook that carry them (see README.md)."""
