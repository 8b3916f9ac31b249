"""N3 Patch (Solid Protocol 0.11, section 5.3.1) and SPARQL 1.1 Update over PATCH."""

from __future__ import annotations

from dataclasses import dataclass

from conformance.areas.common import created, expect_value, read_graph
from conformance.context import Context
from conformance.rdf import EX, Literal, URIRef
from conformance.registry import (
    PROTOCOL,
    RFC5789,
    SPARQL_UPDATE,
    check,
    check_each,
    expect,
    expect_status,
    skip,
)

P = PROTOCOL + "#"
HEAD = (
    "@prefix solid: <http://www.w3.org/ns/solid/terms#>.\n"
    "@prefix ex: <http://example.org/conformance#>.\n"
)
# The target document: one person named "Garcia" given "Claudia", two items sharing a colour.
TARGET = (
    "@prefix ex: <http://example.org/conformance#>.\n"
    '<#claudia> ex:familyName "Garcia"; ex:givenName "Claudia".\n'
    '<#it> ex:value "one".\n'
    '<#a> ex:colour "red". <#b> ex:colour "red".\n'
)
OK = (200, 201, 204, 205)


def n3(body: str) -> str:
    return HEAD + body


async def target(ctx: Context) -> str:
    return await ctx.make(TARGET, stem="patched")


# --- Advertising and accepting --------------------------------------------------------------


@check_each(
    ("GET", "HEAD", "OPTIONS"),
    lambda m: f"patch.n3.accept-patch-{m.lower()}",
    P + "server-patch-n3-advertise",
    "Servers MUST indicate support of N3 Patch by listing text/n3 as a field value of the"
    " Accept-Patch header field [RFC5789] of relevant responses.",
)
async def advertised(ctx: Context, method: str) -> None:
    url = await target(ctx)
    reply = await ctx.writer.request(method, url)
    types = {t.split(";")[0].strip().lower() for t in reply.tokens("Accept-Patch")}
    expect("text/n3" in types, f"{method}: Accept-Patch {sorted(types)}")


Q_ACCEPT = (
    "Servers MUST accept a PATCH request with an N3 Patch body when the target of the request is"
    " an RDF document [RDF11-CONCEPTS]."
)


@check("patch.n3.insert", P + "server-patch-n3-accept", Q_ACCEPT)
async def insert(ctx: Context) -> None:
    url = await target(ctx)
    body = n3('_:p a solid:InsertDeletePatch; solid:inserts { <#it> ex:value "two" }.')
    expect_status(await ctx.writer.patch(url, body), *OK)
    await expect_value(ctx, url, "two")
    await expect_value(ctx, url, "one")


@check("patch.n3.insert-container", P + "server-patch-n3-accept", Q_ACCEPT)
async def insert_container(ctx: Context) -> None:
    container = await ctx.make_container()
    body = n3(f'_:p a solid:InsertDeletePatch; solid:inserts {{ <{container}> ex:label "box" }}.')
    expect_status(await ctx.writer.patch(container, body), *OK)
    graph = await read_graph(ctx.writer, container)
    expect((URIRef(container), EX.label, Literal("box")) in graph, "container lost the insert")


@check(
    "patch.n3.delete",
    P + "server-patch-n3-semantics",
    "Servers MUST process a patch resource against the target document as follows:",
)
async def delete(ctx: Context) -> None:
    url = await target(ctx)
    body = n3('_:p a solid:InsertDeletePatch; solid:deletes { <#it> ex:value "one" }.')
    expect_status(await ctx.writer.patch(url, body), *OK)
    await expect_value(ctx, url, "one", present=False)


