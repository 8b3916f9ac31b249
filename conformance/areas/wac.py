"""Web Access Control: a permission table (who may do what, for every mode granted),
inheritance, WAC-Allow, groups, origins, which authorizations apply at all, and the storage
owner's implicit control.

Two principals: "public" (anonymous callers, granted through foaf:Agent) runs on any server,
open ones included; "bob" (a second logged-in identity, granted through acl:agent) needs both
identities. The writer (alice when logged in) builds each fixture, then locks it down.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from conformance.areas.common import DOC, NOTHING_AGENT, OTHER_DOC, created, describe
from conformance.areas.protocol import description_url
from conformance.context import Agent, Context
from conformance.http import Reply
from conformance.rdf import ACL, RDF, SOLID, URIRef, graph_of
from conformance.registry import (
    OIDC,
    PROTOCOL,
    WAC,
    check,
    check_each,
    expect,
    expect_status,
    fail,
    skip,
)

W = WAC + "#"
PREFIXES = (
    "@prefix acl: <http://www.w3.org/ns/auth/acl#>.\n@prefix foaf: <http://xmlns.com/foaf/0.1/>.\n"
)
TARGET = (
    "@prefix ex: <http://example.org/conformance#>.\n"
    '<#it> ex:value "one". <#x> ex:familyName "Garcia".\n'
)
N3 = "@prefix solid: <http://www.w3.org/ns/solid/terms#>. @prefix ex: <http://example.org/conformance#>.\n"
APPEND_PATCH = N3 + '_:p a solid:InsertDeletePatch; solid:inserts { <#it> ex:value "added" }.'
WHERE_PATCH = N3 + (
    '_:p a solid:InsertDeletePatch; solid:where { ?x ex:familyName "Garcia" };'
    ' solid:inserts { ?x ex:value "found" }.'
)
DELETE_PATCH = N3 + (
    '_:p a solid:InsertDeletePatch; solid:deletes { <#it> ex:value "one" };'
    ' solid:inserts { <#it> ex:value "replaced" }.'
)
APP_ORIGIN = "https://app.conformance.example"
OTHER_ORIGIN = "https://elsewhere.conformance.example"
OK = (200, 201, 204, 205)


# --- Writing ACLs ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    who: str  # the subject part: "acl:agent <...>", "acl:agentClass foaf:Agent", ...
    modes: tuple[str, ...]  # "Read", "Write", ... or full IRIs
    access_to: bool = True
    default: bool = False
    typed: bool = True  # False leaves out "a acl:Authorization" (then it must not apply)
    extra: str = ""  # more predicate-object pairs, e.g. "acl:origin <...>"


def mode_term(mode: str) -> str:
    return f"<{mode}>" if ":" in mode else f"acl:{mode}"


def acl_document(resource: str, rules: Iterable[Rule]) -> str:
    parts = [PREFIXES]
    for number, rule in enumerate(rules):
        lines = [f"<#rule{number}>"]
        if rule.typed:
            lines.append("a acl:Authorization")
        if rule.who:
            lines.append(rule.who)
        if rule.access_to:
            lines.append(f"acl:accessTo <{resource}>")
        if rule.default:
            lines.append(f"acl:default <{resource}>")
        if rule.modes:
            lines.append("acl:mode " + ", ".join(mode_term(m) for m in rule.modes))
        if rule.extra:
            lines.append(rule.extra)
        parts.append(lines[0] + " " + ";\n    ".join(lines[1:]) + ".\n")
    return "".join(parts)


def keepers(ctx: Context, default: bool) -> list[Rule]:
    """Rules every fixture ACL carries: the writer keeps control (so the run can clean up),
    and a grant to a WebID nobody holds keeps the document a usable ACL when the grant under
    test is empty."""
    rules = [Rule(f"acl:agent <{NOTHING_AGENT}>", ("Read",), default=default)]
    if ctx.writer.webid:
        rules.append(
            Rule(f"acl:agent <{ctx.writer.webid}>", ("Read", "Write", "Control"), default=default)
        )
    return rules


async def set_acl(ctx: Context, resource: str, rules: Iterable[Rule], default: bool) -> Reply:
    """Write ``resource``'s ACL (found through its Link rel=acl) as the writer."""
    acl = await ctx.link_of(resource, "acl")
    body = acl_document(resource, [*keepers(ctx, default), *rules])
    return await ctx.writer.put(acl, body)


async def lock(ctx: Context, resource: str, *rules: Rule, default: bool = True) -> None:
    expect_status(await set_acl(ctx, resource, rules, default), *OK)


def grant_rules(who: str, grant: str, default: bool) -> list[Rule]:
    """The grant under test as rules: none at all for the empty grant."""
    modes = GRANTS[grant]
    return [Rule(who, modes, default=default)] if modes else []


def subject(ctx: Context, principal: str) -> tuple[Agent, str]:
    """The agent acting, and how an ACL names it."""
    if principal == "public":
        return ctx.anon, "acl:agentClass foaf:Agent"
    assert ctx.bob is not None and ctx.bob.webid
    return ctx.bob, f"acl:agent <{ctx.bob.webid}>"


def expect_denied(reply: Reply, principal: str) -> None:
    """Anonymous: 401 (or 404, which the Solid Protocol allows for security); logged in: 403
    (or 404)."""
    codes = (401, 404) if principal == "public" else (403, 404)
    expect_status(reply, *codes)


# --- The permission table -------------------------------------------------------------------------

