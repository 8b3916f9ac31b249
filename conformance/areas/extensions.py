"""Extensions of this project, beyond the Solid specifications: shape-validated containers, an
audit log and a query endpoint. A server that does not advertise one has its checks skipped.

How each is advertised (the suite's convention, proposed to the server here):
- shape validation: a container whose description resource (rel="describedby") states
  ``<container> ldp:constrainedBy <shape>`` answers with a Link to the shape, rel
  ``http://www.w3.org/ns/ldp#constrainedBy``;
- audit log: the storage description states ``<storage> ext:auditLog <log>``;
- query: the storage description states ``<storage> void:sparqlEndpoint <endpoint>``.
"""

from __future__ import annotations

import json
from urllib.parse import quote

from conformance.areas.common import DOC
from conformance.areas.protocol import description_url
from conformance.context import Context
from conformance.rdf import Graph, Namespace, URIRef, graph_of
from conformance.registry import check, expect, expect_status, skip

EXT = Namespace("https://w3id.org/solid-pods/ext#")  # provisional: the project's namespace
VOID = Namespace("http://rdfs.org/ns/void#")
SH = Namespace("http://www.w3.org/ns/shacl#")
CONSTRAINED_BY = "http://www.w3.org/ns/ldp#constrainedBy"
# Our own extensions are specified in the project (issue 6 for shapes) and summed up in the
# suite's README; that is the "spec" these checks cite.
ISSUE_6 = "conformance/README.md#extensions (issue 6: validated containers)"
EXTENSIONS_DOC = "conformance/README.md#extensions"

SHAPE = """@prefix sh: <http://www.w3.org/ns/shacl#>.
@prefix ex: <http://example.org/conformance#>.
@prefix xsd: <http://www.w3.org/2001/XMLSchema#>.
<#ThingShape> a sh:NodeShape; sh:targetClass ex:Thing;
  sh:property [ sh:path ex:value; sh:datatype xsd:string; sh:minCount 1; sh:maxCount 1 ].
"""
VALID = '@prefix ex: <http://example.org/conformance#>.\n<#it> a ex:Thing; ex:value "fine".\n'
INVALID = "@prefix ex: <http://example.org/conformance#>.\n<#it> a ex:Thing; ex:count 3.\n"
Q_SHAPES = (
    "A container may declare the shape its members must satisfy (ldp:constrainedBy in its .meta"
    " description, with the shape IRI advertised in a Link header). Every PUT, POST and PATCH"
    " result in such a container is validated before commit: a violation gives 422 with the SHACL"
    " report (Turtle, and a short human message) and stores nothing."
)


async def shaped_container(ctx: Context) -> str:
    """A container constrained by SHAPE, or a skip when the server does not advertise it."""

    async def build() -> str | None:
        shape = await ctx.make(SHAPE, stem="shape")
        container = await ctx.make_container(stem="shaped")
        meta = await ctx.link_of(container, "describedby")
        body = f"<{container}> <{CONSTRAINED_BY}> <{shape}#ThingShape>."
        if not (await ctx.writer.put(meta, body)).ok:
            return None
        links = (await ctx.writer.head(container)).links(CONSTRAINED_BY)
        return container if links else None

    container = await ctx.once("shaped", build)
    if container is None:
        skip("the server does not advertise shape validation (no Link rel=ldp#constrainedBy)")
    return str(container)


@check("extensions.shapes.advertised", ISSUE_6, Q_SHAPES, extension=True)
async def shapes_advertised(ctx: Context) -> None:
    container = await shaped_container(ctx)
    links = (await ctx.writer.head(container)).links(CONSTRAINED_BY)
    expect(any(link.target.endswith("#ThingShape") for link in links), f"links: {links}")


@check("extensions.shapes.valid-accepted", ISSUE_6, Q_SHAPES, extension=True)
async def shapes_valid(ctx: Context) -> None:
    container = await shaped_container(ctx)
    expect_status(await ctx.writer.put(ctx.fresh("ok", parent=container), VALID), 201, 204)


@check("extensions.shapes.invalid-put-422", ISSUE_6, Q_SHAPES, extension=True)
async def shapes_put(ctx: Context) -> None:
    container = await shaped_container(ctx)
    url = ctx.fresh("bad", parent=container)
    expect_status(await ctx.writer.put(url, INVALID), 422)
    expect_status(await ctx.writer.head(url), 404)


@check("extensions.shapes.invalid-post-422", ISSUE_6, Q_SHAPES, extension=True)
async def shapes_post(ctx: Context) -> None:
    container = await shaped_container(ctx)
    expect_status(await ctx.writer.post(container, INVALID), 422)