@check(
    "patch.n3.delete-and-insert",
    P + "server-patch-n3-semantics",
    "The combination of deletions followed by insertions then forms the new resource state of"
    " the RDF document, and the server responds with the appropriate status code.",
)
async def replace(ctx: Context) -> None:
    url = await target(ctx)
    body = n3(
        '_:p a solid:InsertDeletePatch; solid:deletes { <#it> ex:value "one" };'
        ' solid:inserts { <#it> ex:value "two" }.'
    )
    expect_status(await ctx.writer.patch(url, body), *OK)
    await expect_value(ctx, url, "two")
    await expect_value(ctx, url, "one", present=False)


@check(
    "patch.n3.creates-resource",
    P + "server-patch-n3-semantics",
    "Start from the RDF dataset in the target document, or an empty RDF dataset if the target"
    " resource does not exist yet.",
)
async def creates(ctx: Context) -> None:
    url = ctx.fresh("born-of-patch")
    body = n3('_:p a solid:InsertDeletePatch; solid:inserts { <#it> ex:value "one" }.')
    created(await ctx.writer.patch(url, body))
    await expect_value(ctx, url, "one")


@check(
    "patch.n3.where-binds",
    P + "server-patch-n3-semantics",
    "The resulting variable mapping is propagated to the ?deletions and ?insertions formulae to"
    " obtain two sets of resulting triples.",
)
async def where_binds(ctx: Context) -> None:
    url = await target(ctx)
    body = n3(
        '_:rename a solid:InsertDeletePatch;\n solid:where { ?person ex:familyName "Garcia" };\n'
        ' solid:inserts { ?person ex:givenName "Alex" };\n'
        ' solid:deletes { ?person ex:givenName "Claudia" }.'
    )
    expect_status(await ctx.writer.patch(url, body), *OK)
    graph = await read_graph(ctx.writer, url)
    person = URIRef(url + "#claudia")
    expect((person, EX.givenName, Literal("Alex")) in graph, "the bound insert is missing")
    expect(
        (person, EX.givenName, Literal("Claudia")) not in graph, "the bound delete didn't happen"
    )


@check(
    "patch.n3.named-patch-resource",
    P + "server-patch-n3-patch-identifier",
    "A patch resource MUST be identified by a URI or blank node, which we refer to as ?patch in"
    " the remainder of this section.",
)
async def named_patch(ctx: Context) -> None:
    url = await target(ctx)
    body = n3('<#patch> a solid:InsertDeletePatch; solid:inserts { <#it> ex:value "two" }.')
    expect_status(await ctx.writer.patch(url, body), *OK)
    await expect_value(ctx, url, "two")


@check(
    "patch.n3.solid-patch-type",
    P + "server-patch-n3-type",
    "A patch resource MAY contain a triple ?patch rdf:type solid:Patch.",
)
async def patch_type(ctx: Context) -> None:
    url = await target(ctx)
    body = n3('_:p a solid:Patch, solid:InsertDeletePatch; solid:inserts { <#it> ex:value "two" }.')
    expect_status(await ctx.writer.patch(url, body), *OK)
    await expect_value(ctx, url, "two")


@check(
    "patch.n3.typed-literals",
    P + "server-patch-n3-semantics",
    "The triples resulting from ?insertions are to be added to the RDF dataset, with each blank"
    " node from ?insertions resulting in a newly created blank node.",
)
async def typed_literals(ctx: Context) -> None:
    url = await target(ctx)
    body = n3(
        '_:p a solid:InsertDeletePatch; solid:inserts { <#it> ex:label "bonjour"@fr;'
        ' ex:count 42; ex:ratio "0.5"^^<http://www.w3.org/2001/XMLSchema#decimal> }.'
    )
    expect_status(await ctx.writer.patch(url, body), *OK)
    graph = await read_graph(ctx.writer, url)
    subject = URIRef(url + "#it")
    expect((subject, EX.label, Literal("bonjour", lang="fr")) in graph, "language tag lost")
    expect((subject, EX["count"], Literal(42)) in graph, "integer literal lost")


# --- Failing conditions: 409 ------------------------------------------------------------------