GRANTS: dict[str, tuple[str, ...]] = {
    "none": (),
    "read": ("Read",),
    "append": ("Append",),
    "write": ("Write",),
    "read-append": ("Read", "Append"),
    "read-write": ("Read", "Write"),
    "control": ("Control",),
}
OPERATIONS = (
    "read",
    "head",
    "create-put",
    "create-post",
    "replace-put",
    "append-patch",
    "where-patch",
    "delete-patch",
    "delete",
    "acl-read",
    "acl-write",
)
DOCS = ("read", "replace", "append", "where", "delpatch", "delete", "aclread", "aclwrite")


def allowed(modes: tuple[str, ...], operation: str) -> bool:
    """What WAC and the Solid Protocol require for each operation (Write entails Append)."""
    read, write, control = "Read" in modes, "Write" in modes, "Control" in modes
    append = write or "Append" in modes
    return {
        "read": read,
        "head": read,
        "create-put": write,  # append/write on the container and write on the new resource
        "create-post": append,
        "replace-put": write,
        "append-patch": append,
        "where-patch": read and append,
        "delete-patch": read and write,
        "delete": write,
        "acl-read": control,
        "acl-write": control,
    }[operation]


R_READ = (
    W + "server-read-operation",
    "When an operation requests to read a resource, the server MUST"
    " match an Authorization allowing the acl:Read access privilege on the resource.",
)
R_CREATE = (
    W + "server-create-operation",
    "When an operation requests to create a resource as a member"
    " of a container resource, the server MUST match an Authorization allowing the"
    " acl:Append or acl:Write access privilege (as needed by the operation) on the resource"
    " to be created.",
)
R_PUT = (
    W + "http-put",
    "Creating a new resource requires acl:Append and/or acl:Write access to the"
    " container as well as acl:Write access to the (new) resource. Replacing an existing"
    " resource requires only acl:Write access to the resource itself.",
)
R_UPDATE = (
    W + "server-update-operation",
    "When an operation requests to update a resource, the"
    " server MUST match an Authorization allowing the acl:Append or acl:Write access"
    " privilege on the resource.",
)
R_DELETE = (
    W + "server-delete-operation",
    "When an operation requests to delete a resource, the"
    " server MUST match Authorizations allowing the acl:Write access privilege on the"
    " resource and the containing container.",
)
R_CONTROL = (
    W + "server-control-operation",
    "When an operation requests to read and write an ACL"
    " resource, the server MUST match an Authorization allowing the acl:Control access"
    " privilege on the resource.",
)
P_WHERE = (
    PROTOCOL + "#server-n3-patch-where",
    "When ?conditions is non-empty, servers MUST treat the request"
    " as a Read operation. When ?insertions is non-empty, servers MUST (also) treat the"
    " request as an Append operation.",
)
P_DELETE = (
    PROTOCOL + "#server-n3-patch-delete",
    "When ?deletions is non-empty, servers MUST treat the request as a Read and Write operation.",
)
REQUIREMENTS = {
    "read": R_READ,
    "head": R_READ,
    "create-put": R_PUT,
    "create-post": R_CREATE,
    "replace-put": R_PUT,
    "append-patch": R_UPDATE,
    "where-patch": P_WHERE,
    "delete-patch": P_DELETE,
    "delete": R_DELETE,
    "acl-read": R_CONTROL,
    "acl-write": R_CONTROL,
}


@dataclass(frozen=True)
class Cell:
    principal: str
    grant: str
    operation: str

    @property
    def id(self) -> str:
        return f"wac.table.{self.principal}.{self.grant}.{self.operation}"


@dataclass
class Table:
    container: str
    docs: dict[str, str]
    acls: dict[str, str]


async def build_table(ctx: Context, principal: str, grant: str) -> Table:
    _, who = subject(ctx, principal)
    container = await ctx.make_container(stem=f"wac-{principal}-{grant}")
    docs = {name: await ctx.make(TARGET, stem=name, parent=container) for name in DOCS}
    acls: dict[str, str] = {}
    # Resource ACLs first, the container's last: in open mode the writer is anonymous too,
    # and loses its own access once the container is locked.
    for name in ("aclread", "aclwrite"):
        acls[name] = await ctx.link_of(docs[name], "acl")
        await lock(ctx, docs[name], *grant_rules(who, grant, False), default=False)
    await lock(ctx, container, *grant_rules(who, grant, True))
    return Table(container, docs, acls)


async def perform(agent: Agent, table: Table, ctx: Context, cell: Cell) -> Reply:
    docs, who = table.docs, subject(ctx, cell.principal)[1]
    match cell.operation:
        case "read":
            return await agent.get(docs["read"])
        case "head":
            return await agent.head(docs["read"])
        case "create-put":
            return await agent.put(ctx.fresh("new", parent=table.container), DOC)
        case "create-post":
            return await agent.post(table.container, DOC)
        case "replace-put":
            return await agent.put(docs["replace"], OTHER_DOC)
        case "append-patch":
            return await agent.patch(docs["append"], APPEND_PATCH)
        case "where-patch":
            return await agent.patch(docs["where"], WHERE_PATCH)
        case "delete-patch":
            return await agent.patch(docs["delpatch"], DELETE_PATCH)
        case "delete":
            return await agent.delete(docs["delete"])
        case "acl-read":
            return await agent.get(table.acls["aclread"], Accept="text/turtle")
        case _:  # acl-write: the same grant written back, so nothing else changes
            rules = [*keepers(ctx, False), *grant_rules(who, cell.grant, False)]
            body = acl_document(docs["aclwrite"], rules)
            return await agent.put(table.acls["aclwrite"], body)


