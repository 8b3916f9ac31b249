"""Solid Protocol 0.11: resources, containers, slash semantics, auxiliary resources, headers,
conditional requests, content negotiation, the storage description and CORS."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime

from conformance.areas.common import (
    DOC,
    JSONLD_DOC,
    OTHER_DOC,
    created,
    describe,
    expect_value,
    has_value,
)
from conformance.context import Context
from conformance.rdf import DCTERMS, LDP, PIM, RDF, STAT, Literal, URIRef, graph_of
from conformance.registry import (
    LDP as LDP_SPEC,
)
from conformance.registry import (
    PROTOCOL,
    RFC9110,
    check,
    check_each,
    expect,
    expect_status,
    skip,
)

P = PROTOCOL + "#"
STORAGE_DESCRIPTION = "http://www.w3.org/ns/solid/terms#storageDescription"
BASIC_CONTAINER = "http://www.w3.org/ns/ldp#BasicContainer"
ORIGIN = "https://app.conformance.example"

# --- Resources ------------------------------------------------------------------------------

Q_SAFE = (
    "Servers MUST support the HTTP GET, HEAD and OPTIONS methods [RFC9110] for clients to read"
    " resources or to determine communication options."
)


@check(
    "protocol.resource.put-create",
    P + "writing-resources",
    "Servers MUST support the HTTP PUT, POST and PATCH methods [RFC9110].",
)
async def put_creates(ctx: Context) -> None:
    url = ctx.fresh("doc")
    created(await ctx.writer.put(url, DOC))
    await expect_value(ctx, url, "one")


@check(
    "protocol.resource.put-replace",
    P + "writing-resources",
    "Servers MUST support the HTTP PUT, POST and PATCH methods [RFC9110].",
)
async def put_replaces(ctx: Context) -> None:
    url = await ctx.make(DOC)
    expect_status(await ctx.writer.put(url, OTHER_DOC), 200, 204, 205)
    await expect_value(ctx, url, "two")
    await expect_value(ctx, url, "one", present=False)


@check("protocol.resource.get", P + "server-safe-methods", Q_SAFE)
async def get_reads(ctx: Context) -> None:
    url = await ctx.make(DOC)
    reply = expect_status(await ctx.writer.get(url), 200)
    expect(has_value(graph_of(reply), url, "one"), f"GET {url} lost the stored triple")


@check("protocol.resource.head", P + "server-safe-methods", Q_SAFE)
async def head_reads(ctx: Context) -> None:
    url = await ctx.make(DOC)
    reply = expect_status(await ctx.writer.head(url), 200)
    expect(not reply.body, "HEAD response carried content")
    expect(reply.header("Content-Type"), "HEAD response has no Content-Type")


@check(
    "protocol.resource.head-matches-get",
    RFC9110 + "#name-head",
    "The server SHOULD send the same header fields in response to a HEAD request as it would"
    " have sent if the request method had been GET.",
)
async def head_like_get(ctx: Context) -> None:
    url = await ctx.make(DOC)
    got, headed = await ctx.writer.get(url), await ctx.writer.head(url)
    for name in ("Content-Type", "ETag", "Link", "Allow", "WAC-Allow"):
        expect(
            got.header(name) == headed.header(name),
            f"{name}: GET {got.header(name)!r} but HEAD {headed.header(name)!r}",
        )


@check(
    "protocol.resource.options",
    LDP_SPEC + "#ldpr-options-allow",
    "LDP servers MUST indicate their support for HTTP Methods by responding to a HTTP OPTIONS"
    " request on the LDPR’s URL with the HTTP Method tokens in the HTTP response header"
    " Allow.",
)
async def options_answers(ctx: Context) -> None:
    url = await ctx.make(DOC)
    reply = expect_status(await ctx.writer.options(url), 200, 204)
    expect(reply.tokens("Allow"), f"OPTIONS {url} has no Allow header")


@check(
    "protocol.resource.delete",
    P + "deleting-resources",
    "Servers MUST support the HTTP DELETE method [RFC9110].",
)
async def delete_removes(ctx: Context) -> None:
    url = await ctx.make(DOC)
    expect_status(await ctx.writer.delete(url))
    expect_status(await ctx.writer.get(url), 404, 410)


@check(
    "protocol.resource.non-rdf-bytes",
    P + "writing-resources",
    "Servers MUST support the HTTP PUT, POST and PATCH methods [RFC9110].",
)
async def non_rdf_roundtrip(ctx: Context) -> None:
    url = ctx.fresh("blob") + ".bin"
    payload = bytes(range(256)) * 4
    created(await ctx.writer.put(url, payload, "application/octet-stream"))
    reply = expect_status(await ctx.writer.get(url), 200)
    expect(reply.body == payload, "the bytes read back differ from the bytes written")
    expect(reply.media_type == "application/octet-stream", f"served as {reply.media_type}")


@check(
    "protocol.resource.text-content-type",
    P + "server-content-type-includes",
    "Server MUST generate a Content-Type header field in a message that contains content.",
)
async def content_type_kept(ctx: Context) -> None:
    url = ctx.fresh("note") + ".txt"
    created(await ctx.writer.put(url, "hello", "text/plain"))
    reply = expect_status(await ctx.writer.get(url), 200)
    expect(reply.media_type == "text/plain", f"text/plain stored, served as {reply.media_type}")
    expect(reply.text == "hello", "the text read back differs")


Q_NO_CTYPE = (
    "Server MUST reject PUT, POST, and PATCH requests that contain content but lack the"
    " Content-Type header field, with a status code of 400."
)


@check_each(
    ("PUT", "POST", "PATCH"),
    lambda m: f"protocol.resource.no-content-type-{m.lower()}",
    P + "server-content-type-missing",
    Q_NO_CTYPE,
)
async def no_content_type(ctx: Context, method: str) -> None:
    target = {"PUT": ctx.fresh("untyped"), "POST": ctx.scratch}.get(method) or await ctx.make(DOC)
    reply = await ctx.writer.request(method, target, DOC)
    expect_status(reply, 400)


@check(
    "protocol.resource.unknown-method-405",
    P + "server-method-not-allowed",
    "Servers MUST respond with the 405 status code to requests using HTTP methods that are not"
    " supported by the target resource.",
)
async def unsupported_method(ctx: Context) -> None:
    url = await ctx.make(DOC)
    # POST to a non-container has no meaning in the Solid Protocol: the resource doesn't support it.
    reply = await ctx.writer.request("POST", url, DOC, "text/turtle")
    expect_status(reply, 405)
    expect("POST" not in reply.tokens("Allow"), "405 response still lists POST in Allow")


@check(
    "protocol.resource.allow-header",
    P + "server-allow-methods",
    "Servers MUST indicate the HTTP methods supported by the target resource by generating an"
    " Allow header field in successful responses.",
)
async def allow_on_get(ctx: Context) -> None:
    url = await ctx.make(DOC)
    allowed = set(expect_status(await ctx.writer.get(url), 200).tokens("Allow"))
    for method in ("GET", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE"):
        expect(method in allowed, f"Allow on an RDF document lacks {method}: {sorted(allowed)}")


@check(
    "protocol.resource.allow-container",
    P + "server-allow-methods",
    "Servers MUST indicate the HTTP methods supported by the target resource by generating an"
    " Allow header field in successful responses.",
)
async def allow_on_container(ctx: Context) -> None:
    url = await ctx.make_container()
    allowed = set(expect_status(await ctx.writer.get(url), 200).tokens("Allow"))
    expect("POST" in allowed, f"Allow on a container lacks POST: {sorted(allowed)}")


Q_ACCEPT = (
    "When responding to authorized requests, servers MUST indicate supported media types in the"
    " HTTP Accept-Patch [RFC5789], Accept-Post [LDP] and Accept-Put [The Accept-Put Response"
    " Header] response header fields that correspond to acceptable HTTP methods listed in Allow"
    " header field value in response to HTTP GET, HEAD and OPTIONS requests."
)
ACCEPT_ROWS = [
    (method, header, kind)
    for method in ("GET", "HEAD", "OPTIONS")
    for header, kind in (
        ("Accept-Patch", "doc"),
        ("Accept-Put", "doc"),
        ("Accept-Post", "container"),
    )
]


@check_each(
    ACCEPT_ROWS,
    lambda r: f"protocol.headers.{r[1].lower()}-on-{r[0].lower()}",
    P + "server-accept-headers",
    Q_ACCEPT,
)
async def accept_headers(ctx: Context, row: tuple[str, str, str]) -> None:
    method, header, kind = row
    url = await ctx.make_container() if kind == "container" else await ctx.make(DOC)
    reply = expect_status(await ctx.writer.request(method, url), 200, 204)
    verb = header.split("-")[1].upper()
    if verb not in reply.tokens("Allow"):
        skip(f"{verb} not in Allow, so {header} is not required")
    expect(reply.tokens(header), f"{method} {url}: Allow lists {verb} but there is no {header}")


# --- Containers -----------------------------------------------------------------------------

Q_INTERMEDIATE = (
    "Servers MUST create intermediate containers and include corresponding containment triples"
    " in container representations derived from the URI path component of PUT and PATCH"
    " requests."
)


@check_each(
    ("PUT", "PATCH"),
    lambda m: f"protocol.container.intermediate-{m.lower()}",
    P + "server-put-patch-intermediate-containers",
    Q_INTERMEDIATE,
)
async def intermediate_containers(ctx: Context, method: str) -> None:
    top = ctx.fresh("deep", container=True)
    middle = top + "middle/"
    leaf = middle + "leaf"
    if method == "PUT":
        created(await ctx.writer.put(leaf, DOC))
    else:
        body = (
            "@prefix solid: <http://www.w3.org/ns/solid/terms#>.\n"
            "_:p a solid:InsertDeletePatch;"
            ' solid:inserts { <#it> <http://example.org/conformance#value> "one" }.'
        )
        created(await ctx.writer.patch(leaf, body))
    for container, member in ((ctx.scratch, top), (top, middle), (middle, leaf)):
        graph = graph_of(expect_status(await ctx.writer.get(container, Accept="text/turtle"), 200))
        expect(
            (URIRef(container), LDP.contains, URIRef(member)) in graph,
            f"{container} does not contain {member}",
        )


@check(
    "protocol.container.basic-container-type",
    LDP_SPEC + "#ldpc-linktypehdr",
    "LDP servers exposing LDPCs MUST advertise their LDP support by exposing a HTTP Link header"
    " with a target URI matching the type of container (see below) the server supports, and a"
    ' link relation type of type (that is, rel="type") in all responses to requests made to'
    " the LDPC's HTTP Request-URI.",
)
async def container_type_link(ctx: Context) -> None:
    url = await ctx.make_container()
    types = {link.target for link in (await ctx.writer.get(url)).links("type")}
    expect(BASIC_CONTAINER in types, f"container types advertised: {sorted(types)}")


@check(
    "protocol.container.resource-type",
    LDP_SPEC + "#ldpr-gen-linktypehdr",
    "LDP servers exposing LDPRs MUST advertise their LDP support by exposing a HTTP Link header"
    " with a target URI of http://www.w3.org/ns/ldp#Resource, and a link relation type of type"
    ' (that is, rel="type") in all responses to requests made to an LDPR\'s HTTP Request-URI.',
)
async def resource_type_link(ctx: Context) -> None:
    url = await ctx.make(DOC)
    types = {link.target for link in (await ctx.writer.get(url)).links("type")}
    expect(str(LDP.Resource) in types, f"types advertised on an RDF document: {sorted(types)}")


@check(
    "protocol.container.listing-type",
    P + "server-basic-container",
    "The representation and behaviour of containers in Solid corresponds to LDP Basic"
    " Container and MUST be supported by server.",
)
async def container_describes_itself(ctx: Context) -> None:
    url = await ctx.make_container()
    graph = graph_of(expect_status(await ctx.writer.get(url, Accept="text/turtle"), 200))
    types = set(graph.objects(URIRef(url), RDF.type))
    expect(
        LDP.BasicContainer in types or LDP.Container in types,
        f"the container's own description gives types {sorted(map(str, types))}",
    )


Q_POST = (
    "Servers MUST allow creation of new resources by a POST request to a URI path ending with /."
)


@check("protocol.container.post-creates", P + "server-post-container", Q_POST)
async def post_creates(ctx: Context) -> None:
    container = await ctx.make_container()
    reply = expect_status(await ctx.writer.post(container, DOC), 201)
    location = reply.location()
    expect(location, "201 without a Location header")
    await expect_value(ctx, str(location), "one")


@check(
    "protocol.container.post-location",
    LDP_SPEC + "#ldpc-post-created201",
    "If the resource was created successfully, LDP servers MUST respond with status code 201"
    " (Created) and the Location header set to the new resource’s URL.",
)
async def post_location(ctx: Context) -> None:
    container = await ctx.make_container()
    reply = expect_status(await ctx.writer.post(container, DOC), 201)
    expect(reply.location(), "201 without a Location header")
    expect_status(await ctx.writer.get(str(reply.location())), 200)


@check(
    "protocol.container.post-uri-in-container",
    P + "server-post-container-create-resource",
    "Servers MUST create resources with URI paths ending with /{id} in container /.",
)
async def post_uri_shape(ctx: Context) -> None:
    container = await ctx.make_container()
    location = str(expect_status(await ctx.writer.post(container, DOC), 201).location())
    name = location[len(container) :] if location.startswith(container) else ""
    expect(name and "/" not in name.rstrip("/"), f"{location} is not /{{id}} in {container}")


@check(
    "protocol.container.post-assigns-uri",
    P + "server-post-uri-assignment",
    "When a successful POST request creates a resource, the server MUST assign a URI to that"
    " resource.",
)
async def post_assigns_distinct(ctx: Context) -> None:
    container = await ctx.make_container()
    first = expect_status(await ctx.writer.post(container, DOC), 201).location()
    second = expect_status(await ctx.writer.post(container, DOC), 201).location()
    expect(first and second and first != second, f"two POSTs got {first} and {second}")


@check(
    "protocol.container.post-slug",
    LDP_SPEC + "#ldpc-post-slug",
    "LDP servers MAY allow clients to suggest the URI for a resource created through POST,"
    " using the HTTP Slug header as defined in [RFC5023].",
)
async def post_slug(ctx: Context) -> None:
    container = await ctx.make_container()
    reply = expect_status(await ctx.writer.post(container, DOC, Slug="chosen-name"), 201)
    if "chosen-name" not in str(reply.location()):
        skip("the server does not honour Slug (allowed: MAY)")


@check(
    "protocol.container.post-container",
    LDP_SPEC + "#ldpc-post-createrdf",
    "LDP servers that successfully create a resource from a RDF representation in the request"
    " entity body MUST honor the client's requested interaction model(s).",
)
async def post_container(ctx: Context) -> None:
    parent = await ctx.make_container()
    link = f'<{BASIC_CONTAINER}>; rel="type"'
    reply = expect_status(await ctx.writer.post(parent, "", Link=link), 201)
    location = str(reply.location())
    expect(location.endswith("/"), f"a container was asked for, {location} was created")
    types = {lk.target for lk in (await ctx.writer.head(location)).links("type")}
    expect(BASIC_CONTAINER in types, f"{location} is not a basic container: {sorted(types)}")


@check(
    "protocol.container.post-missing-404",
    P + "server-post-target-not-found",
    "When a POST method request targets a resource without an existing representation, the"
    " server MUST respond with the 404 status code.",
)
async def post_missing(ctx: Context) -> None:
    reply = await ctx.writer.post(ctx.fresh("absent", container=True), DOC)
    expect_status(reply, 404)


@check(
    "protocol.container.contains-after-post",
    P + "resource-containment",
    "There is a 1-1 correspondence between containment triples and relative reference within"
    " the path name hierarchy.",
)
async def contains_after_post(ctx: Context) -> None:
    container = await ctx.make_container()
    member = str(expect_status(await ctx.writer.post(container, DOC), 201).location())
    graph = graph_of(await ctx.writer.get(container, Accept="text/turtle"))
    expect(
        (URIRef(container), LDP.contains, URIRef(member)) in graph,
        f"{container} does not list {member}",
    )


@check(
    "protocol.container.delete-removes-containment",
    P + "server-delete-remove-containment",
    "When a contained resource is deleted, the server MUST also remove the corresponding"
    " containment triple.",
)
async def delete_uncontains(ctx: Context) -> None:
    container = await ctx.make_container()
    member = await ctx.make(DOC, parent=container)
    expect_status(await ctx.writer.delete(member))
    graph = graph_of(await ctx.writer.get(container, Accept="text/turtle"))
    expect(
        (URIRef(container), LDP.contains, URIRef(member)) not in graph,
        f"{container} still lists the deleted {member}",
    )


@check(
    "protocol.container.delete-empty",
    P + "server-delete-remove-empty-container",
    "When a DELETE request targets a container, the server MUST delete the container if it"
    " contains no resources.",
)
async def delete_empty(ctx: Context) -> None:
    container = await ctx.make_container()
    expect_status(await ctx.writer.delete(container))
    expect_status(await ctx.writer.get(container), 404, 410)


@check(
    "protocol.container.delete-nonempty-409",
    P + "server-delete-protect-nonempty-container",
    "If the container contains resources, the server MUST respond with the 409 status code and"
    " response body describing the error.",
)
async def delete_nonempty(ctx: Context) -> None:
    container = await ctx.make_container()
    await ctx.make(DOC, parent=container)
    reply = expect_status(await ctx.writer.delete(container), 409)
    expect(reply.body.strip(), "409 without a body describing the error")


Q_PROTECT = (
    "Servers MUST NOT allow HTTP PUT or PATCH on a container to update its containment triples;"
    " if the server receives such a request, it MUST respond with a 409 status code."
)


@check("protocol.container.put-containment-409", P + "server-protect-containment", Q_PROTECT)
async def put_containment(ctx: Context) -> None:
    container = await ctx.make_container()
    body = f"<{container}> <http://www.w3.org/ns/ldp#contains> <{container}ghost>."
    expect_status(await ctx.writer.put(container, body), 409)


@check("protocol.container.patch-containment-409", P + "server-protect-containment", Q_PROTECT)
async def patch_containment(ctx: Context) -> None:
    container = await ctx.make_container()
    body = (
        "@prefix solid: <http://www.w3.org/ns/solid/terms#>.\n"
        f"_:p a solid:InsertDeletePatch; solid:inserts {{ <{container}>"
        f" <http://www.w3.org/ns/ldp#contains> <{container}ghost> }}."
    )
    expect_status(await ctx.writer.patch(container, body), 409)


@check(
    "protocol.container.protect-metadata-409",
    P + "server-protect-contained-resource-metadata",
    "Servers MUST NOT allow HTTP POST, PUT and PATCH to update a container’s resource metadata"
    " statements; if the server receives such a request, it MUST respond with a 409 status"
    " code.",
)
async def protect_member_metadata(ctx: Context) -> None:
    container = await ctx.make_container()
    member = await ctx.make(DOC, parent=container)
    body = (
        "@prefix solid: <http://www.w3.org/ns/solid/terms#>.\n"
        f"_:p a solid:InsertDeletePatch; solid:inserts {{ <{member}>"
        f" <http://www.w3.org/ns/posix/stat#size> 999999 }}."
    )
    expect_status(await ctx.writer.patch(container, body), 409)


Q_META = (
    "Servers SHOULD include resource metadata about contained resources as part of the container"
    " description, unless that information is inapplicable to the server."
)
META_ROWS = (("type", RDF.type), ("size", STAT.size), ("modified", DCTERMS.modified))


@check_each(
    META_ROWS,
    lambda r: f"protocol.container.member-metadata-{r[0]}",
    P + "server-contained-resource-metadata",
    Q_META,
)
async def member_metadata(ctx: Context, row: tuple[str, URIRef]) -> None:
    container = await ctx.make_container()
    member = await ctx.make(DOC, parent=container)
    graph = graph_of(await ctx.writer.get(container, Accept="text/turtle"))
    values = list(graph.objects(URIRef(member), row[1]))
    expect(values, f"the container says nothing of its member's {row[1]}")
    if row[0] == "type":
        iana = "http://www.w3.org/ns/iana/media-types/text/turtle#Resource"
        kinds = {str(v) for v in values}
        expect(iana in kinds or str(LDP.Resource) in kinds, f"member types: {sorted(kinds)}")
    if row[0] == "size":
        expect(int(values[0]) >= 0, f"negative size {values[0]}")


@check(
    "protocol.container.modified-matches-last-modified",
    P + "dcterms-modified-corresponds-last-modified",
    "The dcterms:modified value of a contained resource corresponds with the Last-Modified"
    " header field value of the contained resource.",
)
async def modified_matches(ctx: Context) -> None:
    container = await ctx.make_container()
    member = await ctx.make(DOC, parent=container)
    graph = graph_of(await ctx.writer.get(container, Accept="text/turtle"))
    values = [v for v in graph.objects(URIRef(member), DCTERMS.modified) if isinstance(v, Literal)]
    if not values:
        skip("no dcterms:modified for the member (a SHOULD, checked separately)")
    stamp = values[0].toPython()
    header = (await ctx.writer.head(member)).header("Last-Modified")
    expect(header, "the member has no Last-Modified header")
    last = parsedate_to_datetime(str(header))
    expect(
        isinstance(stamp, datetime) and abs((stamp - last).total_seconds()) < 1.0,
        f"dcterms:modified {stamp} vs Last-Modified {header}",
    )


# --- URI slash semantics --------------------------------------------------------------------

Q_SLASH = (
    "If two URIs differ only in the trailing slash, and the server has associated a resource"
    " with one of them, then the other URI MUST NOT correspond to another resource."
)


@check("protocol.slash.get-with-slash", P + "server-uri-trailing-slash-distinct", Q_SLASH)
async def slash_get(ctx: Context) -> None:
    url = await ctx.make(DOC)
    reply = await ctx.writer.get(url + "/")
    if reply.status in (301, 308):
        expect(reply.location() == url, f"redirected to {reply.location()}, not {url}")
        return
    expect(not reply.ok, f"{url}/ answers {reply.status} while {url} exists")


@check("protocol.slash.get-without-slash", P + "server-uri-trailing-slash-distinct", Q_SLASH)
async def noslash_get(ctx: Context) -> None:
    container = await ctx.make_container()
    reply = await ctx.writer.get(container.rstrip("/"))
    if reply.status in (301, 308):
        expect(reply.location() == container, f"redirected to {reply.location()}")
        return
    expect(not reply.ok, f"{container.rstrip('/')} answers {reply.status} as a second resource")


@check(
    "protocol.slash.put-container-over-document", P + "server-uri-trailing-slash-distinct", Q_SLASH
)
async def slash_put_container(ctx: Context) -> None:
    url = await ctx.make(DOC)
    reply = await ctx.writer.put(url + "/", "")
    expect(not reply.ok, f"PUT {url}/ created a container beside the document ({reply.status})")


@check(
    "protocol.slash.put-document-over-container", P + "server-uri-trailing-slash-distinct", Q_SLASH
)
async def slash_put_document(ctx: Context) -> None:
    container = await ctx.make_container()
    reply = await ctx.writer.put(container.rstrip("/"), DOC)
    expect(not reply.ok, f"PUT without the slash created a document beside {container}")


@check(
    "protocol.slash.put-slash-is-container",
    P + "uri-slashes-hierarchical-identifier",
    "Paths ending with a slash denote a container resource.",
)
async def slash_is_container(ctx: Context) -> None:
    url = ctx.fresh("made", container=True)
    created(await ctx.writer.put(url, ""))
    types = {link.target for link in (await ctx.writer.head(url)).links("type")}
    expect(str(LDP.Container) in types or BASIC_CONTAINER in types, f"{url} types: {sorted(types)}")


@check(
    "protocol.slash.post-member-under-container",
    P + "server-post-container-create-resource",
    "Servers MUST create resources with URI paths ending with /{id} in container /.",
)
async def post_nested_container(ctx: Context) -> None:
    outer = await ctx.make_container()
    inner = await ctx.make_container(parent=outer)
    location = str(expect_status(await ctx.writer.post(inner, DOC), 201).location())
    expect(location.startswith(inner), f"POST to {inner} created {location}")


# --- Auxiliary resources --------------------------------------------------------------------

Q_AUX_LINK = (
    "Servers MUST advertise auxiliary resources associated with a subject resource by responding"
    " to HEAD and GET requests by including the HTTP Link header field with the rel parameter"
    " [RFC8288]."
)
AUX_ROWS = [(rel, method) for rel in ("acl", "describedby") for method in ("GET", "HEAD")]


@check_each(
    AUX_ROWS,
    lambda r: f"protocol.aux.link-{r[0]}-{r[1].lower()}",
    P + "server-link-auxiliary-type",
    Q_AUX_LINK,
)
async def aux_link(ctx: Context, row: tuple[str, str]) -> None:
    rel, method = row
    url = await ctx.make(DOC)
    reply = expect_status(await ctx.writer.request(method, url), 200)
    expect(reply.link(rel), f"{method} {url} has no Link rel={rel}")


Q_AUX_WRITE = (
    "When a PUT or PATCH request targets an auxiliary resource, the server MUST create or"
    " update it."
)


@check("protocol.aux.put-description", P + "server-put-patch-auxiliary-resource", Q_AUX_WRITE)
async def put_description(ctx: Context) -> None:
    url = await ctx.make(DOC)
    meta = await ctx.link_of(url, "describedby")
    body = f'<{url}> <http://purl.org/dc/terms/title> "described".'
    expect_status(await ctx.writer.put(meta, body), 200, 201, 204, 205)
    graph = graph_of(expect_status(await ctx.writer.get(meta, Accept="text/turtle"), 200))
    expect((URIRef(url), DCTERMS.title, Literal("described")) in graph, "description not stored")


@check("protocol.aux.patch-description", P + "server-put-patch-auxiliary-resource", Q_AUX_WRITE)
async def patch_description(ctx: Context) -> None:
    url = await ctx.make(DOC)
    meta = await ctx.link_of(url, "describedby")
    body = (
        "@prefix solid: <http://www.w3.org/ns/solid/terms#>.\n"
        "_:p a solid:InsertDeletePatch;"
        f' solid:inserts {{ <{url}> <http://purl.org/dc/terms/title> "patched" }}.'
    )
    expect_status(await ctx.writer.patch(meta, body), 200, 201, 204, 205)
    graph = graph_of(expect_status(await ctx.writer.get(meta, Accept="text/turtle"), 200))
    expect((URIRef(url), DCTERMS.title, Literal("patched")) in graph, "patched description lost")


Q_AUX_DELETE = (
    "When a contained resource is deleted, the server MUST also delete the associated auxiliary"
    " resources (see the Auxiliary Resources section)."
)


@check_each(
    ("acl", "describedby"),
    lambda rel: f"protocol.aux.deleted-with-subject-{rel}",
    P + "server-delete-remove-auxiliary-resource",
    Q_AUX_DELETE,
)
async def aux_deleted(ctx: Context, rel: str) -> None:
    url = await ctx.make(DOC)
    aux = await ctx.link_of(url, rel)
    if rel == "acl":
        owner = f"<{ctx.writer.webid}>" if ctx.writer.webid else None
        who = f"acl:agent {owner}" if owner else "acl:agentClass foaf:Agent"
        body = (
            "@prefix acl: <http://www.w3.org/ns/auth/acl#>. @prefix foaf: <http://xmlns.com/foaf/0.1/>.\n"
            f"<#all> a acl:Authorization; {who}; acl:accessTo <{url}>;"
            " acl:mode acl:Read, acl:Write, acl:Control."
        )
        expect_status(await ctx.writer.put(aux, body), 200, 201, 204, 205)
    else:
        await describe(ctx, url, aux, "aux")
    expect_status(await ctx.writer.delete(url))
    created(await ctx.writer.put(url, DOC))  # the subject is back: is its old auxiliary too?
    reply = await ctx.writer.get(aux, Accept="text/turtle")
    expect(
        reply.status in (404, 410) or ("aux" not in reply.text and "#all" not in reply.text),
        f"the old {rel} resource survived its subject: {reply.describe()}",
    )


@check(
    "protocol.aux.not-contained",
    P + "auxiliary-resources",
    "Servers MUST support auxiliary resources defined by this specification and manage the"
    " association between a subject resource and auxiliary resources.",
)
async def aux_not_members(ctx: Context) -> None:
    container = await ctx.make_container()
    url = await ctx.make(DOC, parent=container)
    meta = await ctx.link_of(url, "describedby")
    await describe(ctx, url, meta, "x")
    graph = graph_of(await ctx.writer.get(container, Accept="text/turtle"))
    members = {str(m) for m in graph.objects(URIRef(container), LDP.contains)}
    expect(meta not in members, f"the description resource {meta} is listed as a member")


# --- Storage and its description ------------------------------------------------------------


@check(
    "protocol.storage.root-type",
    P + "server-link-storage",
    "Servers MUST advertise the storage resource by including the HTTP Link header field with"
    ' rel="type" targeting http://www.w3.org/ns/pim/space#Storage when responding to'
    " storage’s request URI.",
)
async def root_is_storage(ctx: Context) -> None:
    types = {link.target for link in (await ctx.writer.head(ctx.server)).links("type")}
    expect(str(PIM.Storage) in types, f"the root's types: {sorted(types)}")


@check(
    "protocol.storage.member-not-storage",
    P + "server-storage",
    "The storage resource (pim:Storage) is the root container for all of its contained"
    " resources (see Resource Containment).",
)
async def member_not_storage(ctx: Context) -> None:
    container = await ctx.make_container()
    types = {link.target for link in (await ctx.writer.head(container)).links("type")}
    expect(str(PIM.Storage) not in types, f"{container}, inside the storage, claims pim:Storage")


Q_SD_LINK = (
    "Servers MUST include the Link header field with"
    ' rel="http://www.w3.org/ns/solid/terms#storageDescription" targeting the URI of the'
    " storage description resource in the response of HTTP GET, HEAD and OPTIONS requests"
    " targeting a resource in a storage."
)
SD_ROWS = [(m, k) for m in ("GET", "HEAD", "OPTIONS") for k in ("document", "container")]


@check_each(
    SD_ROWS,
    lambda r: f"protocol.storage.description-link-{r[0].lower()}-{r[1]}",
    P + "server-storage-description",
    Q_SD_LINK,
)
async def description_link(ctx: Context, row: tuple[str, str]) -> None:
    method, kind = row
    url = await ctx.make_container() if kind == "container" else await ctx.make(DOC)
    reply = await ctx.writer.request(method, url)
    expect(reply.link(STORAGE_DESCRIPTION), f"{method} {url}: no storageDescription link")


async def description_url(ctx: Context) -> str:
    return await ctx.once(
        "storage-description", lambda: ctx.link_of(ctx.server, STORAGE_DESCRIPTION)
    )


@check(
    "protocol.storage.description-statements",
    P + "server-storage-description-resource",
    "Servers MUST include statements about the storage as part of the storage description"
    " resource.",
)
async def description_statements(ctx: Context) -> None:
    url = await description_url(ctx)
    graph = graph_of(expect_status(await ctx.anon.get(url, Accept="text/turtle"), 200))
    storages = set(graph.subjects(RDF.type, PIM.Storage))
    expect(
        URIRef(ctx.server) in storages,
        f"the description types {sorted(map(str, storages))} as pim:Storage, not {ctx.server}",
    )


@check(
    "protocol.storage.description-jsonld",
    P + "server-storage-description-resource",
    "Servers MUST include statements about the storage as part of the storage description"
    " resource.",
)
async def description_jsonld(ctx: Context) -> None:
    url = await description_url(ctx)
    reply = expect_status(await ctx.anon.get(url, Accept="application/ld+json"), 200)
    expect(reply.media_type == "application/ld+json", f"served as {reply.media_type}")
    graph = graph_of(reply)
    expect((URIRef(ctx.server), RDF.type, PIM.Storage) in graph, "no pim:Storage statement")


# --- Deleting the root ----------------------------------------------------------------------

Q_ROOT_DELETE = (
    "When a DELETE request targets storage’s root container or its associated ACL resource, the"
    " server MUST respond with the 405 status code."
)
Q_ROOT_ALLOW = (
    "Server MUST exclude the DELETE method in the field value of the Allow header field, in"
    " response to requests to these resources [RFC9110]."
)


@check("protocol.root.delete-405", P + "server-delete-protect-root-container", Q_ROOT_DELETE)
async def root_delete(ctx: Context) -> None:
    expect_status(await ctx.writer.delete(ctx.server), 405)


@check("protocol.root.delete-acl-405", P + "server-delete-protect-root-container", Q_ROOT_DELETE)
async def root_acl_delete(ctx: Context) -> None:
    acl = await ctx.link_of(ctx.server, "acl")
    expect_status(await ctx.writer.delete(acl), 405)


@check("protocol.root.allow-no-delete", P + "server-disallow-delete", Q_ROOT_ALLOW)
async def root_allow(ctx: Context) -> None:
    reply = expect_status(await ctx.writer.get(ctx.server), 200)
    expect("DELETE" not in reply.tokens("Allow"), f"root Allow: {reply.tokens('Allow')}")


@check("protocol.root.acl-allow-no-delete", P + "server-disallow-delete", Q_ROOT_ALLOW)
async def root_acl_allow(ctx: Context) -> None:
    acl = await ctx.link_of(ctx.server, "acl")
    reply = await ctx.writer.head(acl)
    if not reply.ok:
        skip(f"the root ACL is not readable here ({reply.status})")
    expect("DELETE" not in reply.tokens("Allow"), f"root ACL Allow: {reply.tokens('Allow')}")


# --- Conditional requests -------------------------------------------------------------------

Q_IF_MATCH = (
    "An origin server MUST NOT perform the requested method if a received If-Match condition"
    " evaluates to false."
)
Q_IF_NONE_MATCH = (
    "An origin server MUST NOT perform the requested method if the condition evaluates to false;"
    " instead, the origin server MUST respond with either a) the 304 (Not Modified) status code"
    " if the request method is GET or HEAD or b) the 412 (Precondition Failed) status code for all"
    " other request methods."
)
Q_IF_UNMODIFIED = (
    'The "If-Unmodified-Since" header field makes the request method conditional on the selected'
    " representation's last modification date being earlier than or equal to the date provided"
    " in the field value."
)
Q_IF_MODIFIED = (
    'The "If-Modified-Since" header field makes a GET or HEAD request method conditional on the'
    " selected representation's modification date being more recent than the date provided in"
    " the field value."
)
WRONG_ETAG = '"conformance-never-an-etag"'
PATCH_BODY = (
    "@prefix solid: <http://www.w3.org/ns/solid/terms#>.\n"
    "_:p a solid:InsertDeletePatch;"
    ' solid:inserts { <#it> <http://example.org/conformance#value> "three" }.'
)


def http_date(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC), usegmt=True)


async def etag_of(ctx: Context, url: str) -> str:
    etag = (await ctx.writer.head(url)).header("ETag")
    if not etag:
        skip("the server sends no ETag (allowed: MAY)")
    return etag


@check(
    "protocol.conditional.if-none-match-star-existing",
    RFC9110 + "#field.if-none-match",
    Q_IF_NONE_MATCH,
)
async def inm_star_existing(ctx: Context) -> None:
    url = await ctx.make(DOC)
    expect_status(await ctx.writer.put(url, OTHER_DOC, **{"If-None-Match": "*"}), 412)
    await expect_value(ctx, url, "one")


@check(
    "protocol.conditional.if-none-match-star-new",
    RFC9110 + "#field.if-none-match",
    'If the field value is "*", the condition is false if the origin server has a current'
    " representation for the target resource.",
)
async def inm_star_new(ctx: Context) -> None:
    url = ctx.fresh("cond")
    created(await ctx.writer.put(url, DOC, **{"If-None-Match": "*"}))


@check("protocol.conditional.if-match-wrong-put", RFC9110 + "#field.if-match", Q_IF_MATCH)
async def im_wrong_put(ctx: Context) -> None:
    url = await ctx.make(DOC)
    expect_status(await ctx.writer.put(url, OTHER_DOC, **{"If-Match": WRONG_ETAG}), 412)
    await expect_value(ctx, url, "one")


@check(
    "protocol.conditional.if-match-right-put",
    RFC9110 + "#field.if-match",
    "An origin server that receives an If-Match header field MUST evaluate the condition as"
    " per Section 13.2 prior to performing the method.",
)
async def im_right_put(ctx: Context) -> None:
    url = await ctx.make(DOC)
    etag = await etag_of(ctx, url)
    expect_status(await ctx.writer.put(url, OTHER_DOC, **{"If-Match": etag}), 200, 204, 205)
    await expect_value(ctx, url, "two")


@check("protocol.conditional.if-match-wrong-patch", RFC9110 + "#field.if-match", Q_IF_MATCH)
async def im_wrong_patch(ctx: Context) -> None:
    url = await ctx.make(DOC)
    expect_status(await ctx.writer.patch(url, PATCH_BODY, **{"If-Match": WRONG_ETAG}), 412)
    await expect_value(ctx, url, "three", present=False)


@check("protocol.conditional.if-match-wrong-delete", RFC9110 + "#field.if-match", Q_IF_MATCH)
async def im_wrong_delete(ctx: Context) -> None:
    url = await ctx.make(DOC)
    expect_status(await ctx.writer.delete(url, **{"If-Match": WRONG_ETAG}), 412)
    expect_status(await ctx.writer.head(url), 200)


@check(
    "protocol.conditional.if-match-star-missing",
    RFC9110 + "#field.if-match",
    'If the field value is "*", the condition is true if the origin server has a current'
    " representation for the target resource.",
)
async def im_star_missing(ctx: Context) -> None:
    url = ctx.fresh("cond")
    expect_status(await ctx.writer.put(url, DOC, **{"If-Match": "*"}), 412)
    expect_status(await ctx.writer.head(url), 404)


@check_each(
    ("GET", "HEAD"),
    lambda m: f"protocol.conditional.if-none-match-etag-{m.lower()}",
    RFC9110 + "#field.if-none-match",
    Q_IF_NONE_MATCH,
)
async def inm_etag(ctx: Context, method: str) -> None:
    url = await ctx.make(DOC)
    etag = await etag_of(ctx, url)
    reply = await ctx.writer.request(method, url, **{"If-None-Match": etag})
    expect_status(reply, 304)


@check(
    "protocol.conditional.304-headers",
    RFC9110 + "#status.304",
    "The server generating a 304 response MUST generate any of the following header fields"
    " that would have been sent in a 200 (OK) response to the same request: Content-Location,"
    " Date, ETag, and Vary",
)
async def not_modified_headers(ctx: Context) -> None:
    url = await ctx.make(DOC)
    etag = await etag_of(ctx, url)
    full = await ctx.writer.get(url)
    reply = expect_status(await ctx.writer.get(url, **{"If-None-Match": etag}), 304)
    expect(reply.header("ETag") == full.header("ETag"), f"304 ETag {reply.header('ETag')!r}")
    if full.header("Vary"):
        expect(reply.header("Vary"), "the 200 has Vary, the 304 has none")


@check(
    "protocol.conditional.if-none-match-wrong-get",
    RFC9110 + "#field.if-none-match",
    "If the field value is a list of entity tags, the condition is false if one of the listed"
    " tags matches the entity tag of the selected representation.",
)
async def inm_other_tag(ctx: Context) -> None:
    url = await ctx.make(DOC)
    expect_status(await ctx.writer.get(url, **{"If-None-Match": WRONG_ETAG}), 200)


@check(
    "protocol.conditional.if-modified-since-future",
    RFC9110 + "#field.if-modified-since",
    Q_IF_MODIFIED,
)
async def ims_future(ctx: Context) -> None:
    url = await ctx.make(DOC)
    later = http_date(datetime.now(UTC) + timedelta(days=1))
    expect_status(await ctx.writer.get(url, **{"If-Modified-Since": later}), 304)


@check(
    "protocol.conditional.if-modified-since-past",
    RFC9110 + "#field.if-modified-since",
    Q_IF_MODIFIED,
)
async def ims_past(ctx: Context) -> None:
    url = await ctx.make(DOC)
    earlier = http_date(datetime(2001, 1, 1, tzinfo=UTC))
    expect_status(await ctx.writer.get(url, **{"If-Modified-Since": earlier}), 200)


@check(
    "protocol.conditional.if-unmodified-since-past",
    RFC9110 + "#field.if-unmodified-since",
    Q_IF_UNMODIFIED,
)
async def ius_past(ctx: Context) -> None:
    url = await ctx.make(DOC)
    earlier = http_date(datetime(2001, 1, 1, tzinfo=UTC))
    expect_status(await ctx.writer.put(url, OTHER_DOC, **{"If-Unmodified-Since": earlier}), 412)
    await expect_value(ctx, url, "one")


@check(
    "protocol.conditional.if-unmodified-since-future",
    RFC9110 + "#field.if-unmodified-since",
    Q_IF_UNMODIFIED,
)
async def ius_future(ctx: Context) -> None:
    url = await ctx.make(DOC)
    later = http_date(datetime.now(UTC) + timedelta(days=1))
    expect_status(
        await ctx.writer.put(url, OTHER_DOC, **{"If-Unmodified-Since": later}), 200, 204, 205
    )


@check(
    "protocol.conditional.etag-changes",
    P + "server-etag",
    "Servers MAY use the HTTP ETag header field with a strong validator for RDF bearing"
    " representations in order to encourage clients to opt-in to using the If-Match header"
    " field in their requests.",
)
async def etag_changes(ctx: Context) -> None:
    url = await ctx.make(DOC)
    before = await etag_of(ctx, url)
    expect(not before.startswith("W/"), f"weak validator {before} for an RDF representation")
    expect_status(await ctx.writer.put(url, OTHER_DOC), 200, 204, 205)
    expect(await etag_of(ctx, url) != before, "the ETag did not change with the content")


# --- Representations and content negotiation -------------------------------------------------

Q_TURTLE_JSONLD = (
    "When a server creates an RDF source [RDF11-CONCEPTS] on HTTP PUT, POST, or PATCH requests,"
    " the server MUST satisfy GET requests on this resource when the field value of the Accept"
    " header field requests a representation in text/turtle or application/ld+json [Turtle]"
    " [JSON-LD11]."
)
CONNEG_ROWS = [
    (made_by, ctype, accept)
    for made_by in ("put", "post", "patch")
    for ctype in ("text/turtle", "application/ld+json")
    for accept in ("text/turtle", "application/ld+json")
    if made_by != "patch" or ctype == "text/turtle"
]


@check_each(
    CONNEG_ROWS,
    lambda r: f"protocol.conneg.{r[0]}-{r[1].split('/')[1]}-as-{r[2].split('/')[1]}",
    P + "server-representation-turtle-jsonld",
    Q_TURTLE_JSONLD,
)
async def conneg(ctx: Context, row: tuple[str, str, str]) -> None:
    made_by, ctype, accept = row
    body = JSONLD_DOC if ctype == "application/ld+json" else DOC
    value = "from json-ld" if ctype == "application/ld+json" else "one"
    if made_by == "put":
        url = ctx.fresh("neg")
        created(await ctx.writer.put(url, body, ctype))
    elif made_by == "post":
        container = await ctx.make_container()
        url = str(expect_status(await ctx.writer.post(container, body, ctype), 201).location())
    else:
        url = ctx.fresh("neg")
        created(await ctx.writer.patch(url, PATCH_BODY.replace("three", "one")))
    reply = expect_status(await ctx.writer.get(url, Accept=accept), 200)
    expect(reply.media_type == accept, f"asked for {accept}, got {reply.media_type}")
    expect(has_value(graph_of(reply), url, value), f"the {accept} representation lost the data")


@check(
    "protocol.conneg.q-values",
    RFC9110 + "#field.accept",
    'The "Accept" header field can be used by user agents to specify their preferences'
    " regarding response media types.",
)
async def conneg_q(ctx: Context) -> None:
    url = await ctx.make(DOC)
    accept = "text/turtle;q=0.3, application/ld+json;q=0.9"
    reply = expect_status(await ctx.writer.get(url, Accept=accept), 200)
    expect(reply.media_type == "application/ld+json", f"q=0.9 JSON-LD lost to {reply.media_type}")


@check(
    "protocol.conneg.vary-accept",
    RFC9110 + "#field.vary",
    "An origin server SHOULD send a Vary header field when its algorithm for selecting a"
    " representation varies based on aspects of the request message other than the method and"
    " target URI",
)
async def vary_accept(ctx: Context) -> None:
    url = await ctx.make(DOC)
    vary = {v.lower() for v in (await ctx.writer.get(url)).tokens("Vary")}
    expect("accept" in vary or "*" in vary, f"Vary: {sorted(vary)}")


@check(
    "protocol.conneg.etag-per-representation",
    RFC9110 + "#field.etag",
    "A strong validator might change for reasons other than a change to the representation"
    " data, such as when a semantically significant part of the representation metadata is"
    " changed (e.g., Content-Type)",
)
async def etag_per_representation(ctx: Context) -> None:
    url = await ctx.make(DOC)
    turtle = (await ctx.writer.get(url, Accept="text/turtle")).header("ETag")
    jsonld = (await ctx.writer.get(url, Accept="application/ld+json")).header("ETag")
    if not turtle or not jsonld:
        skip("no ETag sent (allowed: MAY)")
    expect(turtle != jsonld, f"Turtle and JSON-LD share the strong ETag {turtle}")


@check(
    "protocol.conneg.range", RFC9110 + "#field.range", "A server MAY ignore the Range header field."
)
async def ranges(ctx: Context) -> None:
    url = await ctx.make("0123456789", ctype="text/plain", stem="range")
    reply = await ctx.writer.get(url, Range="bytes=2-5")
    if reply.status == 200:
        skip("the server ignores Range (allowed)")
    expect_status(reply, 206)
    expect(reply.body == b"2345", f"bytes 2-5 came back as {reply.body!r}")
    expect(
        (reply.header("Content-Range") or "").startswith("bytes 2-5/10"),
        f"Content-Range: {reply.header('Content-Range')}",
    )


# --- CORS -----------------------------------------------------------------------------------

Q_ACAO = (
    "the server MUST set the Access-Control-Allow-Origin header field value to the valid Origin"
    " header field value from the request and list Origin in the Vary header field value."
)
Q_ACEH = (
    "The server MUST make all used response headers readable for the Solid app through"
    " Access-Control-Expose-Headers (with the possible exception of the Access-Control-* header"
    " fields themselves)."
)
Q_PREFLIGHT = (
    "A server MUST also support the HTTP OPTIONS method [RFC9110] such that it can respond"
    " appropriately to CORS preflight requests."
)
CORS_METHODS = ("GET", "HEAD", "PUT", "POST", "PATCH", "DELETE")
PREFLIGHT_HEADERS = ("authorization", "dpop", "content-type", "if-match", "slug", "link")


@check_each(
    CORS_METHODS, lambda m: f"protocol.cors.acao-{m.lower()}", P + "server-cors-acao-vary", Q_ACAO
)
async def cors_acao(ctx: Context, method: str) -> None:
    url = await (ctx.make_container() if method == "POST" else ctx.make(DOC))
    body = DOC if method in ("PUT", "POST") else PATCH_BODY if method == "PATCH" else None
    ctype = {"PUT": "text/turtle", "POST": "text/turtle", "PATCH": "text/n3"}.get(method)
    reply = await ctx.writer.request(method, url, body, ctype, Origin=ORIGIN)
    expect(
        reply.header("Access-Control-Allow-Origin") == ORIGIN,
        f"{method}: Access-Control-Allow-Origin {reply.header('Access-Control-Allow-Origin')!r}",
    )
    vary = {v.lower() for v in reply.tokens("Vary")}
    expect("origin" in vary or "*" in vary, f"{method}: Vary {sorted(vary)} lacks Origin")


@check(
    "protocol.cors.acao-on-error",
    P + "server-cors",
    "If the server wishes to block access to a resource, this MUST NOT happen via CORS but"
    " MUST instead be communicated to the Solid app in the browser through HTTP status codes"
    " such as 401, 403, or 404 [RFC9110].",
)
async def cors_error(ctx: Context) -> None:
    reply = expect_status(await ctx.writer.get(ctx.fresh("absent"), Origin=ORIGIN), 404)
    expect(reply.header("Access-Control-Allow-Origin") == ORIGIN, "404 without ACAO: unreadable")


EXPOSED = (
    "Link",
    "Location",
    "ETag",
    "Allow",
    "Accept-Patch",
    "Accept-Post",
    "Accept-Put",
    "WAC-Allow",
    "Last-Modified",
    "Content-Type",
)


@check_each(EXPOSED, lambda h: f"protocol.cors.expose-{h.lower()}", P + "server-cors-aceh", Q_ACEH)
async def cors_expose(ctx: Context, header: str) -> None:
    container = await ctx.make_container()
    url = await ctx.make(DOC, parent=container)
    replies = [
        await ctx.writer.get(url, Origin=ORIGIN),
        await ctx.writer.get(container, Origin=ORIGIN),
    ]
    if header == "Location":
        replies.append(await ctx.writer.post(container, DOC, Origin=ORIGIN))
    used = [r for r in replies if r.header(header)]
    if not used:
        skip(f"the server does not send {header} here")
    if header == "Content-Type":
        return  # CORS-safelisted response header: readable without exposure (FETCH)
    for reply in used:
        exposed = {v.lower() for v in reply.tokens("Access-Control-Expose-Headers")}
        expect(
            header.lower() in exposed,
            f"{reply.method} sends {header} without exposing it: {sorted(exposed)}",
        )


@check(
    "protocol.cors.expose-enumerated",
    P + "server-cors-enumerate",
    "servers SHOULD explicitly enumerate all used response header fields under"
    " Access-Control-Expose-Headers rather than resorting to *, which does not cover all cases"
    " (such as credentials mode set to include).",
)
async def cors_enumerated(ctx: Context) -> None:
    url = await ctx.make(DOC)
    exposed = (await ctx.writer.get(url, Origin=ORIGIN)).tokens("Access-Control-Expose-Headers")
    expect(exposed and exposed != ["*"], f"Access-Control-Expose-Headers: {exposed}")


@check_each(
    CORS_METHODS,
    lambda m: f"protocol.cors.preflight-{m.lower()}",
    P + "server-cors-options",
    Q_PREFLIGHT,
)
async def cors_preflight(ctx: Context, method: str) -> None:
    url = await ctx.make(DOC)
    reply = await ctx.anon.options(
        url,
        Origin=ORIGIN,
        **{
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": ", ".join(PREFLIGHT_HEADERS),
        },
    )
    expect_status(reply, 200, 204)
    expect(reply.header("Access-Control-Allow-Origin") == ORIGIN, "preflight without ACAO")
    methods = {m.upper() for m in reply.tokens("Access-Control-Allow-Methods")}
    expect(method in methods or "*" in methods, f"preflight allows {sorted(methods)}")
    headers = {h.lower() for h in reply.tokens("Access-Control-Allow-Headers")}
    for name in PREFLIGHT_HEADERS:
        expect(
            name in headers or "*" in headers, f"preflight does not allow {name}: {sorted(headers)}"
        )


@check(
    "protocol.cors.allow-headers-accept",
    P + "server-cors-accept-acah",
    "Servers SHOULD also explicitly list Accept under Access-Control-Allow-Headers",
)
async def cors_accept(ctx: Context) -> None:
    url = await ctx.make(DOC)
    reply = await ctx.anon.options(
        url,
        Origin=ORIGIN,
        **{"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "accept"},
    )
    headers = {h.lower() for h in reply.tokens("Access-Control-Allow-Headers")}
    expect("accept" in headers, f"Access-Control-Allow-Headers: {sorted(headers)}")


@check(
    "protocol.cors.preflight-unauthenticated",
    P + "server-cors",
    "A server MUST implement the CORS protocol [FETCH] such that, to the extent possible, the"
    " browser allows Solid apps to send any request and combination of request headers to the"
    " server, and the Solid app can read any response and response headers received from the"
    " server.",
)
async def cors_preflight_private(ctx: Context) -> None:
    # Preflights carry no credentials, so a resource's protection must not turn them away.
    reply = await ctx.anon.options(
        ctx.fresh("never-created"),
        Origin=ORIGIN,
        **{
            "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    expect_status(reply, 200, 204)
    expect(reply.header("Access-Control-Allow-Origin") == ORIGIN, "preflight without ACAO")
