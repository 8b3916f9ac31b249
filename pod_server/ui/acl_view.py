"""Who may do what on one resource, in plain words, and the sharing page's edits (pure).

``entries`` reads an ACL graph into plain-language entries: who (a person's WebID, a
group, an app by its client id, everyone, everyone signed in), what they may do (see,
add, edit, manage sharing), on what (the item, its contents), through which apps
(``acl:origin``, or a client condition on a person's rule), and where it comes from (this
item's own ACL, a folder's ``acl:default`` rules, or a consent record).

An app as the one given access is a rule for everyone signed in with a client condition
naming it (``acl:condition [ a acl:ClientCondition; acl:client <id> ]``): whoever uses
that app gets the access through it, and nobody gets it through another app.

``grant`` and ``revoke`` edit an ACL graph the way the page's forms ask; ``lock_out``
refuses an edit that would take away the access people cannot do without. They raise
``Refusal`` (a message key of ``i18n``), which the page turns into a page saying why.
A resource without an ACL of its own starts from a copy of the inherited rules
(``consent.rules.copy_inherited``), as a consent grant does, so nobody loses access.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType

from rdflib import FOAF, RDF, BNode, Graph, Literal, URIRef
from rdflib.term import Node

from pod_server.access.acl import (
    ACL_ACCESS_TO,
    ACL_AGENT,
    ACL_AGENT_CLASS,
    ACL_AGENT_GROUP,
    ACL_AUTHORIZATION,
    ACL_CLIENT,
    ACL_CLIENT_CONDITION,
    ACL_CONDITION,
    ACL_DEFAULT,
    ACL_MODE,
    ACL_ORIGIN,
    CONSENT_GRANTED_BY,
    CONSENT_UNTIL,
    MODE_IRIS,
    authorization_nodes,
    canonical_resource,
    client_condition,
    compile_acl,
    normalize_origin,
)
from pod_server.access.evaluate import granted_modes
from pod_server.access.modes import NO_MODES, Mode
from pod_server.consent.rules import Inherited, copy_inherited
from pod_server.consent.vocab import CONSENT
from pod_server.ldp.vocabulary import ACL


class Kind(StrEnum):
    """To whom a rule gives access, as the page's form names it."""

    PERSON = "person"
    GROUP = "group"
    APP = "app"  # an app by its client id, whoever signs in to it
    EVERYONE = "everyone"
    SIGNED_IN = "signed_in"


class Scope(StrEnum):
    ITEM = "item"  # the resource itself
    ITEM_AND_CONTENTS = "item_and_contents"  # a folder and everything below it
    CONTENTS = "contents"  # only what is below a folder (acl:default without acl:accessTo)


# The levels the form offers: each includes the ones before it (Write implies Append).
LEVELS: dict[str, Mode] = {
    "see": Mode.READ,
    "add": Mode.READ | Mode.APPEND,
    "edit": Mode.READ | Mode.WRITE,
    "manage": Mode.READ | Mode.WRITE | Mode.CONTROL,
}
_MODE_WRITTEN = {Mode.READ: ACL.Read, Mode.APPEND: ACL.Append, Mode.WRITE: ACL.Write}
_MODE_WRITTEN[Mode.CONTROL] = ACL.Control
_CLASSES = {Kind.EVERYONE: FOAF.Agent, Kind.SIGNED_IN: ACL.AuthenticatedAgent}
_SUBJECTS = (ACL_AGENT, ACL_AGENT_GROUP, ACL_AGENT_CLASS)
# Modes whose loss on their own storage root locks a person out of their pod.
ESSENTIAL = Mode.READ | Mode.WRITE