@check("extensions.shapes.invalid-patch-422", ISSUE_6, Q_SHAPES, extension=True)
async def shapes_patch(ctx: Context) -> None:
    container = await shaped_container(ctx)
    url = ctx.fresh("patched", parent=container)
    expect_status(await ctx.writer.put(url, VALID), 201, 204)
    body = (
        "@prefix solid: <http://www.w3.org/ns/solid/terms#>. @prefix ex: <http://example.org/conformance#>.\n"
        '_:p a solid:InsertDeletePatch; solid:deletes { <#it> ex:value "fine" }.'
    )
    expect_status(await ctx.writer.patch(url, body), 422)
    graph = graph_of(await ctx.writer.get(url, Accept="text/turtle"))
    expect(len(graph) == 2, "the refused patch changed the document")


@check("extensions.shapes.report", ISSUE_6, Q_SHAPES, extension=True)
async def shapes_report(ctx: Context) -> None:
    container = await shaped_container(ctx)
    reply = expect_status(
        await ctx.writer.put(ctx.fresh("bad", parent=container), INVALID, Accept="text/turtle"), 422
    )
    report = graph_of(reply)
    expect(set(report.subjects(None, SH.ValidationReport)), "422 without a sh:ValidationReport")


async def advertised(ctx: Context, predicate: URIRef, what: str) -> str:
    async def build() -> Graph:
        url = await description_url(ctx)
        return graph_of(expect_status(await ctx.writer.get(url, Accept="text/turtle"), 200))

    graph = await ctx.once("storage-description-graph", build)
    target = graph.value(URIRef(ctx.server), predicate)
    if target is None:
        skip(f"the storage description does not advertise {what} ({predicate})")
    return str(target)


Q_AUDIT = (
    "Extension: the storage description names an audit log (ext:auditLog) that records each"
    " write with the resource it touched, readable by the storage's controllers."
)


@check("extensions.audit.advertised", EXTENSIONS_DOC, Q_AUDIT, extension=True)
async def audit_advertised(ctx: Context) -> None:
    log = await advertised(ctx, EXT.auditLog, "an audit log")
    expect_status(await ctx.writer.get(log, Accept="text/turtle"), 200)


@check("extensions.audit.records-write", EXTENSIONS_DOC, Q_AUDIT, extension=True)
async def audit_records(ctx: Context) -> None:
    log = await advertised(ctx, EXT.auditLog, "an audit log")
    url = await ctx.make(DOC, stem="audited")
    reply = expect_status(await ctx.writer.get(log, Accept="text/turtle"), 200)
    expect(url in reply.text, f"the audit log does not mention {url}")


@check("extensions.audit.not-public", EXTENSIONS_DOC, Q_AUDIT, extension=True, needs=("alice",))
async def audit_private(ctx: Context) -> None:
    log = await advertised(ctx, EXT.auditLog, "an audit log")
    expect_status(await ctx.anon.get(log), 401, 403, 404)


Q_QUERY = (
    "Extension: the storage description names a SPARQL 1.1 Query endpoint (void:sparqlEndpoint)"
    " over the storage's RDF, answering only with data the caller may read."
)


async def ask(
    ctx: Context, endpoint: str, query: str, anonymous: bool = False
) -> dict[str, object]:
    agent = ctx.anon if anonymous else ctx.writer
    reply = await agent.get(
        f"{endpoint}?query={quote(query)}", Accept="application/sparql-results+json"
    )
    expect_status(reply, 200)
    expect(reply.media_type == "application/sparql-results+json", f"served {reply.media_type}")
    return dict(json.loads(reply.body))


@check("extensions.query.advertised", EXTENSIONS_DOC, Q_QUERY, extension=True)
async def query_advertised(ctx: Context) -> None:
    endpoint = await advertised(ctx, VOID.sparqlEndpoint, "a query endpoint")
    await ask(ctx, endpoint, "ASK { ?s ?p ?o }")


@check("extensions.query.finds-written-data", EXTENSIONS_DOC, Q_QUERY, extension=True)
async def query_finds(ctx: Context) -> None:
    endpoint = await advertised(ctx, VOID.sparqlEndpoint, "a query endpoint")
    url = await ctx.make(DOC, stem="queried")
    result = await ask(ctx, endpoint, f"ASK {{ <{url}#it> ?p ?o }}")
    expect(result.get("boolean") is True, f"the endpoint does not see {url}: {result}")


@check("extensions.query.respects-access", EXTENSIONS_DOC, Q_QUERY, extension=True)
async def query_private(ctx: Context) -> None:
    from conformance.areas.wac import private_document

    endpoint = await advertised(ctx, VOID.sparqlEndpoint, "a query endpoint")
    url = str(await ctx.once("private", lambda: private_document(ctx)))
    result = await ask(ctx, endpoint, f"ASK {{ <{url}#it> ?p ?o }}", anonymous=True)
    expect(result.get("boolean") is False, "anonymous queries see a private document")