CELLS = [Cell(p, g, o) for p in ("public", "bob") for g in GRANTS for o in OPERATIONS]


@check_each(
    CELLS,
    lambda c: c.id,
    lambda c: REQUIREMENTS[c.operation][0],
    lambda c: REQUIREMENTS[c.operation][1],
    needs=lambda c: () if c.principal == "public" else ("alice", "bob"),
)
async def table_cell(ctx: Context, cell: Cell) -> None:
    table = await ctx.once(
        f"table-{cell.principal}-{cell.grant}", lambda: build_table(ctx, cell.principal, cell.grant)
    )
    agent, _ = subject(ctx, cell.principal)
    reply = await perform(agent, table, ctx, cell)
    if allowed(GRANTS[cell.grant], cell.operation):
        expect(
            reply.ok,
            f"granted {GRANTS[cell.grant] or 'nothing'}, {cell.operation} was"
            f" refused: {reply.describe()}",
        )
    else:
        expect(
            not reply.ok,
            f"granted {GRANTS[cell.grant] or 'nothing'}, {cell.operation} was"
            f" allowed: {reply.describe()}",
        )
        expect_denied(reply, cell.principal)


# --- ACL resources --------------------------------------------------------------------------------

Q_LINK = (
    "When a server wants to enable applications to discover Authorizations associated with a"
    " given resource, the server MUST advertise the ACL resource that is associated with a"
    " resource by responding to an HTTP request including a Link header with the rel value of"
    " acl (acl Link Relation) and the ACL resource as link target [RFC8288]."
)


@check_each(
    ("document", "container", "root"), lambda k: f"wac.acl.link-{k}", W + "server-link-acl", Q_LINK
)
async def acl_link(ctx: Context, kind: str) -> None:
    url = {"root": ctx.server}.get(kind) or await (
        ctx.make_container() if kind == "container" else ctx.make(DOC)
    )
    links = (await ctx.writer.head(url)).links("acl")
    expect(len(links) == 1, f"{url}: {len(links)} Link rel=acl (exactly one expected)")


async def control_root(ctx: Context) -> str:
    """The root ACL URL, when the writer may read it."""
    acl = await ctx.link_of(ctx.server, "acl")
    reply = await ctx.writer.get(acl, Accept="text/turtle")
    if reply.status in (401, 403):
        skip("the writer has no Control of the root (give --alice-credentials for the owner)")
    return acl


@check(
    "wac.acl.get-turtle",
    W + "server-get-acl-turtle",
    "Servers MUST accept an HTTP GET and HEAD request targeting an ACL resource when the value"
    " of the Accept header requests a representation in text/turtle [TURTLE].",
)
async def acl_turtle(ctx: Context) -> None:
    acl = await control_root(ctx)
    for method in ("GET", "HEAD"):
        reply = expect_status(await ctx.writer.request(method, acl, Accept="text/turtle"), 200)
        expect(reply.media_type == "text/turtle", f"{method} ACL served as {reply.media_type}")


@check(
    "wac.acl.missing-404",
    W + "server-get-acl-without-representation",
    "When an authorized HTTP GET or HEAD request targets an ACL resource without an existing"
    " representation, the server MUST respond with the 404 status code as per [RFC9110].",
)
async def acl_missing(ctx: Context) -> None:
    url = await ctx.make(DOC)
    acl = await ctx.link_of(url, "acl")
    expect_status(await ctx.writer.get(acl, Accept="text/turtle"), 404)


@check(
    "wac.acl.root-has-representation",
    W + "server-root-container-acl",
    "When an authorized HTTP GET or HEAD request targets root container’s ACL resource, the"
    " server MUST respond with a representation.",
)
async def root_acl(ctx: Context) -> None:
    acl = await control_root(ctx)
    reply = expect_status(await ctx.writer.get(acl, Accept="text/turtle"), 200)
    expect(reply.body.strip(), "the root ACL is empty")


@check(
    "wac.acl.root-grants-control",
    W + "server-root-container-acl-authorization-control",
    "The ACL resource of the root container MUST include an Authorization allowing the"
    " acl:Control access privilege (acl:Control access mode).",
)
async def root_control(ctx: Context) -> None:
    acl = await control_root(ctx)
    graph = graph_of(expect_status(await ctx.writer.get(acl, Accept="text/turtle"), 200))
    rules = set(graph.subjects(RDF.type, ACL.Authorization))
    expect(any((r, ACL.mode, ACL.Control) in graph for r in rules), "no rule grants acl:Control")


@check(
    "wac.acl.one-acl-per-resource",
    W + "server-resource-acl-max",
    "Servers MUST NOT directly associate more than one ACL resource to a resource.",
)
async def one_acl(ctx: Context) -> None:
    url = await ctx.make(DOC)
    got, headed = (
        (await ctx.writer.get(url)).links("acl"),
        (await ctx.writer.head(url)).links("acl"),
    )
    expect(len(got) == 1 and len(headed) == 1, f"{len(got)} and {len(headed)} acl links")
    expect(got[0].target == headed[0].target, "GET and HEAD name different ACL resources")


# --- WAC-Allow ------------------------------------------------------------------------------------