Q_NO_MAPPING = (
    "If no such mapping exists, or if multiple mappings exist, the server MUST respond with a 409"
    " status code."
)
Q_MISSING_DELETE = (
    "If the set of triples resulting from ?deletions is non-empty and the dataset does not contain"
    " all of these triples, the server MUST respond with a 409 status code."
)


@check("patch.n3.where-no-match-409", P + "server-patch-n3-semantics-no-mapping", Q_NO_MAPPING)
async def where_none(ctx: Context) -> None:
    url = await target(ctx)
    body = n3(
        '_:p a solid:InsertDeletePatch; solid:where { ?x ex:familyName "Nobody" };'
        ' solid:inserts { ?x ex:value "two" }.'
    )
    expect_status(await ctx.writer.patch(url, body), 409)
    await expect_value(ctx, url, "two", present=False)


@check("patch.n3.where-many-matches-409", P + "server-patch-n3-semantics-no-mapping", Q_NO_MAPPING)
async def where_many(ctx: Context) -> None:
    url = await target(ctx)
    body = n3(
        '_:p a solid:InsertDeletePatch; solid:where { ?x ex:colour "red" };'
        ' solid:inserts { ?x ex:value "two" }.'
    )
    expect_status(await ctx.writer.patch(url, body), 409)


@check(
    "patch.n3.delete-missing-409",
    P + "server-patch-n3-semantics-deletions-non-empty-all-triples",
    Q_MISSING_DELETE,
)
async def delete_missing(ctx: Context) -> None:
    url = await target(ctx)
    body = n3('_:p a solid:InsertDeletePatch; solid:deletes { <#it> ex:value "absent" }.')
    expect_status(await ctx.writer.patch(url, body), 409)


@check(
    "patch.n3.delete-partly-missing-409",
    P + "server-patch-n3-semantics-deletions-non-empty-all-triples",
    Q_MISSING_DELETE,
)
async def delete_partly_missing(ctx: Context) -> None:
    url = await target(ctx)
    body = n3('_:p a solid:InsertDeletePatch; solid:deletes { <#it> ex:value "one", "absent" }.')
    expect_status(await ctx.writer.patch(url, body), 409)
    await expect_value(ctx, url, "one")  # nothing was removed


@check(
    "patch.n3.atomic",
    RFC5789 + "#section-2",
    "The server MUST apply the entire set of changes atomically and never provide (e.g., in"
    " response to a GET during this operation) a partially modified representation.",
)
async def atomic(ctx: Context) -> None:
    url = await target(ctx)
    body = n3(
        '_:p a solid:InsertDeletePatch; solid:deletes { <#it> ex:value "absent" };'
        ' solid:inserts { <#it> ex:value "two" }.'
    )
    expect_status(await ctx.writer.patch(url, body), 409)
    await expect_value(ctx, url, "two", present=False)


@check(
    "patch.n3.delete-on-missing-resource-409",
    P + "server-patch-n3-semantics-deletions-non-empty-all-triples",
    Q_MISSING_DELETE,
)
async def delete_on_missing(ctx: Context) -> None:
    url = ctx.fresh("never")
    body = n3('_:p a solid:InsertDeletePatch; solid:deletes { <#it> ex:value "one" }.')
    expect_status(await ctx.writer.patch(url, body), 409)


# --- Invalid patch documents: 422 -----------------------------------------------------------

Q_INVALID = (
    "Servers MUST respond with a 422 status code [RFC4918] if a patch document does not satisfy"
    " all of the above constraints."
)


@dataclass(frozen=True)
class Invalid:
    name: str
    anchor: str
    rule: str  # the constraint the document breaks, quoted
    body: str


