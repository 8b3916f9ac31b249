"""Records from documented CSV or JSON files through a mapping file a data engineer
edits (TOML), not code: telecom usage, insurance contracts and claims, store receipts...

A mapping file names the vocabulary and, for each kind of source file (matched by name),
how its rows become records, each record a JSON-LD node in the vocabulary's own context::

    domain = "telecom"                     # the vocabulary: its JSON-LD context and shapes

    [[files]]
    match = "mobile-*.csv"                 # which of a customer's files (a glob on the name)
    format = "csv"                         # csv (a header row) | json (a list of objects)
    delimiter = ";"                        # csv only; default ","
    records = "lines"                      # json only: the key holding the list (default:
                                           #   the document is the list)
    document = "mobile-{line_id}-{month}"  # the resource a row's records go to

      [[files.record]]                     # one or more records per row
      id = "usage-{month}"                 # its fragment: from the source's own identifiers
      type = "MonthlyUsage"                # a class named in the context
      [files.record.fields]                # context term = template over the row's columns
      month = "{month}"
      callCount = "{calls}"
      subscription = "#line-{line_id}"     # "#...": a record of the same document (an IRI)
      customer = "{customer}"              # {customer}: the customer's WebID
      provider = "{organisation}"          # {organisation}: the organisation's WebID

Templates are Python format strings over the row's columns (``{date:.7}`` keeps the
first 7 characters: a month from a date); a field whose columns are empty is left out,
and a template that is exactly one ``{column}`` holding a JSON list gives one value per
item. Records with the same id in one document are merged (so a receipt's header may be
repeated on each of its lines). Values are typed by the context (``callCount`` is an
``xsd:integer`` there); the shapes of the vocabulary check the result before it is sent.
Provenance is added to every record as for the built-in formats.
"""

from __future__ import annotations

import csv
import fnmatch
import json
import string
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rdflib import RDF, URIRef

from apps.connector.mapping import Document, Provenance, describe_sources, provenance, source_iri
from apps.connector.records import SourceError
from vocab import jsonld
from vocab.catalog import context, domains
from vocab.iris import context_iri

FORMATS = ("csv", "json")
# Variables every template may use besides the row's columns.
VARIABLES = ("customer", "organisation")
_FORMATTER = string.Formatter()


class MappingError(ValueError):
    """A mapping file that cannot be used: says which file and what is wrong."""


@dataclass(frozen=True)
class RecordRule:
    id: str
    type: str
    fields: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class FileRule:
    match: str
    format: str
    document: str
    records: tuple[RecordRule, ...]
    delimiter: str = ","
    key: str | None = None  # json: where the list of rows is


@dataclass(frozen=True)
class MappingFile:
    path: Path
    domain: str
    files: tuple[FileRule, ...]

    def rule_for(self, path: Path) -> FileRule | None:
        return next((f for f in self.files if fnmatch.fnmatch(path.name, f.match)), None)


@dataclass(frozen=True)
class Rows:
    """The rows of one source file, as read by its rule (values are strings, or lists of
    strings from JSON arrays)."""

    source: Path
    rule: FileRule
    rows: tuple[Mapping[str, Any], ...]


# -- loading the mapping file ----------------------------------------------------------------
def _columns(template: str, where: str) -> list[str]:
    """The columns a template reads; refuses anything but plain names."""
    try:
        parts = list(_FORMATTER.parse(template))
    except ValueError as exc:
        raise MappingError(f"{where}: {template!r}: {exc}") from None
    names = [name for _, name, _, _ in parts if name is not None]
    for name in names:
        if not name.isidentifier():
            raise MappingError(f"{where}: {{{name}}} is not a column name")
    return names


def load_mapping(path: Path) -> MappingFile:
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise MappingError(f"{path}: {exc}") from None
    domain = doc.get("domain")
    if domain not in domains():
        raise MappingError(f"{path}: domain {domain!r} is not one of {sorted(domains())}")
    terms = set(context(domain)["@context"])
    files = []
    for n, raw in enumerate(doc.get("files", [])):
        where = f"{path}: files[{n}]"
        fmt = raw.get("format", "csv")
        if fmt not in FORMATS:
            raise MappingError(f"{where}: format {fmt!r} is not one of {FORMATS}")
        if not raw.get("match") or not raw.get("document"):
            raise MappingError(f"{where}: needs match and document")
        _columns(raw["document"], where)
        rules = []
        for m, rec in enumerate(raw.get("record", [])):
            at = f"{where}.record[{m}]"
            if not rec.get("id") or rec.get("type") not in terms:
                raise MappingError(f"{at}: needs an id and a type named in the {domain} context")
            _columns(rec["id"], at)
            fields = []
            for term, template in rec.get("fields", {}).items():
                if term not in terms:
                    raise MappingError(f"{at}: {term!r} is not a term of the {domain} context")
                if not isinstance(template, str):
                    raise MappingError(f"{at}: {term} is a template (a string)")
                _columns(template, f"{at}.{term}")
                fields.append((term, template))
            rules.append(RecordRule(rec["id"], rec["type"], tuple(fields)))
        if not rules:
            raise MappingError(f"{where}: no [[files.record]]")
        files.append(
            FileRule(
                raw["match"],
                fmt,
                raw["document"],
                tuple(rules),
                str(raw.get("delimiter", ",")),
                raw.get("records"),
            )
        )
    if not files:
        raise MappingError(f"{path}: no [[files]]")
    return MappingFile(path, domain, tuple(files))