Q_WAC_ALLOW = (
    "Servers MUST advertise client’s access privileges on a resource by including the WAC-Allow"
    " HTTP header (WAC-Allow) in the response of HTTP GET and HEAD requests."
)
WAC_ALLOW = re.compile(
    r'^\s*(?:[A-Za-z]+\s*=\s*"\s*(?:(?:read|write|append|control)(?:\s+(?:read|write|append|control))*)?\s*"'
    r"\s*(?:,\s*|$))*$"
)


def wac_allow(reply: Reply) -> dict[str, set[str]]:
    header = reply.header("WAC-Allow")
    if header is None:
        fail(f"{reply.describe()}: no WAC-Allow header")
    return {
        g.lower(): set(m.split()) for g, m in re.findall(r'([A-Za-z]+)\s*=\s*"([^"]*)"', header)
    }


@check_each(
    ("GET", "HEAD"),
    lambda m: f"wac.wac-allow.present-{m.lower()}",
    W + "server-wac-allow",
    Q_WAC_ALLOW,
)
async def wac_allow_present(ctx: Context, method: str) -> None:
    url = await ctx.make(DOC)
    wac_allow(expect_status(await ctx.writer.request(method, url), 200))


@check("wac.wac-allow.syntax", W + "wac-allow", 'wac-allow = "WAC-Allow" ":" OWS #access-param OWS')
async def wac_allow_syntax(ctx: Context) -> None:
    url = await ctx.make(DOC)
    header = (await ctx.writer.get(url)).header("WAC-Allow") or ""
    expect(WAC_ALLOW.match(header), f"WAC-Allow {header!r} does not match the ABNF")


@check(
    "wac.wac-allow.exposed",
    W + "server-cors-aceh-wac-allow",
    "When a server participates in the CORS protocol [FETCH], the server MUST include WAC-Allow"
    " in the Access-Control-Expose-Headers field-value in the HTTP response.",
)
async def wac_allow_exposed(ctx: Context) -> None:
    url = await ctx.make(DOC)
    reply = await ctx.writer.get(url, Origin=APP_ORIGIN)
    exposed = {h.lower() for h in reply.tokens("Access-Control-Expose-Headers")}
    expect("wac-allow" in exposed, f"Access-Control-Expose-Headers: {sorted(exposed)}")


MODE_WORDS = {"Read": "read", "Write": "write", "Append": "append", "Control": "control"}
READABLE = [(p, g) for p in ("public", "bob") for g in GRANTS if "Read" in GRANTS[g]]


@check_each(
    READABLE,
    lambda r: f"wac.wac-allow.modes-{r[0]}-{r[1]}",
    W + "wac-allow",
    "user: Permissions granted to the agent requesting the resource. public: Permissions"
    " granted to the public.",
    needs=lambda r: () if r[0] == "public" else ("alice", "bob"),
)
async def wac_allow_modes(ctx: Context, row: tuple[str, str]) -> None:
    principal, grant = row
    table = await ctx.once(f"table-{principal}-{grant}", lambda: build_table(ctx, principal, grant))
    agent, _ = subject(ctx, principal)
    groups = wac_allow(expect_status(await agent.get(table.docs["read"]), 200))
    granted = {MODE_WORDS[m] for m in GRANTS[grant]}
    implied = granted | ({"append"} if "write" in granted else set())
    user = groups.get("user", set())
    expect(granted <= user <= implied, f"user={sorted(user)} for a grant of {sorted(granted)}")
    public = groups.get("public", set())
    if principal == "public":
        expect(granted <= public <= implied, f"public={sorted(public)} for {sorted(granted)}")
    else:
        expect(not public, f"public={sorted(public)}, but only bob and the writer are granted")


# --- Authentication challenges --------------------------------------------------------------------


async def private_document(ctx: Context) -> str:
    """A document nobody but the writer may read."""
    container = await ctx.make_container(stem="private")
    url = await ctx.make(DOC, parent=container)
    await lock(ctx, container)
    return url


@check(
    "wac.auth.anonymous-401",
    PROTOCOL + "#server-unauthenticated",
    "When a client does not provide valid credentials when requesting a resource that requires"
    " it (see WebID), servers MUST send a response with a 401 status code (unless 404 is"
    " preferred for security reasons).",
)
async def anonymous_401(ctx: Context) -> None:
    url = await ctx.once("private", lambda: private_document(ctx))
    expect_status(await ctx.anon.get(url), 401, 404)


@check(
    "wac.auth.www-authenticate",
    OIDC + "#authorization-server-discovery",
    "When a Client performs an unauthenticated request to a protected resource, the Resource"
    " Server MUST respond with the HTTP 401 status code, and a WWW-Authenticate HTTP header.",
)
async def www_authenticate(ctx: Context) -> None:
    url = await ctx.once("private", lambda: private_document(ctx))
    reply = expect_status(await ctx.anon.get(url), 401)
    expect(reply.header("WWW-Authenticate"), "401 without WWW-Authenticate")


@check(
    "wac.auth.logged-in-403",
    "https://www.rfc-editor.org/rfc/rfc9110#status.403",
    "The 403 (Forbidden) status code indicates that the server understood the request but"
    " refuses to fulfill it. ... If authentication credentials were provided in the request,"
    " the server considers them insufficient to grant access.",
    needs=("alice", "bob"),
)
async def logged_in_403(ctx: Context) -> None:
    url = await ctx.once("private", lambda: private_document(ctx))
    assert ctx.bob is not None
    expect_status(await ctx.bob.get(url), 403)


