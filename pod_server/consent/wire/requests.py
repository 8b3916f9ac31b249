"""Parsing an incoming access request into a ``ParsedRequest``, whatever its wire form.

Three forms are read (README.md has examples):

* LWS JSON: the W3C Linked Web Storage "Access Requests and Grants" draft's access request
  (``type: AccessRequest``, ``storage``, ``access: [AccessPolicy]`` with ``action``,
  ``assignee``, ``target.value`` and ODRL ``constraint`` objects), read as plain JSON
  (``application/json``, ``application/lws+json``, or JSON-LD naming the LWS context);
* SAI RDF: an ``interop:AccessRequest`` whose access need groups hold access needs with
  ``interop:accessMode`` and, as concrete targets, ``interop:hasDataInstance`` (or
  ``odrl:target``);
* our RDF: a ``consent:AccessRequest`` with ``odrl:permission`` nodes, each one
  ``odrl:target`` and its ``acl:mode`` values.

The RDF forms are validated with the consent vocabulary's shapes first. All of it is pure:
the caller gives the body, the authenticated requester and where the request arrived
(``Scope``). Unparsable input is a BadRequest (400); anything well-formed but unusable is
an UnprocessableEntity (422) whose one-line message starts with the field at fault.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import RDF, RDFS
from rdflib.term import Node

import vocab
from pod_server.access.modes import NO_MODES, Mode
from pod_server.errors import BadRequest, UnprocessableEntity, UnsupportedMediaType
from pod_server.ldp import conneg, rdf
from pod_server.ldp.budget import DEFAULT_MAX_NESTING
from pod_server.ldp.layout import WELL_KNOWN, Layout
from pod_server.ldp.media_types import JSON_LD
from pod_server.ldp.vocabulary import ACL, INTEROP

MODES = ("Read", "Write", "Append", "Control")  # WAC mode names, as acl: local names
MAX_TARGETS = 100
MAX_BODY = 64 * 1024  # bytes: a request of MAX_TARGETS long URLs fits with room to spare

JSON = "application/json"
LWS_JSON = "application/lws+json"
LWS = "https://www.w3.org/ns/lws#"
LWS_CONTEXT = "https://www.w3.org/ns/lws/v1"

ODRL = Namespace("http://www.w3.org/ns/odrl/2/")
DPV = Namespace("https://w3id.org/dpv#")
CONSENT = Namespace(vocab.namespace("consent"))

# LWS access profile actions -> the WAC mode each needs (LWS: read = GET/HEAD, modify =
# PUT/PATCH, create = POST into a container, delete = DELETE).
LWS_ACTIONS = {"read": "Read", "modify": "Write", "create": "Append", "delete": "Write"}
_LWS_TARGET_TYPES = {"StorageResource", "DataResource", "Container"}
_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>\"{}|\\^`]+$")


@dataclass(frozen=True, slots=True)
class RequestedTarget:
    """One resource asked for (a container covers what is below it) and the WAC modes."""

    url: str
    modes: frozenset[str]  # names from MODES

    @property
    def wac_modes(self) -> Mode:
        """The modes as access control's flags (what the consent model's Target holds)."""
        found = NO_MODES
        for name in self.modes:
            found |= Mode[name.upper()]
        return found


@dataclass(frozen=True, slots=True)
class ParsedRequest:
    """An access request as the consent service takes it, independent of its wire form."""

    recipient: str  # the requester's WebID: the authenticated agent, never the body's say
    targets: tuple[RequestedTarget, ...]
    purposes: tuple[str, ...] = ()
    data: tuple[str, ...] = ()  # data categories (IRIs)
    until: datetime | None = None
    client: str | None = None  # a client id the access is to be limited to
    note: str | None = None
    inbox: str | None = None  # where the requester wants to hear back (LWS ``inbox``)
    form: str = "consent"  # "lws", "sai" or "consent": which wire form it came in


@dataclass(frozen=True, slots=True)
class Scope:
    """Where a request arrived: the storage it is for, and the time to judge ``until`` by."""

    layout: Layout
    root: str  # the storage root path
    now: datetime  # time zone aware

    @property
    def root_url(self) -> str:
        return self.layout.url(self.root)

    def contains(self, url: str) -> bool:
        """Whether ``url`` names a resource of this storage a grant may cover, in its
        canonical form (no dot segments, no fragment), and not the server's ``.well-known/``."""
        path = self.layout.local_path(url)
        if path is None or self.layout.url(path) != url:
            return False
        if self.layout.storage_root_of(path) != self.root:
            return False
        return not path.startswith(self.root + WELL_KNOWN)


def invalid(field: str, why: str) -> UnprocessableEntity:
    """A 422 whose one-line message names the field at fault first."""
    return UnprocessableEntity(f"{field}: {why}")