@dataclass(frozen=True, slots=True)
class Who:
    kind: Kind
    iri: str | None = None  # the WebID or group; None for everyone / everyone signed in

    def __post_init__(self) -> None:
        if (self.iri is None) != (self.kind in _CLASSES):
            raise ValueError(f"{self.kind} {'needs' if self.iri is None else 'takes no'} IRI")

    def triple(self, node: Node) -> tuple[Node, URIRef, URIRef]:
        """The subject triple of a rule for them (an app's: everyone signed in, with
        ``app_condition`` limiting it to the app)."""
        if self.kind is Kind.APP:
            return (node, ACL_AGENT_CLASS, ACL.AuthenticatedAgent)
        if self.kind is Kind.PERSON:
            return (node, ACL_AGENT, URIRef(str(self.iri)))
        if self.kind is Kind.GROUP:
            return (node, ACL_AGENT_GROUP, URIRef(str(self.iri)))
        return (node, ACL_AGENT_CLASS, _CLASSES[self.kind])


@dataclass(frozen=True, slots=True)
class Entry:
    """One "who may do what" line of the page."""

    who: Who
    modes: Mode
    scope: Scope
    rule: str  # the authorization's IRI (or blank node label)
    origins: tuple[str, ...] = ()  # only through apps at these origins
    clients: tuple[str, ...] = ()  # only through these apps (client ids), for a person
    inherited_from: str | None = None  # the folder whose acl:default rules these are
    copied: bool = False  # a copy of a folder's rule, made when this item got its own ACL
    consent: str | None = None  # the consent record that gave it (consent:grantedBy)
    until: datetime | None = None  # a consent's end

    @property
    def editable(self) -> bool:
        """Whether the page may remove it (consents are withdrawn from the record)."""
        return self.inherited_from is None and self.consent is None


class Refusal(Exception):
    """An edit the page refuses: ``key`` (an ``i18n`` message), its values, a status.
    ``modes`` are mode words (``mode_keys``) to fill the ``{modes}`` of the message."""

    def __init__(
        self,
        key: str,
        status: int = 400,
        values: dict[str, str] | None = None,
        modes: Mode = NO_MODES,
    ) -> None:
        super().__init__(key)
        self.key = key
        self.status = status
        self.values = values or {}
        self.modes = modes


def mode_keys(modes: Mode) -> list[str]:
    """The ``i18n`` keys naming ``modes`` (Append is not named when Write is there)."""
    found = []
    if Mode.READ in modes:
        found.append("mode_read")
    if Mode.APPEND in modes and Mode.WRITE not in modes:
        found.append("mode_append")
    if Mode.WRITE in modes:
        found.append("mode_write")
    if Mode.CONTROL in modes:
        found.append("mode_control")
    return found


def entries(graph: Graph, target_url: str, inherited_from: str | None = None) -> list[Entry]:
    """What ``graph`` gives on ``target_url``: its own ACL's rules (``inherited_from``
    None), else the ``acl:default`` rules of the folder ``inherited_from`` whose ACL it is."""
    target = canonical_resource(target_url)
    folder = canonical_resource(inherited_from) if inherited_from else None
    found: list[Entry] = []
    for node in authorization_nodes(graph):
        access_to = _canonical(graph, node, ACL_ACCESS_TO)
        defaults = {iri for iri in _canonical(graph, node, ACL_DEFAULT) if iri.endswith("/")}
        if folder is not None:
            if folder not in defaults:
                continue
            scope = Scope.ITEM_AND_CONTENTS if target.endswith("/") else Scope.ITEM
        elif target in access_to:
            scope = Scope.ITEM_AND_CONTENTS if target in defaults else Scope.ITEM
        elif target in defaults:
            scope = Scope.CONTENTS
        else:
            continue  # a rule of this ACL for another resource
        clients = client_condition(graph, node)
        base = Entry(
            who=Who(Kind.EVERYONE),
            modes=_modes(graph, node),
            scope=scope,
            rule=str(node) if isinstance(node, URIRef) else node.n3(),
            origins=tuple(sorted(_origins(graph, node))),
            clients=tuple(sorted(clients or ())),
            inherited_from=inherited_from,
            copied=(node, CONSENT.copiedFrom, None) in graph,
            consent=_first(graph, node, CONSENT_GRANTED_BY),
            until=_until(graph, node),
        )
        whos = subjects(graph, node)
        if clients is not None and all(w.kind in _CLASSES for w in whos):
            # Everyone (signed in) through named apps: the apps are who has access.
            whos = [Who(Kind.APP, c) for c in sorted(clients)]
            base = _with(base, base.who, clients=())
        found += [_with(base, who) for who in whos]
    return found