@check(
    "wac.auth.writer-still-allowed",
    W + "acl-agent",
    "The acl:agent predicate denotes an agent being given the access permission.",
    needs=("alice",),
)
async def writer_allowed(ctx: Context) -> None:
    url = await ctx.once("private", lambda: private_document(ctx))
    expect_status(await ctx.writer.get(url), 200)


# --- Inheritance ----------------------------------------------------------------------------------

PUBLIC = "acl:agentClass foaf:Agent"
Q_EFFECTIVE = (
    "WAC has the property of being recursive with respect to container hierarchy, meaning that a"
    " member resource inherits Authorizations from the closest container resource (heading"
    " towards the root container)."
)


@check(
    "wac.inherit.default-reaches-grandchild",
    W + "effective-acl-resource-container-hierarchy",
    Q_EFFECTIVE,
)
async def default_nested(ctx: Context) -> None:
    top = await ctx.make_container(stem="inherit")
    inner = await ctx.make_container(parent=top)
    url = await ctx.make(DOC, parent=inner)
    await lock(ctx, top, Rule(PUBLIC, ("Read",), default=True))
    expect_status(await ctx.anon.get(url), 200)


@check(
    "wac.inherit.access-to-not-inherited",
    W + "acl-accessto",
    "The acl:accessTo predicate denotes the resource to which access is being granted.",
)
async def access_to_only(ctx: Context) -> None:
    top = await ctx.make_container(stem="inherit")
    url = await ctx.make(DOC, parent=top)
    await lock(ctx, top, Rule(PUBLIC, ("Read",), access_to=True, default=False))
    expect_status(await ctx.anon.get(top), 200)
    expect_status(await ctx.anon.get(url), 401, 404)


@check(
    "wac.inherit.default-not-self",
    W + "acl-default",
    "The acl:default predicate denotes the container resource whose Authorization can be"
    " applied to a resource lower in the collection hierarchy.",
)
async def default_only(ctx: Context) -> None:
    top = await ctx.make_container(stem="inherit")
    url = await ctx.make(DOC, parent=top)
    await lock(ctx, top, Rule(PUBLIC, ("Read",), access_to=False, default=True))
    expect_status(await ctx.anon.get(url), 200)
    expect_status(await ctx.anon.get(top), 401, 404)


@check(
    "wac.inherit.own-acl-wins",
    W + "effective-acl-resource-with-representation",
    "When an ACL resource associated with a resource has a representation (ACL Resource"
    " Representation), it is the effective ACL resource of the requested resource.",
)
async def own_acl_wins(ctx: Context) -> None:
    top = await ctx.make_container(stem="inherit")
    url = await ctx.make(DOC, parent=top)
    await lock(ctx, url, default=False)  # the document's own ACL grants the public nothing
    await lock(ctx, top, Rule(PUBLIC, ("Read",), default=True))
    expect_status(await ctx.anon.get(url), 401, 404)


@check(
    "wac.inherit.nearest-container-wins",
    W + "effective-acl-resource-algorithm",
    "Otherwise, repeat the steps using the container resource of resource.",
)
async def nearest_wins(ctx: Context) -> None:
    top = await ctx.make_container(stem="inherit")
    inner = await ctx.make_container(parent=top)
    url = await ctx.make(DOC, parent=inner)
    await lock(ctx, inner)  # grants the public nothing
    await lock(ctx, top, Rule(PUBLIC, ("Read",), default=True))
    expect_status(await ctx.anon.get(url), 401, 404)


@check(
    "wac.inherit.acl-deleted-reverts",
    W + "effective-acl-resource-without-representation",
    "When an ACL resource associated with a resource does not have a representation (ACL"
    " Resource Representation), no Authorizations can be immediately checked against the"
    " requested resource. In this case, a container resource’s ACL resource might apply on"
    " every access to a member resource, in specifying Authorizations for the requested"
    " resource.",
)
async def acl_deleted(ctx: Context) -> None:
    top = await ctx.make_container(stem="inherit")
    url = await ctx.make(DOC, parent=top)
    acl = await ctx.link_of(url, "acl")
    await lock(ctx, url, Rule(PUBLIC, ("Control",)), default=False)  # control, but no read
    await lock(ctx, top, Rule(PUBLIC, ("Read",), default=True))
    expect_status(await ctx.anon.get(url), 401, 404)
    expect_status(await ctx.anon.delete(acl))
    expect_status(await ctx.anon.get(url), 200)


@check(
    "wac.inherit.new-member-inherits",
    W + "acl-default",
    "Inheriting Authorizations from the most significant container’s ACL resource is useful to"
    " avoid individually managing an ACL resource for each resource, as well as to define"
    " access control for resources that do not exist yet.",
)
async def new_member(ctx: Context) -> None:
    top = await ctx.make_container(stem="inherit")
    await lock(ctx, top, Rule(PUBLIC, ("Read", "Write"), default=True))
    url = ctx.fresh("later", parent=top)
    created(await ctx.anon.put(url, DOC))
    expect_status(await ctx.anon.get(url), 200)


# --- Which authorizations apply -------------------------------------------------------------------

Q_APPLICABLE = "An applicable Authorization has the following properties:"


async def applies(ctx: Context, rule: Rule) -> bool:
    """Whether ``rule`` (granting the public Read) lets an anonymous caller read a member."""
    top = await ctx.make_container(stem="applicable")
    url = await ctx.make(DOC, parent=top)
    written = await set_acl(ctx, top, [rule], default=True)
    if 400 <= written.status < 500:
        return False  # refusing the ACL outright also keeps the rule from granting anything
    expect_status(written, *OK)
    return (await ctx.anon.get(url)).ok


