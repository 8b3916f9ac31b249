"""``--storage postgresql://...?schema=NAME``: where in PostgreSQL a server keeps its data.

The ``schema`` query parameter is ours (several deployments may share one database, each in
its own schema); every other part of the URL goes to the driver unchanged.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

_SCHEMA = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


def split_schema(url: str) -> tuple[str, str | None]:
    """``(dsn for the driver, schema or None)``; ValueError for a schema name we refuse."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    schemas = [value for key, value in query if key == "schema"]
    if not schemas:
        return url, None
    if len(schemas) > 1 or not _SCHEMA.fullmatch(schemas[0]):
        raise ValueError("schema must be one name of letters, digits and '_' (at most 63)")
    rest = urlencode([(key, value) for key, value in query if key != "schema"])
    return urlunsplit(parts._replace(query=rest)), schemas[0]