INVALID = (
    Invalid(
        "no-patch-resource",
        "server-patch-n3-patches",
        "A patch document MUST contain one or more patch resources.",
        '<#it> ex:value "two".',
    ),
    Invalid(
        "two-patch-resources",
        "server-patch-n3-single",
        "The patch document MUST contain exactly one patch resource, identified by one or more"
        " of the triple patterns described above, which all share the same ?patch subject.",
        '_:p a solid:InsertDeletePatch; solid:inserts { <#it> ex:value "two" }.\n'
        '_:q a solid:InsertDeletePatch; solid:inserts { <#it> ex:value "three" }.',
    ),
    Invalid(
        "no-insertdelete-type",
        "server-patch-n3-simple-type",
        "A patch resource MUST contain a triple ?patch rdf:type solid:InsertDeletePatch.",
        '_:p solid:inserts { <#it> ex:value "two" }.',
    ),
    Invalid(
        "two-deletes",
        "server-patch-n3-deletes",
        "A patch resource MUST contain at most one triple of the form ?patch solid:deletes"
        " ?deletions.",
        '_:p a solid:InsertDeletePatch; solid:deletes { <#it> ex:value "one" },'
        ' { <#claudia> ex:givenName "Claudia" }.',
    ),
    Invalid(
        "two-inserts",
        "server-patch-n3-inserts",
        "A patch resource MUST contain at most one triple of the form ?patch solid:inserts"
        " ?insertions.",
        '_:p a solid:InsertDeletePatch; solid:inserts { <#it> ex:value "two" },'
        ' { <#it> ex:value "three" }.',
    ),
    Invalid(
        "two-wheres",
        "server-patch-n3-where",
        "A patch resource MUST contain at most one triple of the form ?patch solid:where"
        " ?conditions.",
        '_:p a solid:InsertDeletePatch; solid:where { ?x ex:familyName "Garcia" },'
        ' { ?x ex:givenName "Claudia" }; solid:inserts { ?x ex:value "two" }.',
    ),
    Invalid(
        "inserts-not-formula",
        "server-patch-n3-formulae",
        "When present, ?deletions, ?insertions, and ?conditions MUST be non-nested cited"
        " formulae [N3] consisting only of triples and/or triple patterns [SPARQL11-QUERY].",
        '_:p a solid:InsertDeletePatch; solid:inserts "not a formula".',
    ),
    Invalid(
        "nested-formula",
        "server-patch-n3-formulae",
        "When present, ?deletions, ?insertions, and ?conditions MUST be non-nested cited"
        " formulae [N3] consisting only of triples and/or triple patterns [SPARQL11-QUERY].",
        '_:p a solid:InsertDeletePatch; solid:inserts { <#it> ex:says { <#it> ex:value "x" } }.',
    ),
    Invalid(
        "insert-variable-unbound",
        "server-patch-n3-variables",
        "The ?insertions and ?deletions formulae MUST NOT contain variables that do not occur"
        " in the ?conditions formula.",
        '_:p a solid:InsertDeletePatch; solid:inserts { ?x ex:value "two" }.',
    ),
    Invalid(
        "delete-variable-unbound",
        "server-patch-n3-variables",
        "The ?insertions and ?deletions formulae MUST NOT contain variables that do not occur"
        " in the ?conditions formula.",
        '_:p a solid:InsertDeletePatch; solid:where { ?x ex:familyName "Garcia" };'
        ' solid:deletes { ?y ex:value "one" }.',
    ),
    Invalid(
        "insert-blank-node",
        "server-patch-n3-blank-nodes",
        "The ?insertions and ?deletions formulae MUST NOT contain blank nodes.",
        '_:p a solid:InsertDeletePatch; solid:inserts { _:b ex:value "two" }.',
    ),
    Invalid(
        "delete-blank-node",
        "server-patch-n3-blank-nodes",
        "The ?insertions and ?deletions formulae MUST NOT contain blank nodes.",
        '_:p a solid:InsertDeletePatch; solid:deletes { [] ex:value "one" }.',
    ),
)


@check_each(
    INVALID,
    lambda i: f"patch.n3.invalid-{i.name}-422",
    P + "server-patch-n3-invalid",
    lambda i: f"{Q_INVALID} (Constraint: {i.rule})",
)
async def invalid(ctx: Context, case: Invalid) -> None:
    url = await target(ctx)
    expect_status(await ctx.writer.patch(url, n3(case.body)), 422)
    await expect_value(ctx, url, "two", present=False)