BROKEN = (
    (
        "untyped",
        "At least one rdf:type property whose object is acl:Authorization.",
        Rule(PUBLIC, ("Read",), default=True, typed=False),
    ),
    (
        "no-access-object",
        "At least one acl:accessTo or acl:default property value (Access Objects).",
        Rule(PUBLIC, ("Read",), access_to=False),
    ),
    (
        "no-mode",
        "At least one acl:mode property value (Access Modes).",
        Rule(PUBLIC, (), default=True),
    ),
    (
        "no-subject",
        "At least one acl:agent, acl:agentGroup, acl:agentClass or acl:origin property"
        " value (Access Subjects).",
        Rule("", ("Read",), default=True),
    ),
)


@check_each(
    BROKEN,
    lambda b: f"wac.applicable.{b[0]}",
    W + "authorization-conformance",
    lambda b: f"{Q_APPLICABLE} {b[1]}",
)
async def not_applicable(ctx: Context, broken: tuple[str, str, Rule]) -> None:
    expect(
        not await applies(ctx, broken[2]), f"an authorization lacking ({broken[1]}) granted access"
    )


@check("wac.applicable.complete", W + "authorization-conformance", Q_APPLICABLE)
async def applicable(ctx: Context) -> None:
    expect(
        await applies(ctx, Rule(PUBLIC, ("Read",), default=True)), "a complete rule did not apply"
    )


@check(
    "wac.modes.unknown-grants-nothing",
    W + "access-mode-extensions",
    "Foreign-namespaced access modes are allowed in ACL resources, but they MUST NOT cause"
    " increased access.",
)
async def unknown_mode(ctx: Context) -> None:
    rule = Rule(PUBLIC, ("http://example.org/conformance#Teleport",), default=True)
    expect(not await applies(ctx, rule), "an unknown access mode granted Read")


@check(
    "wac.modes.unknown-ignored",
    W + "access-mode-extensions",
    "Consumers of Authorizations that encounter unrecognised access modes MUST NOT stop"
    " processing or signal an error and MUST continue processing the access modes as if those"
    " properties were not present.",
)
async def unknown_ignored(ctx: Context) -> None:
    rule = Rule(PUBLIC, ("Read", "http://example.org/conformance#Teleport"), default=True)
    expect(await applies(ctx, rule), "an unknown mode beside acl:Read stopped the rule applying")


@check(
    "wac.modes.control-not-read",
    W + "http-acl-resource",
    "Having acl:Control does not imply that the agent has acl:Read or acl:Write access to the"
    " resource itself, just to its corresponding ACL resource.",
)
async def control_not_read(ctx: Context) -> None:
    expect(not await applies(ctx, Rule(PUBLIC, ("Control",), default=True)), "Control gave Read")


# --- Description resources ------------------------------------------------------------------------

Q_DESCRIBED = (
    "When an HTTP request targets a description resource, the server MUST apply the authorization"
    " rule that is used for the subject resource with which the description resource is"
    " associated."
)


async def described(ctx: Context) -> tuple[str, str]:
    top = await ctx.make_container(stem="described")
    url = await ctx.make(DOC, parent=top)
    meta = await ctx.link_of(url, "describedby")
    await describe(ctx, url, meta, "described")
    await lock(ctx, top, Rule(PUBLIC, ("Read",), default=True))
    return url, meta


@check(
    "wac.description.read-follows-subject",
    PROTOCOL + "#server-description-resource-authorization",
    Q_DESCRIBED,
)
async def description_read(ctx: Context) -> None:
    _, meta = await ctx.once("described", lambda: described(ctx))
    expect_status(await ctx.anon.get(meta), 200)


@check(
    "wac.description.write-follows-subject",
    PROTOCOL + "#server-description-resource-authorization",
    Q_DESCRIBED,
)
async def description_write(ctx: Context) -> None:
    url, meta = await ctx.once("described", lambda: described(ctx))
    reply = await ctx.anon.put(meta, f'<{url}> <http://purl.org/dc/terms/title> "vandal".')
    expect_denied(reply, "public")


# --- Agent classes, groups, origins (need two identities) -----------------------------------------

BOTH = ("alice", "bob")


async def readable_by(ctx: Context, key: str, rule: Rule) -> str:
    async def build() -> str:
        top = await ctx.make_container(stem=key)
        url = await ctx.make(DOC, parent=top)
        await lock(ctx, top, rule)
        return url

    return str(await ctx.once(key, build))


def bob(ctx: Context) -> Agent:
    assert ctx.bob is not None
    return ctx.bob


@check(
    "wac.class.authenticated-agent-bob",
    W + "acl-agentclass-authenticated-agent",
    "acl:AuthenticatedAgent Allows access to any authenticated agent.",
    needs=BOTH,
)
async def authenticated_bob(ctx: Context) -> None:
    url = await readable_by(
        ctx, "authenticated", Rule("acl:agentClass acl:AuthenticatedAgent", ("Read",), default=True)
    )
    expect_status(await bob(ctx).get(url), 200)


@check(
    "wac.class.authenticated-agent-anonymous",
    W + "acl-agentclass-authenticated-agent",
    "acl:AuthenticatedAgent Allows access to any authenticated agent.",
    needs=BOTH,
)
async def authenticated_anon(ctx: Context) -> None:
    url = await readable_by(
        ctx, "authenticated", Rule("acl:agentClass acl:AuthenticatedAgent", ("Read",), default=True)
    )
    expect_status(await ctx.anon.get(url), 401, 404)