# -- reading sources ---------------------------------------------------------------------------
def _cell(value: Any) -> Any:
    if isinstance(value, list):
        return [_cell(v) for v in value]
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def read_rows(path: Path, mapping: MappingFile) -> Rows:
    rule = mapping.rule_for(path)
    if rule is None:
        patterns = ", ".join(f.match for f in mapping.files)
        raise SourceError(path, f"no [[files]] of {mapping.path.name} matches ({patterns})")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(path, str(exc)) from None
    if rule.format == "csv":
        reader = csv.DictReader(text.splitlines(), delimiter=rule.delimiter)
        rows: list[Mapping[str, Any]] = []
        for row in reader:
            if None in row or any(v is None for v in row.values()):
                raise SourceError(path, "not as many cells as columns", reader.line_num)
            rows.append({k.strip(): v.strip() for k, v in row.items()})
        return Rows(path, rule, tuple(rows))
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise SourceError(path, f"not JSON: {exc}") from None
    if rule.key is not None:
        data = data.get(rule.key) if isinstance(data, dict) else None
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        where = f"the value of {rule.key!r}" if rule.key else "the document"
        raise SourceError(path, f"{where} is not a list of objects")
    return Rows(path, rule, tuple({k: _cell(v) for k, v in r.items()} for r in data))


def _fill(template: str, row: Mapping[str, Any], path: Path, line: int) -> list[str]:
    """The template's values for ``row``: none when a column it reads is empty."""
    names = _columns(template, str(path))
    for name in names:
        if name not in row:
            raise SourceError(path, f"no column {name!r}", line)
    if len(names) == 1 and template == f"{{{names[0]}}}" and isinstance(row[names[0]], list):
        return [v for v in row[names[0]] if v != ""]
    if any(row[n] == "" or isinstance(row[n], list) for n in names):
        return []
    try:
        return [template.format_map(row)]
    except (ValueError, TypeError) as exc:
        raise SourceError(path, f"{template!r}: {exc}", line) from None


def _one(template: str, row: Mapping[str, Any], path: Path, line: int, what: str) -> str:
    found = _fill(template, row, path, line)
    if len(found) != 1:
        raise SourceError(path, f"the {what} {template!r} is empty", line)
    return found[0]


# -- records -> documents ----------------------------------------------------------------------
def documents(
    mapping: MappingFile,
    sources: Sequence[Rows],
    container: str,
    holder: str,
    prov: Provenance,
) -> list[Document]:
    """One document per distinct ``document`` name; in each, one node per distinct
    record id, with provenance."""
    nodes: dict[str, dict[str, dict[str, Any]]] = {}
    origin: dict[str, dict[str, Path]] = {}
    for source in sources:
        for line, cells in enumerate(source.rows, start=2):
            row = {**cells, "customer": holder, "organisation": prov.organisation}
            name = _one(source.rule.document, row, source.source, line, "document name")
            if "/" in name or name.startswith("."):
                raise SourceError(source.source, f"document name {name!r} is not a name", line)
            doc = nodes.setdefault(name, {})
            for rule in source.rule.records:
                rid = _one(rule.id, row, source.source, line, "record id")
                node = doc.setdefault(rid, {"@id": "#" + rid, "@type": rule.type})
                origin.setdefault(name, {}).setdefault(rid, source.source)
                for term, template in rule.fields:
                    values = node.setdefault(term, [])
                    found = _fill(template, row, source.source, line)
                    values += [v for v in found if v not in values]
    docs = []
    for name, records in sorted(nodes.items()):
        url = container + name
        body = {
            "@context": context_iri(mapping.domain),
            "@graph": [_node(n) for n in records.values()],
        }
        graph = jsonld.to_graph(body, document_url=url)
        paths = {p for p in origin[name].values()}
        sources_by_iri = {source_iri(p): p for p in sorted(paths)}
        by_path = {p: iri for iri, p in sources_by_iri.items()}
        batch = describe_sources(graph, url, prov, sources_by_iri)
        for rid, path in origin[name].items():
            node = URIRef(f"{url}#{rid}")
            if (node, RDF.type, None) in graph:
                provenance(graph, node, prov, by_path[path], batch)
        docs.append(Document(name, "", graph, len(records), tuple(sorted(p.name for p in paths))))
    return docs


def _node(fields: dict[str, Any]) -> dict[str, Any]:
    """A record as JSON-LD: ``#...`` values are references to records of the document
    (whatever the context says of the term), the rest typed by the context."""
    node: dict[str, Any] = {}
    for key, value in fields.items():
        if isinstance(value, list):
            if not value:
                continue
            value = [{"@id": v} if v.startswith("#") else v for v in value]
        node[key] = value
    return node


def class_iris(mapping: MappingFile) -> tuple[str, ...]:
    """The classes the mapping's records are typed with, as IRIs (for the type index)."""
    types = sorted({r.type for f in mapping.files for r in f.records})
    probe = {"@context": context_iri(mapping.domain), "@id": "urn:x", "@type": types}
    graph = jsonld.to_graph(probe)
    return tuple(sorted(str(t) for t in graph.objects(URIRef("urn:x"), RDF.type)))
