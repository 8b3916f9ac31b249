"""Compile an ACL document into plain-Python rules, so evaluation never touches rdflib.

Compiling is the only place RDF is read. A :class:`CompiledAcl` holds frozensets of
strings indexed by the resource they apply to, and is immutable, so the server can
cache one per ACL URL + ETag and evaluate it for every request.

Which subjects count (WAC, Authorization Conformance): "An applicable Authorization
has the following properties: At least one rdf:type property whose object is
acl:Authorization. At least one acl:accessTo or acl:default property value. At least
one acl:mode property value. At least one acl:agent, acl:agentGroup, acl:agentClass
or acl:origin property value." The Community Solid Server also only reads subjects
typed acl:Authorization (node-solid-server's acl-check does not check the type); we
follow the spec, and ``validate_acl`` reports untyped would-be rules so an author
learns that they are ignored.

Conditions (WAC, Access Conditions, in the current draft): ``acl:condition [ a
acl:ClientCondition; acl:client <client id> ]`` limits a rule to requests made through
one of the named clients (the ``client_id`` of the access token), for whoever the rule's
subjects are; ``acl:clientClass foaf:Agent`` allows any client. Several conditions must
all hold. Condition types other than ClientCondition are not signalled by this server, so
by the draft's rule ("Conditions whose types are not signalled are not used") they are
ignored.

Where an authorization's IRI lives does not matter: the Inrupt client copies rules
into a new ACL keeping IRIs of the ACL they came from, and those rules are meant to
work. They cannot reach further than any other rule, because a rule only ever
applies to the resource or container the ACL is evaluated for (see ``evaluate``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from urllib.parse import urlsplit, urlunsplit

from rdflib import RDF, BNode, Graph, URIRef
from rdflib.namespace import FOAF
from rdflib.term import Literal, Node

from pod_server.access.modes import BY_VALUE, Mode
from pod_server.errors import BadRequest
from pod_server.ldp import paths
from pod_server.ldp.vocabulary import ACL
from vocab.namespaces import CONSENT

ACL_AUTHORIZATION = ACL.Authorization
ACL_ACCESS_TO = ACL.accessTo
ACL_DEFAULT = ACL.default
ACL_MODE = ACL.mode
ACL_AGENT = ACL.agent
ACL_AGENT_CLASS = ACL.agentClass
ACL_AGENT_GROUP = ACL.agentGroup
ACL_ORIGIN = ACL.origin
ACL_CONDITION = ACL.condition
ACL_CLIENT_CONDITION = ACL.ClientCondition
ACL_CLIENT = ACL.client
ACL_CLIENT_CLASS = ACL.clientClass
# Plain strings: compiled rules hold str IRIs, and a URIRef never equals a str.
# A rule a consent created ends at this xsd:dateTime (vocab/consent; ``consent.rules``).
CONSENT_UNTIL = CONSENT.until
# ... and names the consent record it came from (so the audit log can say what an access
# relied on).
CONSENT_GRANTED_BY = CONSENT.grantedBy
AUTHENTICATED_AGENT = str(ACL.AuthenticatedAgent)
FOAF_AGENT = str(FOAF.Agent)

# acl:Write carries the Append it implies, so evaluation is a plain bitwise OR.
MODE_IRIS: Mapping[str, Mode] = MappingProxyType(
    {
        str(ACL.Read): Mode.READ,
        str(ACL.Write): Mode.WRITE | Mode.APPEND,
        str(ACL.Append): Mode.APPEND,
        str(ACL.Control): Mode.CONTROL,
    }
)


@dataclass(frozen=True, slots=True)
class Rule:
    """One applicable authorization, reduced to sets of strings.

    ``bits`` is ``Mode.value`` (an int: cheaper to OR than ``enum.Flag``).
    ``default`` only holds containers (IRIs ending in ``/``). ``until`` (POSIX seconds):
    from then on the rule grants nothing (a consent's end, ``consent:until``).
    ``granted_by``: the consent record that made the rule (``consent:grantedBy``), if any.
    """

    node: str
    bits: int
    access_to: frozenset[str]
    default: frozenset[str]
    agents: frozenset[str]
    groups: frozenset[str]
    public: bool
    authenticated: bool
    origins: frozenset[str]
    until: float | None = None
    granted_by: str | None = None
    clients: frozenset[str] | None = None  # only through these client ids (None: any)

    @property
    def modes(self) -> Mode:
        return BY_VALUE[self.bits]


@dataclass(frozen=True, slots=True)
class Grants:
    """The rules for one resource (or one container's members), sorted by who they grant.

    Most rules need no per-request check beyond a set lookup, so compiling folds them
    into ints: evaluation is then a few lookups plus a walk over ``conditional``.
    """

    public: int  # acl:agentClass foaf:Agent: everyone, whatever the Origin
    authenticated: int  # acl:agentClass acl:AuthenticatedAgent, no acl:origin
    agents: Mapping[str, int]  # acl:agent WebID -> modes, rules without acl:origin
    conditional: tuple[Rule, ...]  # rules naming groups, origins or clients, or ending


@dataclass(frozen=True, eq=False)
class CompiledAcl:
    """The applicable rules of one ACL document, indexed by what they apply to."""

    url: str
    rules: tuple[Rule, ...]
    by_access_to: Mapping[str, Grants] = field(repr=False)
    by_default: Mapping[str, Grants] = field(repr=False)
    groups: frozenset[str]
    consented: bool = False  # some rule came from a consent record


def compile_acl(graph: Graph, acl_url: str) -> CompiledAcl:
    """Compile the parsed ACL at ``acl_url`` (parse it with ``publicID=acl_url``)."""
    compiled = (_compile_rule(graph, node) for node in authorization_nodes(graph))
    rules = tuple(rule for rule in compiled if _can_grant(rule))
    return CompiledAcl(
        url=acl_url,
        rules=rules,
        by_access_to=_index(rules, lambda rule: rule.access_to),
        by_default=_index(rules, lambda rule: rule.default),
        groups=frozenset().union(*(rule.groups for rule in rules)),
        consented=any(rule.granted_by for rule in rules),
    )


def authorization_nodes(graph: Graph) -> list[Node]:
    """Subjects typed ``acl:Authorization``, in a stable order."""
    return sorted(set(graph.subjects(RDF.type, ACL_AUTHORIZATION)), key=lambda n: n.n3())


def canonical_resource(iri: str) -> str:
    """An http(s) IRI with its path in ``paths.canonical`` form; anything else unchanged.

    So ``<café>`` in an ACL names the same resource as the server's ``caf%C3%A9``.
    """
    parts = urlsplit(iri)
    if parts.scheme not in ("http", "https") or parts.query or parts.fragment:
        return iri
    try:
        path = paths.canonical(parts.path or "/")
    except BadRequest:
        return iri  # a path this server can never serve: it will simply never match
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, "", ""))


def normalize_origin(origin: str) -> str:
    """Origins compare case-insensitively; authors often add a trailing slash."""
    return origin.strip().lower().rstrip("/")


def _compile_rule(graph: Graph, node: Node) -> Rule:
    classes = _iris(graph, node, ACL_AGENT_CLASS)
    bits = 0
    for iri in _iris(graph, node, ACL_MODE):
        # WAC, Access Mode Extensions: consumers "MUST continue processing the access
        # modes as if those properties were not present" for unrecognised modes.
        bits |= MODE_IRIS[iri].value if iri in MODE_IRIS else 0
    return Rule(
        node=node.n3(),
        bits=bits,
        access_to=frozenset(map(canonical_resource, _iris(graph, node, ACL_ACCESS_TO))),
        default=_containers(_iris(graph, node, ACL_DEFAULT)),
        agents=_iris(graph, node, ACL_AGENT),
        groups=_iris(graph, node, ACL_AGENT_GROUP),
        public=FOAF_AGENT in classes,
        authenticated=AUTHENTICATED_AGENT in classes,
        origins=_origins(graph, node),
        until=_until(graph, node),
        granted_by=min(_iris(graph, node, CONSENT_GRANTED_BY), default=None),
        clients=client_condition(graph, node),
    )


def client_condition(graph: Graph, node: Node) -> frozenset[str] | None:
    """The client ids the rule ``node`` is limited to by its ``acl:ClientCondition``s
    (each must hold, so they intersect), or None when it has none or they allow any."""
    allowed: frozenset[str] | None = None
    for condition in graph.objects(node, ACL_CONDITION):
        if (condition, RDF.type, ACL_CLIENT_CONDITION) not in graph:
            continue  # a condition type this server does not signal: not used
        if FOAF_AGENT in _iris(graph, condition, ACL_CLIENT_CLASS):
            continue  # any client
        # Only named clients (acl:clientGroup is not supported: it matches no client).
        clients = _iris(graph, condition, ACL_CLIENT)
        allowed = clients if allowed is None else allowed & clients
    return allowed


def _iris(graph: Graph, node: Node, predicate: URIRef) -> frozenset[str]:
    # Non-IRI objects (literals, blank nodes) name no resource or agent: skipping them
    # can only take access away.
    return frozenset(str(o) for o in graph.objects(node, predicate) if isinstance(o, URIRef))


def _containers(iris: Iterable[str]) -> frozenset[str]:
    # WAC: "The acl:default predicate denotes the container resource whose
    # Authorization can be applied to a resource lower in the collection hierarchy."
    # A document has nothing below it, so acl:default on one (the Inrupt client writes
    # it when copying rules) can never apply; dropping it here makes that structural.
    canonical = (canonical_resource(iri) for iri in iris)
    return frozenset(iri for iri in canonical if iri.endswith("/"))


def _origins(graph: Graph, node: Node) -> frozenset[str]:
    # Unlike the other properties, an acl:origin value only ever *restricts* a rule, so
    # no value is dropped: a literal is read as the origin it spells, and a blank node
    # keeps its "_:" label, which matches no request Origin. Either way the rule stays
    # restricted instead of silently opening up to every origin.
    values = graph.objects(node, ACL_ORIGIN)
    return frozenset(normalize_origin(o.n3() if isinstance(o, BNode) else str(o)) for o in values)


def _until(graph: Graph, node: Node) -> float | None:
    # Like acl:origin, consent:until only ever restricts: the earliest value counts, and a
    # value that is not a date-time with a time zone ends the rule at once (-inf).
    ends = [_instant(value) for value in graph.objects(node, CONSENT_UNTIL)]
    return min(ends) if ends else None


def _instant(value: Node) -> float:
    if not isinstance(value, Literal):
        return float("-inf")
    try:
        at = datetime.fromisoformat(str(value))
    except ValueError:
        return float("-inf")
    return at.timestamp() if at.tzinfo is not None else float("-inf")


def _can_grant(rule: Rule) -> bool:
    has_target = bool(rule.access_to or rule.default)
    has_subject = bool(rule.agents or rule.groups or rule.public or rule.authenticated)
    return bool(rule.bits) and has_target and has_subject


def _index(rules: tuple[Rule, ...], keys: Callable[[Rule], frozenset[str]]) -> Mapping[str, Grants]:
    by_key: dict[str, list[Rule]] = {}
    for rule in rules:
        for key in keys(rule):
            by_key.setdefault(key, []).append(rule)
    return MappingProxyType({key: _grants(found) for key, found in by_key.items()})


def _grants(rules: list[Rule]) -> Grants:
    public = authenticated = 0
    agents: dict[str, int] = {}
    conditional: list[Rule] = []
    for rule in rules:
        if rule.until is not None or rule.granted_by is not None:
            # Its end is checked against the request's time; a consent's rule stays
            # visible on its own so that evaluation can say which consent was used.
            conditional.append(rule)
        elif rule.clients is not None:
            conditional.append(rule)  # the request's client is checked
        elif rule.public:
            public |= rule.bits
        elif rule.origins or rule.groups:
            conditional.append(rule)
        else:
            authenticated |= rule.bits if rule.authenticated else 0
            for agent in rule.agents:
                agents[agent] = agents.get(agent, 0) | rule.bits
    return Grants(public, authenticated, MappingProxyType(agents), tuple(conditional))