@check(
    "patch.n3.malformed-400",
    RFC5789 + "#section-2.2",
    "Malformed patch document: When the server determines that the patch document provided by"
    " the client is not properly formatted, it SHOULD return a 400 (Bad Request) response.",
)
async def malformed(ctx: Context) -> None:
    url = await target(ctx)
    expect_status(
        await ctx.writer.patch(url, n3("_:p a solid:InsertDeletePatch; solid:inserts {")), 400
    )


@check(
    "patch.unsupported-type-415",
    RFC5789 + "#section-2.2",
    "Unsupported patch document: Can be specified using a 415 (Unsupported Media Type) response"
    " when the client sends a patch document format that the server does not support for the"
    " resource identified by the Request-URI.",
)
async def unsupported(ctx: Context) -> None:
    url = await target(ctx)
    reply = await ctx.writer.patch(url, '{"op": "add"}', "application/json-patch+json")
    expect_status(reply, 415)


@check(
    "patch.unsupported-type-accept-patch",
    RFC5789 + "#section-2.2",
    "Such a response SHOULD include an Accept-Patch response header as described in Section 3.1"
    " to notify the client what patch document media types are supported.",
)
async def unsupported_lists(ctx: Context) -> None:
    url = await target(ctx)
    reply = await ctx.writer.patch(url, '{"op": "add"}', "application/json-patch+json")
    if reply.status != 415:
        skip(f"no 415 to inspect ({reply.status})")
    expect(reply.tokens("Accept-Patch"), "415 without Accept-Patch")


@check(
    "patch.n3.non-rdf-target",
    RFC5789 + "#section-2.2",
    "Conflicting state: Can be specified with a 409 (Conflict) status code when the request"
    " cannot be applied given the state of the resource.",
)
async def non_rdf(ctx: Context) -> None:
    url = await ctx.make("plain text", ctype="text/plain", stem="plain")
    body = n3('_:p a solid:InsertDeletePatch; solid:inserts { <#it> ex:value "two" }.')
    reply = await ctx.writer.patch(url, body)
    expect(400 <= reply.status < 500, f"an N3 Patch on text/plain: {reply.describe()}")
    after = await ctx.writer.get(url)
    expect(after.text == "plain text", "the text/plain resource was changed")


# --- SPARQL 1.1 Update ----------------------------------------------------------------------

SPARQL = "application/sparql-update"
PREFIX = "PREFIX ex: <http://example.org/conformance#>\n"


async def sparql_target(ctx: Context) -> str:
    url = await target(ctx)
    types = {t.split(";")[0].strip() for t in (await ctx.writer.head(url)).tokens("Accept-Patch")}
    if SPARQL not in types:
        skip("the server does not list application/sparql-update in Accept-Patch")
    return url


@check(
    "patch.sparql.insert-data",
    SPARQL_UPDATE + "#insertData",
    "The INSERT DATA operation adds some triples, given inline in the request, into the"
    " Graph Store",
)
async def sparql_insert(ctx: Context) -> None:
    url = await sparql_target(ctx)
    body = PREFIX + f'INSERT DATA {{ <{url}#it> ex:value "two" }}'
    expect_status(await ctx.writer.patch(url, body, SPARQL), *OK)
    await expect_value(ctx, url, "two")


@check(
    "patch.sparql.delete-data",
    SPARQL_UPDATE + "#deleteData",
    "The DELETE DATA operation removes some triples, given inline in the request, if the"
    " respective graphs in the Graph Store contain those",
)
async def sparql_delete(ctx: Context) -> None:
    url = await sparql_target(ctx)
    body = PREFIX + f'DELETE DATA {{ <{url}#it> ex:value "one" }}'
    expect_status(await ctx.writer.patch(url, body, SPARQL), *OK)
    await expect_value(ctx, url, "one", present=False)