@check(
    "wac.class.public-anonymous",
    W + "acl-agentclass-foaf-agent",
    "foaf:Agent Allows access to any agent, i.e., the public.",
)
async def public_anon(ctx: Context) -> None:
    url = await readable_by(ctx, "public-class", Rule(PUBLIC, ("Read",), default=True))
    expect_status(await ctx.anon.get(url), 200)


@check(
    "wac.class.public-bob",
    W + "acl-agentclass-foaf-agent",
    "foaf:Agent Allows access to any agent, i.e., the public.",
    needs=BOTH,
)
async def public_bob(ctx: Context) -> None:
    url = await readable_by(ctx, "public-class", Rule(PUBLIC, ("Read",), default=True))
    expect_status(await bob(ctx).get(url), 200)


Q_GROUP = (
    "The acl:agentGroup predicate denotes a group of agents being given the access permission."
    " The object of an acl:agentGroup statement is an instance of vcard:Group, where the members"
    " of the group are specified with the vcard:hasMember predicate."
)


async def group_guarded(ctx: Context, members: tuple[str, ...], key: str) -> str:
    async def build() -> str:
        listed = ", ".join(f"<{m}>" for m in members)
        body = (
            f"@prefix vcard: <http://www.w3.org/2006/vcard/ns#>.\n"
            f"<#group> a vcard:Group; vcard:hasMember {listed}."
        )
        group = await ctx.make(body, stem="group")
        await lock(ctx, group, Rule(PUBLIC, ("Read",)), default=False)  # servers fetch it
        top = await ctx.make_container(stem=key)
        url = await ctx.make(DOC, parent=top)
        await lock(ctx, top, Rule(f"acl:agentGroup <{group}#group>", ("Read",), default=True))
        return url

    return str(await ctx.once(key, build))


@check("wac.group.member-allowed", W + "acl-agentgroup", Q_GROUP, needs=BOTH)
async def group_member(ctx: Context) -> None:
    url = await group_guarded(ctx, (NOTHING_AGENT, str(bob(ctx).webid)), "group-with-bob")
    expect_status(await bob(ctx).get(url), 200)


@check("wac.group.member-anonymous-denied", W + "acl-agentgroup", Q_GROUP, needs=BOTH)
async def group_anon(ctx: Context) -> None:
    url = await group_guarded(ctx, (NOTHING_AGENT, str(bob(ctx).webid)), "group-with-bob")
    expect_status(await ctx.anon.get(url), 401, 404)


@check("wac.group.non-member-denied", W + "acl-agentgroup", Q_GROUP, needs=BOTH)
async def group_other(ctx: Context) -> None:
    url = await group_guarded(ctx, (NOTHING_AGENT,), "group-without-bob")
    expect_status(await bob(ctx).get(url), 403, 404)


Q_ORIGIN = (
    "When an HTTP request includes the Origin header, the requested operation is granted on the"
    " target resource when there is a match for: an Authorization allowing access to the"
    " requesting agent (acl:agent, acl:agentGroup, acl:agentClass); an Authorization with an"
    " acl:origin property value that of Origin’s field-value, when the required access mode is"
    " not available to all agents (acl:agentClass foaf:Agent); and the required access mode is"
    " allowed for the requesting agent and the origin."
)


async def origin_guarded(ctx: Context) -> str:
    who = f"acl:agent <{bob(ctx).webid}>"
    rule = Rule(who, ("Read",), default=True, extra=f"acl:origin <{APP_ORIGIN}>")
    return await readable_by(ctx, "origin", rule)


@check("wac.origin.trusted-allowed", W + "server-origin-authorization", Q_ORIGIN, needs=BOTH)
async def origin_trusted(ctx: Context) -> None:
    expect_status(await bob(ctx).get(await origin_guarded(ctx), Origin=APP_ORIGIN), 200)


@check("wac.origin.other-denied", W + "server-origin-authorization", Q_ORIGIN, needs=BOTH)
async def origin_other(ctx: Context) -> None:
    expect_status(await bob(ctx).get(await origin_guarded(ctx), Origin=OTHER_ORIGIN), 403, 404)


@check(
    "wac.origin.absent-ignored",
    W + "authorization-evaluation-origin",
    "The presence of the acl:origin property and its value is taken into account in the"
    " evaluation only when the HTTP request includes the Origin header (Web Origin"
    " Authorization).",
    needs=BOTH,
)
async def origin_absent(ctx: Context) -> None:
    expect_status(await bob(ctx).get(await origin_guarded(ctx)), 200)


@check(
    "wac.origin.cors-headers-when-granted",
    W + "server-cors-acao-acah",
    "When a server participates in the CORS protocol [FETCH] and authorization is granted to an"
    " HTTP request including the Origin header, the server MUST include the HTTP"
    " Access-Control-Allow-Origin and Access-Control-Allow-Headers headers in the response of"
    " the HTTP request.",
)
async def origin_cors(ctx: Context) -> None:
    url = await readable_by(ctx, "public-class", Rule(PUBLIC, ("Read",), default=True))
    reply = expect_status(await ctx.anon.get(url, Origin=APP_ORIGIN), 200)
    expect(reply.header("Access-Control-Allow-Origin") == APP_ORIGIN, "no matching ACAO")
    expect(reply.header("Access-Control-Allow-Headers"), "no Access-Control-Allow-Headers")