def subjects(graph: Graph, node: Node) -> list[Who]:
    """Whom the rule ``node`` names, in the order the page shows them."""
    found = []
    classes = {o for o in graph.objects(node, ACL_AGENT_CLASS) if isinstance(o, URIRef)}
    for kind, iri in _CLASSES.items():
        if iri in classes:
            found.append(Who(kind))
    for predicate, kind in ((ACL_AGENT, Kind.PERSON), (ACL_AGENT_GROUP, Kind.GROUP)):
        iris = sorted(str(o) for o in graph.objects(node, predicate) if isinstance(o, URIRef))
        found += [Who(kind, iri) for iri in iris]
    return found


def starting_acl(own: Graph | None, inherited: Inherited | None, target_url: str) -> Graph:
    """The ACL an edit starts from: the item's own, else a copy of the inherited rules
    (so the first change keeps everyone's access), else an empty one."""
    if own is not None:
        return _copy(own)
    if inherited is not None:
        return copy_inherited(inherited, target_url)
    return _copy(Graph())


def grant(
    graph: Graph,
    who: Who,
    level: Mode,
    target_url: str,
    acl_url: str,
    origin: str | None = None,
    token: str | None = None,
) -> Graph:
    """``graph`` where ``who`` has exactly ``level`` on the item (and, for a folder, on
    everything inside), through any app or only the one at ``origin``. The access they
    had from the page's rules before is replaced; consents' rules stay as they are."""
    if level == NO_MODES:
        raise Refusal("bad_level")
    result, _ = _without(graph, who, target_url)
    node = URIRef(f"{acl_url}#share-{token or secrets.token_urlsafe(6)}")
    result.add((node, RDF.type, ACL_AUTHORIZATION))
    result.add(who.triple(node))
    result.add((node, ACL_ACCESS_TO, URIRef(target_url)))
    if target_url.endswith("/"):
        result.add((node, ACL_DEFAULT, URIRef(target_url)))
    for mode, iri in _MODE_WRITTEN.items():
        if mode in level:
            result.add((node, ACL_MODE, iri))
    if origin:
        result.add((node, ACL_ORIGIN, URIRef(origin)))
    if who.kind is Kind.APP:
        if Mode.CONTROL in level:
            raise Refusal("app_no_manage")
        condition = BNode()
        result.add((node, ACL_CONDITION, condition))
        result.add((condition, RDF.type, ACL_CLIENT_CONDITION))
        result.add((condition, ACL_CLIENT, URIRef(str(who.iri))))
    return result


def revoke(graph: Graph, who: Who, target_url: str) -> Graph:
    """``graph`` without the access the page's rules give ``who`` on the item; refused
    when there is none to remove, or only a consent's (withdrawn from the record)."""
    result, removed = _without(graph, who, target_url)
    if removed:
        return result
    named = [e for e in entries(graph, target_url) if e.who == who]
    if any(e.consent for e in named):
        raise Refusal("consent_rule", 409)
    raise Refusal("not_found_rule", 404)


Groups = Mapping[str, frozenset[str]]  # group IRI -> its members' WebIDs
NO_GROUPS: Groups = MappingProxyType({})


def modes_of(
    graph: Graph | None,
    target_url: str,
    webid: str,
    default_for: str | None,
    now: float,
    groups: Groups = NO_GROUPS,
) -> Mode:
    """The modes ``graph`` (an ACL) gives the person ``webid`` on ``target_url``, with
    ``groups`` the members of the groups it names (a group not in it has none)."""
    if graph is None:
        return NO_MODES
    acl = compile_acl(graph, "urn:sharing:acl")
    return granted_modes(
        acl,
        target_url,
        default_for=default_for,
        agent_webid=webid,
        authenticated=True,
        origin=None,
        groups=groups,
        now=now,
    )