@check(
    "patch.sparql.delete-insert-where",
    SPARQL_UPDATE + "#deleteInsert",
    "The DELETE/INSERT operation can be used to remove or add triples from/to the Graph Store"
    " based on bindings for a query pattern specified in a WHERE clause",
)
async def sparql_modify(ctx: Context) -> None:
    url = await sparql_target(ctx)
    body = PREFIX + (
        'DELETE { ?p ex:givenName "Claudia" } INSERT { ?p ex:givenName "Alex" }'
        ' WHERE { ?p ex:familyName "Garcia" }'
    )
    expect_status(await ctx.writer.patch(url, body, SPARQL), *OK)
    graph = await read_graph(ctx.writer, url)
    person = URIRef(url + "#claudia")
    expect((person, EX.givenName, Literal("Alex")) in graph, "INSERT part not applied")
    expect((person, EX.givenName, Literal("Claudia")) not in graph, "DELETE part not applied")


@check(
    "patch.sparql.creates-resource",
    SPARQL_UPDATE + "#insertData",
    "The INSERT DATA operation adds some triples, given inline in the request, into the"
    " Graph Store",
)
async def sparql_creates(ctx: Context) -> None:
    await sparql_target(ctx)  # the advertisement is read from an existing document
    url = ctx.fresh("born-of-sparql")
    body = PREFIX + f'INSERT DATA {{ <{url}#it> ex:value "one" }}'
    created(await ctx.writer.patch(url, body, SPARQL))
    await expect_value(ctx, url, "one")


@check(
    "patch.sparql.delete-absent-is-noop",
    SPARQL_UPDATE + "#deleteData",
    "Deleting triples that are not present, or from a graph that is not present will have no"
    " effect and will result in success.",
)
async def sparql_delete_absent(ctx: Context) -> None:
    url = await sparql_target(ctx)
    body = PREFIX + f'DELETE DATA {{ <{url}#it> ex:value "absent" }}'
    expect_status(await ctx.writer.patch(url, body, SPARQL), *OK)
    await expect_value(ctx, url, "one")


@check(
    "patch.sparql.malformed-400",
    RFC5789 + "#section-2.2",
    "Malformed patch document: When the server determines that the patch document provided by"
    " the client is not properly formatted, it SHOULD return a 400 (Bad Request) response.",
)
async def sparql_malformed(ctx: Context) -> None:
    url = await sparql_target(ctx)
    expect_status(await ctx.writer.patch(url, "INSERT DATA { <#a> <#b> ", SPARQL), 400)


@check(
    "patch.sparql.protects-containment",
    P + "server-protect-containment",
    "Servers MUST NOT allow HTTP PUT or PATCH on a container to update its containment triples;"
    " if the server receives such a request, it MUST respond with a 409 status code.",
)
async def sparql_containment(ctx: Context) -> None:
    await sparql_target(ctx)
    container = await ctx.make_container()
    body = f"INSERT DATA {{ <{container}> <http://www.w3.org/ns/ldp#contains> <{container}x> }}"
    expect_status(await ctx.writer.patch(container, body, SPARQL), 409)


@check(
    "patch.sparql.where-binds",
    SPARQL_UPDATE + "#deleteInsert",
    "The DELETE/INSERT operation can be used to remove or add triples from/to the Graph Store"
    " based on bindings for a query pattern specified in a WHERE clause",
)
async def sparql_where_many(ctx: Context) -> None:
    url = await sparql_target(ctx)
    body = PREFIX + 'INSERT { ?x ex:value "painted" } WHERE { ?x ex:colour "red" }'
    expect_status(await ctx.writer.patch(url, body, SPARQL), *OK)
    graph = await read_graph(ctx.writer, url)
    for name in ("a", "b"):
        painted = (URIRef(f"{url}#{name}"), EX.value, Literal("painted"))
        expect(painted in graph, f"<#{name}> was not updated")