@check(
    "wac.agent.other-agent-denied",
    W + "acl-agent",
    "The acl:agent predicate denotes an agent being given the access permission.",
    needs=BOTH,
)
async def other_agent(ctx: Context) -> None:
    url = await readable_by(
        ctx, "nobody-only", Rule(f"acl:agent <{NOTHING_AGENT}>", ("Read",), default=True)
    )
    expect_status(await bob(ctx).get(url), 403, 404)


# --- The storage's owner --------------------------------------------------------------------------

Q_OWNER = (
    "An owner is a person or a social entity that is considered to have the rights and"
    " responsibilities of a storage. An owner is identified by a URI, and implicitly has control"
    " over all resources in a storage."
)


async def storage_owners(ctx: Context) -> set[str]:
    """The owners the server advertises for the storage: Link rel=solid:owner on its root, and
    solid:owner in its storage description."""
    found = {link.target for link in (await ctx.writer.head(ctx.server)).links(str(SOLID.owner))}
    reply = await ctx.writer.get(await description_url(ctx), Accept="text/turtle")
    if reply.ok:
        found |= {str(o) for o in graph_of(reply).objects(URIRef(ctx.server), SOLID.owner)}
    return found


@dataclass(frozen=True)
class OwnerLocked:
    container: str
    doc: str
    acl: str
    only_bob: str  # the ACL, as written


@asynccontextmanager
async def locked_out_owner(
    ctx: Context, owner_modes: tuple[str, ...] = ()
) -> AsyncIterator[OwnerLocked]:
    """A container whose ACL names bob (with every mode) and the owner only with
    ``owner_modes``, written by the owner; its usual ACL is put back afterwards (by bob when
    the owner cannot) so that the run can clean up."""
    owner = ctx.writer.webid
    if not owner or owner not in await storage_owners(ctx):
        skip("the server advertises no solid:owner, or another one than the writer")
    container = await ctx.make_container(stem="owned")
    doc = await ctx.make(TARGET, parent=container)
    acl = await ctx.link_of(container, "acl")
    rules = [Rule(f"acl:agent <{bob(ctx).webid}>", ("Read", "Write", "Control"), default=True)]
    if owner_modes:
        rules.append(Rule(f"acl:agent <{owner}>", owner_modes, default=True))
    body = acl_document(container, rules)
    expect_status(await ctx.writer.put(acl, body), *OK)
    try:
        yield OwnerLocked(container, doc, acl, body)
    finally:
        usual = acl_document(container, keepers(ctx, True))
        for agent in (ctx.writer, bob(ctx)):
            if (await agent.put(acl, usual)).ok:
                break


@check("wac.owner.acl-read", PROTOCOL + "#owner", Q_OWNER, needs=BOTH)
async def owner_reads_acl(ctx: Context) -> None:
    async with locked_out_owner(ctx) as locked:
        reply = expect_status(await ctx.writer.get(locked.acl, Accept="text/turtle"), 200)
        named = (None, ACL.agent, URIRef(str(bob(ctx).webid))) in graph_of(reply)
        expect(named, "the ACL read back does not name bob")


@check("wac.owner.acl-write", PROTOCOL + "#owner", Q_OWNER, needs=BOTH)
async def owner_repairs_acl(ctx: Context) -> None:
    async with locked_out_owner(ctx) as locked:
        repaired = acl_document(locked.container, keepers(ctx, True))
        expect_status(await ctx.writer.put(locked.acl, repaired), *OK)
        expect_status(await ctx.writer.get(locked.doc), 200)


@check("wac.owner.acl-delete", PROTOCOL + "#owner", Q_OWNER, needs=BOTH)
async def owner_deletes_acl(ctx: Context) -> None:
    async with locked_out_owner(ctx) as locked:
        expect_status(await ctx.writer.delete(locked.acl), *OK)
        expect_status(await ctx.writer.get(locked.acl, Accept="text/turtle"), 404)


@check("wac.owner.named-agent-unaffected", PROTOCOL + "#owner", Q_OWNER, needs=BOTH)
async def owner_bob_unaffected(ctx: Context) -> None:
    async with locked_out_owner(ctx) as locked:
        expect_status(await bob(ctx).get(locked.doc), 200)
        expect_status(await bob(ctx).get(locked.acl, Accept="text/turtle"), 200)


@check("wac.owner.others-denied", PROTOCOL + "#owner", Q_OWNER, needs=BOTH)
async def owner_others_denied(ctx: Context) -> None:
    async with locked_out_owner(ctx) as locked:
        for url in (locked.doc, locked.acl):
            expect_status(await ctx.anon.get(url, Accept="text/turtle"), 401, 404)
        expect_status(await ctx.anon.put(locked.acl, locked.only_bob), 401, 404)


@check(
    "wac.owner.wac-allow-control",
    W + "wac-allow",
    "user: Permissions granted to the agent requesting the resource. (The storage owner"
    " implicitly has control over all resources in a storage: Solid Protocol, owner.)",
    needs=BOTH,
)
async def owner_wac_allow(ctx: Context) -> None:
    async with locked_out_owner(ctx, owner_modes=("Read",)) as locked:
        user = wac_allow(expect_status(await ctx.writer.get(locked.doc), 200)).get("user", set())
        expect({"read", "control"} <= user, f"the owner's WAC-Allow user={sorted(user)}")