def groups_named(*graphs: Graph | None) -> frozenset[str]:
    """The groups the rules of these ACLs name (whose members a lock-out check needs)."""
    found: set[str] = set()
    for graph in graphs:
        if graph is not None:
            found |= {str(o) for o in graph.objects(None, ACL_AGENT_GROUP) if isinstance(o, URIRef)}
    return frozenset(found)


def lost_groups(
    before: Before, after: Graph, target_url: str, webid: str, groups: Groups, now: float
) -> list[str]:
    """The groups through which ``webid`` had access before and not after: each group
    with them as a member that the rules before named for the item and after do not."""
    found = []
    for group, members in sorted(groups.items()):
        if webid not in members:
            continue
        only = {group: members}
        had = modes_of(before.graph, target_url, webid, before.default_for, now, only)
        kept = modes_of(after, target_url, webid, None, now, only)
        direct = modes_of(before.graph, target_url, webid, before.default_for, now)
        if had & ~direct & ~kept:
            found.append(group)
    return found


@dataclass(frozen=True, slots=True)
class Before:
    """The ACL in force before an edit: the item's own (``default_for`` None) or a folder's."""

    graph: Graph | None
    default_for: str | None = None


def lock_out(
    before: Before,
    after: Graph,
    target_url: str,
    *,
    is_root: bool,
    owners: Iterable[str],
    viewer: str | None,
    now: float,
    groups: Groups = NO_GROUPS,
) -> None:
    """Refuse an edit that locks someone out. Owners keep Control whatever the ACL says,
    so the lock-out that matters is of the pod itself: on a storage root, an owner or the
    person editing must keep the Read and Write they had. And a person who manages sharing
    without being an owner must not take their own Control away (nobody could give it
    back but an owner). Access through a group counts (``groups``: the members of those
    the ACLs name): removing a group an owner's access came through is refused, naming it."""
    owners = frozenset(owners)
    if is_root:
        people = owners | ({viewer} if viewer else set())
        for person in sorted(people):
            had = modes_of(before.graph, target_url, person, before.default_for, now, groups)
            kept = modes_of(after, target_url, person, None, now, groups)
            lost = had & ESSENTIAL & ~kept
            if lost:
                raise _lock_out("lock_out", before, after, target_url, person, groups, now, lost)
    if viewer and viewer not in owners:
        had = modes_of(before.graph, target_url, viewer, before.default_for, now, groups)
        kept = modes_of(after, target_url, viewer, None, now, groups)
        if Mode.CONTROL in had and Mode.CONTROL not in kept:
            raise _lock_out(
                "lock_out_control", before, after, target_url, viewer, groups, now, NO_MODES
            )


def _lock_out(
    key: str,
    before: Before,
    after: Graph,
    target_url: str,
    person: str,
    groups: Groups,
    now: float,
    lost: Mode,
) -> Refusal:
    """The refusal, saying which group it was when the access came through one."""
    through = lost_groups(before, after, target_url, person, groups, now)
    if not through:
        return Refusal(key, 409, {"url": target_url}, lost)
    values = {"url": target_url, "group": ", ".join(through), "person": person}
    return Refusal(key + "_group", 409, values, lost)


def parse_who(kind: str, iri: str) -> Who:
    """The form's "to whom": a kind and, for a person or a group, an http(s) IRI."""
    try:
        chosen = Kind(kind)
    except ValueError:
        raise Refusal("bad_kind") from None
    if chosen in _CLASSES:
        return Who(chosen)
    iri = iri.strip()
    if not _is_http(iri) or any(c in iri for c in ' <>"{}|\\^`'):
        raise Refusal("bad_client_id" if chosen is Kind.APP else "bad_webid")
    return Who(chosen, iri)


def parse_level(level: str) -> Mode:
    if level not in LEVELS:
        raise Refusal("bad_level")
    return LEVELS[level]