# --------------------------------------------------------------------------- entry point


def parse_request(
    body: bytes,
    content_type: str,
    requester: str,
    scope: Scope,
    base: str,
    max_nesting: int = DEFAULT_MAX_NESTING,
) -> ParsedRequest:
    """The access request in ``body`` (any supported form), checked; ``base`` resolves
    relative IRIs of RDF bodies (the URL the request was posted to). Parsing and the
    shapes cost CPU in proportion to the body: callers run this off the event loop."""
    if len(body) > MAX_BODY:
        raise invalid("body", f"larger than the {MAX_BODY}-byte limit for an access request")
    essence = conneg.parse_content_type(content_type)[0]
    if essence in (JSON, LWS_JSON):
        return parse_lws(_json(body), requester, scope)
    if essence == JSON_LD:
        document = _json(body)
        if is_lws(document):
            return parse_lws(document, requester, scope)
    if essence and rdf.is_rdf(essence):
        return parse_graph(rdf.parse(body, essence, base, max_nesting), requester, scope)
    raise UnsupportedMediaType(
        f"An access request is LWS JSON ({JSON}, {LWS_JSON}) or RDF (Turtle, JSON-LD), "
        f"not {essence or 'an untyped body'}"
    )


def _json(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadRequest(f"The body is not JSON: {exc}") from None


def is_lws(document: Any) -> bool:
    """Whether a JSON-LD document is in the LWS form: it names the LWS context."""
    if not isinstance(document, dict):
        return False
    context = document.get("@context")
    contexts = context if isinstance(context, list) else [context]
    return LWS_CONTEXT in contexts


# --------------------------------------------------------------------------- LWS JSON


def parse_lws(document: Any, requester: str, scope: Scope) -> ParsedRequest:
    """An LWS access request (the draft's JSON serialization, read without JSON-LD)."""
    if not isinstance(document, dict):
        raise invalid("body", "an LWS access request is a JSON object")
    if "@context" in document and not is_lws(document):
        raise invalid("@context", f"must include {LWS_CONTEXT}")
    if "AccessRequest" not in _types(document.get("type"), "type"):
        raise invalid("type", "must include AccessRequest")
    storage = document.get("storage")
    if not isinstance(storage, str):
        raise invalid("storage", "required: the URL of the storage asked for")
    if storage != scope.root_url:
        raise invalid("storage", f"<{storage}> is not this storage <{scope.root_url}>")
    inbox = document.get("inbox")
    if inbox is not None and not _is_web_url(inbox):
        raise invalid("inbox", "must be an http(s) URL")
    access = document.get("access")
    if not isinstance(access, list) or not access:
        raise invalid("access", "required: a list of one or more access policies")
    targets: dict[str, set[str]] = {}
    purposes: list[str] = []
    untils: list[datetime] = []
    clients: set[str] = set()
    for i, policy in enumerate(access):
        field = f"access[{i}]"
        if not isinstance(policy, dict):
            raise invalid(field, "an access policy is a JSON object")
        if "AccessPolicy" not in _types(policy.get("type"), f"{field}.type"):
            raise invalid(f"{field}.type", "must include AccessPolicy")
        modes = _lws_modes(policy.get("action"), f"{field}.action")
        assignee = policy.get("assignee")
        if assignee != requester:
            raise invalid(f"{field}.assignee", f"must be the requesting agent <{requester}>")
        for url in _lws_target(policy.get("target"), f"{field}.target"):
            targets.setdefault(url, set()).update(modes)
        constraints = policy.get("constraint", [])
        if not isinstance(constraints, list):
            raise invalid(f"{field}.constraint", "must be a list of constraint objects")
        for j, constraint in enumerate(constraints):
            _lws_constraint(constraint, f"{field}.constraint[{j}]", purposes, untils, clients)
    if len(clients) > 1:
        raise invalid("access", "the access policies name different clients")
    data = document.get("dataCategory", [])  # our extension: DPV personal data categories
    note = document.get("description")
    if note is not None and not isinstance(note, str):
        raise invalid("description", "must be a string")
    return checked(
        ParsedRequest(
            recipient=requester,
            targets=_targets(targets),
            purposes=_iris(purposes, "constraint purpose"),
            data=_iris(data if isinstance(data, list) else [data], "dataCategory"),
            until=min(untils) if untils else None,
            client=next(iter(clients), None),
            note=note,
            inbox=inbox,
            form="lws",
        ),
        scope,
        targets_field="access[].target",
        until_field="constraint dateTime",
    )


def _types(value: Any, field: str) -> set[str]:
    values = value if isinstance(value, list) else [value]
    if not values or not all(isinstance(v, str) for v in values):
        raise invalid(field, "required: a term or a list of terms")
    # A term or its full LWS IRI name the same type.
    return {v[len(LWS) :] if v.startswith(LWS) else v for v in values}


def _lws_modes(actions: Any, field: str) -> set[str]:
    if not isinstance(actions, list) or not actions:
        raise invalid(field, "required: a list of actions (read, modify, create, delete)")
    modes = set()
    for action in actions:
        mode = LWS_ACTIONS.get(action) if isinstance(action, str) else None
        if mode is None:
            raise invalid(field, f"unknown action {action!r}; use read, modify, create, delete")
        modes.add(mode)
    return modes


def _lws_target(target: Any, field: str) -> list[str]:
    if not isinstance(target, dict):
        raise invalid(field, "required: {type, value} naming the resources asked for")
    kind = target.get("type", "StorageResource")
    kind = kind[len(LWS) :] if isinstance(kind, str) and kind.startswith(LWS) else kind
    if kind not in _LWS_TARGET_TYPES:
        raise invalid(f"{field}.type", f"unknown target type {kind!r}")
    values = target.get("value")
    values = [values] if isinstance(values, str) else values
    if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
        raise invalid(f"{field}.value", "required: a list of one or more resource URLs")
    return values


def _lws_constraint(
    constraint: Any, field: str, purposes: list[str], untils: list[datetime], clients: set[str]
) -> None:
    if not isinstance(constraint, dict):
        raise invalid(field, "a constraint is a JSON object")
    left, operator, right = (
        constraint.get("leftOperand"),
        constraint.get("operator"),
        constraint.get("rightOperand"),
    )
    if left == "purpose" and operator == "eq" and isinstance(right, str):
        purposes.append(right)
    elif left == "purpose" and operator == "isAnyOf" and isinstance(right, list):
        purposes.extend(right)
    elif left == "dateTime" and operator in ("lteq", "lt"):
        untils.append(parse_time(right, f"{field}.rightOperand"))
    elif left == "client" and operator == "eq" and isinstance(right, str):
        clients.add(right)
    else:
        # mediaType and type constraints, and start times, cannot be enforced by WAC
        # grants: refusing beats granting more than was asked.
        raise invalid(
            field,
            f"unsupported constraint {left!r} {operator!r}; this server supports purpose "
            "(eq, isAnyOf), dateTime (lteq, lt) and client (eq)",
        )


# --------------------------------------------------------------------------- RDF (SAI, ours)


def parse_graph(graph: Graph, requester: str, scope: Scope) -> ParsedRequest:
    """A ``consent:AccessRequest`` or ``interop:AccessRequest`` in ``graph``."""
    ours = set(graph.subjects(RDF.type, CONSENT.AccessRequest))
    sai = set(graph.subjects(RDF.type, INTEROP.AccessRequest))
    if not ours and not sai:
        raise invalid("rdf:type", "no consent:AccessRequest or interop:AccessRequest found")
    if len(ours) + len(sai) > 1:
        raise invalid("rdf:type", "one access request per document")
    check_shapes(graph)
    if ours:
        return _parse_ours(graph, ours.pop(), requester, scope)
    return _parse_sai(graph, sai.pop(), requester, scope)


def check_shapes(graph: Graph) -> None:
    """The consent vocabulary's shapes, or a 422 naming the first property at fault."""
    report = vocab.validate(graph, "consent")
    if report.conforms:
        return
    first = report.violations[0]
    message = first.message.split("; ")[0]
    if first.value is not None:
        message += f" (value {first.value.n3()})"
    more = len(report.violations) - 1
    raise UnprocessableEntity(message + (f" (and {more} more)" if more else ""))


def _parse_ours(graph: Graph, request: Node, requester: str, scope: Scope) -> ParsedRequest:
    targets: dict[str, set[str]] = {}
    for permission in graph.objects(request, ODRL.permission):
        url = str(graph.value(permission, ODRL.target))
        targets.setdefault(url, set()).update(_mode_names(graph.objects(permission, ACL.mode)))
    return checked(
        ParsedRequest(
            recipient=requester,
            targets=_targets(targets),
            **_common(graph, [request]),
            form="consent",
        ),
        scope,
        targets_field="odrl:target",
        until_field="consent:expiresAt",
    )


def _parse_sai(graph: Graph, request: Node, requester: str, scope: Scope) -> ParsedRequest:
    sender = graph.value(request, INTEROP.fromSocialAgent)
    if sender is not None and str(sender) != requester:
        raise invalid("interop:fromSocialAgent", f"must be the requesting agent <{requester}>")
    targets: dict[str, set[str]] = {}
    groups = list(graph.objects(request, INTEROP.hasAccessNeedGroup))
    needs = [need for group in groups for need in graph.objects(group, INTEROP.hasAccessNeed)]
    for need in needs:
        urls = [*graph.objects(need, INTEROP.hasDataInstance), *graph.objects(need, ODRL.target)]
        if not urls:
            # Needs by shape tree only name no resource this server could grant on.
            raise invalid(
                "interop:hasDataInstance",
                f"the access need {_name(need)} names no concrete resource",
            )
        modes = _mode_names(graph.objects(need, INTEROP.accessMode))
        for url in urls:
            targets.setdefault(str(url), set()).update(modes)
    return checked(
        ParsedRequest(
            recipient=requester,
            targets=_targets(targets),
            **_common(graph, [request, *groups, *needs]),
            form="sai",
        ),
        scope,
        targets_field="interop:hasDataInstance",
        until_field="consent:expiresAt",
    )


def _common(graph: Graph, subjects: list[Node]) -> dict[str, Any]:
    """Purposes, data categories, until and note, read from the request (and for SAI its
    groups and needs, where data categories naturally sit)."""

    def all_of(*predicates: URIRef) -> tuple[str, ...]:
        found = {str(o) for s in subjects for p in predicates for o in graph.objects(s, p)}
        return tuple(sorted(found))

    until = graph.value(subjects[0], CONSENT.expiresAt)
    note = graph.value(subjects[0], RDFS.comment)
    return {
        "purposes": all_of(CONSENT.purpose, DPV.hasPurpose),
        "data": all_of(DPV.hasPersonalData),
        "until": parse_time(str(until), "consent:expiresAt") if until is not None else None,
        "note": str(note) if isinstance(note, Literal) else None,
    }


def _mode_names(modes: Iterable[Node]) -> set[str]:
    names = set()
    for mode in modes:  # the shapes allowed only acl:Read/Write/Append/Control
        name = str(mode).removeprefix(str(ACL))
        if name not in MODES:
            raise invalid("acl:mode", f"unknown mode {_name(mode)}")
        names.add(name)
    return names


def _name(node: Node) -> str:
    return node.n3() if isinstance(node, URIRef) else "(a blank node)"


# --------------------------------------------------------------------------- common checks


def _targets(found: Mapping[str, set[str]]) -> tuple[RequestedTarget, ...]:
    return tuple(RequestedTarget(url, frozenset(modes)) for url, modes in sorted(found.items()))


def _iris(values: Iterable[Any], field: str) -> tuple[str, ...]:
    out = []
    for value in values:
        if not isinstance(value, str) or not _IRI.match(value):
            raise invalid(field, f"{value!r} is not an absolute IRI")
        out.append(value)
    return tuple(sorted(set(out)))


def _is_web_url(value: Any) -> bool:
    return (
        isinstance(value, str)
        and value.startswith(("https://", "http://"))
        and bool(_IRI.match(value))
    )


def parse_time(value: Any, field: str) -> datetime:
    """An ISO 8601 date-time with a time zone (``Z`` or an offset)."""
    if not isinstance(value, str):
        raise invalid(field, "must be an ISO 8601 date-time string")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise invalid(field, f"{value!r} is not an ISO 8601 date-time") from None
    if parsed.tzinfo is None:
        raise invalid(field, f"{value!r} has no time zone (add Z or an offset)")
    return parsed


def check_targets(
    targets: tuple[RequestedTarget, ...], scope: Scope, field: str
) -> tuple[RequestedTarget, ...]:
    """Targets a grant can cover: some, not too many, each in this storage, with modes."""
    if not targets:
        raise invalid(field, "no target: name at least one resource")
    if len(targets) > MAX_TARGETS:
        raise invalid(field, f"{len(targets)} targets; at most {MAX_TARGETS} per request")
    for target in targets:
        if not _is_web_url(target.url) or not scope.contains(target.url):
            raise invalid(field, f"<{target.url}> is not a resource of this storage")
        if not target.modes or not target.modes <= set(MODES):
            raise invalid(field, f"<{target.url}>: modes must be some of {', '.join(MODES)}")
    return targets


def check_until(until: datetime | None, scope: Scope, field: str) -> datetime | None:
    if until is not None and until <= scope.now:
        raise invalid(field, f"{until.isoformat()} is in the past")
    return until


def checked(
    request: ParsedRequest, scope: Scope, *, targets_field: str, until_field: str
) -> ParsedRequest:
    """The checks every form shares (after its own parsing)."""
    check_targets(request.targets, scope, targets_field)
    check_until(request.until, scope, until_field)
    _iris(request.purposes, "purpose")
    _iris(request.data, "data category")
    if request.client is not None and not _IRI.match(request.client):
        raise invalid("client", f"{request.client!r} is not a client id IRI")
    return request