def parse_origin(origin: str) -> str | None:
    """An app's origin (``scheme://host[:port]``), or None when the field was left empty."""
    origin = origin.strip()
    if not origin:
        return None
    value = normalize_origin(origin)
    scheme, _, rest = value.partition("://")
    if scheme not in ("http", "https") or not rest or any(c in rest for c in '/?#@ <>"\\'):
        raise Refusal("bad_origin")
    return value


# -- internals ---------------------------------------------------------------------------


def _without(graph: Graph, who: Who, target_url: str) -> tuple[Graph, int]:
    """``graph`` with ``who`` taken off the page-editable rules that apply to the item; a
    rule left naming nobody goes. Returns how many rules named them."""
    result = _copy(graph)
    count = 0
    for entry in entries(graph, target_url):
        if entry.who != who or not entry.editable:
            continue
        node = _node(graph, entry.rule)
        if node is None:
            continue
        if who.kind is Kind.APP:
            count += _without_app(result, node, str(who.iri))
            continue
        triple = who.triple(node)
        if triple in result:
            result.remove(triple)
            count += 1
        if not any((node, p, None) in result for p in _SUBJECTS):
            _remove_rule(result, node)
    return result, count


def _without_app(graph: Graph, node: Node, client: str) -> int:
    """Take ``client`` off the client conditions of the rule ``node`` (in place); a rule
    left naming no app goes. Returns 1 when the app was named."""
    named = 0
    for condition in list(graph.objects(node, ACL_CONDITION)):
        if (condition, ACL_CLIENT, URIRef(client)) in graph:
            graph.remove((condition, ACL_CLIENT, URIRef(client)))
            named = 1
    if named and not client_condition(graph, node):
        _remove_rule(graph, node)
    return named


def _remove_rule(graph: Graph, node: Node) -> None:
    """Remove a rule and the blank-node conditions it owns."""
    for condition in list(graph.objects(node, ACL_CONDITION)):
        if isinstance(condition, BNode):
            graph.remove((condition, None, None))
    graph.remove((node, None, None))


def _node(graph: Graph, rule: str) -> Node | None:
    for node in authorization_nodes(graph):
        if (str(node) if isinstance(node, URIRef) else node.n3()) == rule:
            return node
    return None


def _with(base: Entry, who: Who, **changes: object) -> Entry:
    return replace(base, who=who, **changes)  # type: ignore[arg-type]


def _canonical(graph: Graph, node: Node, predicate: URIRef) -> set[str]:
    iris = (o for o in graph.objects(node, predicate) if isinstance(o, URIRef))
    return {canonical_resource(str(o)) for o in iris}


def _modes(graph: Graph, node: Node) -> Mode:
    bits = 0
    for iri in graph.objects(node, ACL_MODE):
        bits |= MODE_IRIS[str(iri)].value if str(iri) in MODE_IRIS else 0
    return Mode(bits)


def _origins(graph: Graph, node: Node) -> set[str]:
    return {normalize_origin(str(o)) for o in graph.objects(node, ACL_ORIGIN)}


def _first(graph: Graph, node: Node, predicate: URIRef) -> str | None:
    iris = (str(o) for o in graph.objects(node, predicate) if isinstance(o, URIRef))
    return min(iris, default=None)


def _until(graph: Graph, node: Node) -> datetime | None:
    for value in graph.objects(node, CONSENT_UNTIL):
        if isinstance(value, Literal) and isinstance(value.toPython(), datetime):
            return value.toPython()
    return None


def _is_http(iri: str) -> bool:
    scheme, _, rest = iri.partition("://")
    return scheme in ("http", "https") and bool(rest) and not rest.startswith("/")


def _copy(source: Graph) -> Graph:
    g = Graph(bind_namespaces="none")
    g.bind("acl", str(ACL))
    g.bind("foaf", str(FOAF))
    for prefix, namespace in source.namespaces():
        g.bind(prefix, namespace, override=False)
    g += source
    return g
