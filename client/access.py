"""Web Access Control: read who may do what, grant and revoke, never locking the owner out.

A resource's ACL is its own ``.acl`` (found through ``Link: rel="acl"``) or, when it has
none, the ``acl:default`` rules of its nearest ancestor that has one. Granting on a
resource without its own ACL first copies those inherited rules into a new one (so
nobody loses access, the owner's Control included), then adds the new rule. Revoking
refuses to leave the signed-in person without Control, or the resource with no agent
holding it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from rdflib import RDF, Graph, Namespace, URIRef
from rdflib.term import Node

from client import rdf
from client.containers import Containers
from client.core import normalize_url
from client.errors import Conflict, NotFound, PodClientError

ACL = Namespace("http://www.w3.org/ns/auth/acl#")
FOAF_AGENT = URIRef("http://xmlns.com/foaf/0.1/Agent")
MODES = ("Read", "Append", "Write", "Control")
_ALIASES = {"r": "Read", "a": "Append", "w": "Write", "c": "Control"}


@dataclass(frozen=True, order=True)
class Subject:
    """Who a rule is for: an ``agent`` (WebID), a ``group`` (vcard:Group document URL),
    ``public`` (everyone) or ``authenticated`` (anyone signed in)."""

    kind: str
    iri: str | None = None

    @classmethod
    def agent(cls, webid: str) -> Subject:
        return cls("agent", webid)

    @classmethod
    def group(cls, url: str) -> Subject:
        return cls("group", url)

    @classmethod
    def parse(cls, value: str | Subject) -> Subject:
        """``public``, ``authenticated``, ``group:URL`` or a WebID."""
        if isinstance(value, Subject):
            return value
        low = value.strip().lower()
        if low in ("public", "everyone", "anyone"):
            return PUBLIC
        if low in ("authenticated", "signed-in"):
            return AUTHENTICATED
        if value.startswith("group:"):
            return cls.group(value[6:])
        if urlsplit(value).scheme not in ("http", "https"):
            raise ValueError(f"{value!r} is not a WebID, public, authenticated or group:URL")
        return cls.agent(value)

    def __str__(self) -> str:
        if self.kind == "agent" and self.iri:
            return self.iri
        return self.kind + (f" {self.iri}" if self.iri else "")


PUBLIC = Subject("public")
AUTHENTICATED = Subject("authenticated")


def parse_modes(modes: str | list[str] | tuple[str, ...] | set[str]) -> frozenset[str]:
    """``"read,write"``, ``["Read"]``, ``"rw"``, ``acl:Write`` or full IRIs -> mode names."""
    items = modes.replace(",", " ").split() if isinstance(modes, str) else list(modes)
    found: set[str] = set()
    for item in items:
        name = item.rsplit("#", 1)[-1].split(":")[-1].strip()
        if name.capitalize() in MODES:
            found.add(name.capitalize())
        elif all(c in _ALIASES for c in name.lower()) and name:
            found |= {_ALIASES[c] for c in name.lower()}
        else:
            raise ValueError(f"unknown access mode {item!r} (use read, append, write, control)")
    if not found:
        raise ValueError("no access mode given")
    return frozenset(found)


@dataclass(frozen=True)
class Rule:
    """One ``acl:Authorization`` as read."""

    id: str
    subjects: frozenset[Subject]
    modes: frozenset[str]
    access_to: frozenset[str] = frozenset()
    default: frozenset[str] = frozenset()
    origins: frozenset[str] = frozenset()


@dataclass
class EffectiveAcl:
    """The ACL that governs ``resource``: the document, and the rules that apply."""

    resource: str
    acl_url: str
    inherited: bool
    rules: list[Rule] = field(default_factory=list)

    def who_can(self) -> dict[Subject, frozenset[str]]:
        """Every subject named, with the modes it has (Write implies Append)."""
        result: dict[Subject, set[str]] = {}
        for rule in self.rules:
            for subject in rule.subjects:
                result.setdefault(subject, set()).update(rule.modes)
        for modes in result.values():
            if "Write" in modes:
                modes.add("Append")
        return {s: frozenset(m) for s, m in sorted(result.items())}

    def modes_of(self, webid: str | None) -> frozenset[str]:
        """What ``webid`` (None: anonymous) gets through agent, public or authenticated
        rules (groups are not resolved here)."""
        found: set[str] = set()
        for subject, modes in self.who_can().items():
            if (
                subject == PUBLIC
                or (webid and subject == AUTHENTICATED)
                or (webid and subject == Subject.agent(webid))
            ):
                found |= modes
        return frozenset(found)


# -- the ACL graph ------------------------------------------------------------------------
def _authorizations(graph: Graph) -> list[Node]:
    nodes = set(graph.subjects(RDF.type, ACL.Authorization)) | set(graph.subjects(ACL.mode, None))
    return sorted(nodes, key=str)


def _subjects_of(graph: Graph, node: Node) -> set[Subject]:
    found = {Subject.agent(str(a)) for a in graph.objects(node, ACL.agent)}
    found |= {Subject.group(str(g)) for g in graph.objects(node, ACL.agentGroup)}
    for cls in graph.objects(node, ACL.agentClass):
        if cls == FOAF_AGENT:
            found.add(PUBLIC)
        elif cls == ACL.AuthenticatedAgent:
            found.add(AUTHENTICATED)
    return found


def _rule(graph: Graph, node: Node) -> Rule:
    def strs(pred: URIRef) -> frozenset[str]:
        return frozenset(str(o) for o in graph.objects(node, pred))

    return Rule(
        str(node),
        frozenset(_subjects_of(graph, node)),
        frozenset(str(m).rsplit("#", 1)[-1] for m in graph.objects(node, ACL.mode)),
        strs(ACL.accessTo),
        strs(ACL.default),
        strs(ACL.origin),
    )


def rules_for(graph: Graph, resource: str, inherited_from: str | None = None) -> list[Rule]:
    """The rules of an ACL graph that apply to ``resource``: ``acl:accessTo`` it, or, for
    an ACL inherited from container ``inherited_from``, ``acl:default`` that container."""
    rules = [_rule(graph, node) for node in _authorizations(graph)]
    if inherited_from is None:
        return [r for r in rules if resource in r.access_to]
    return [r for r in rules if inherited_from in r.default]


def _subject_triples(node: URIRef, who: Subject) -> list[tuple[Node, Node, Node]]:
    if who == PUBLIC:
        return [(node, ACL.agentClass, FOAF_AGENT)]
    if who == AUTHENTICATED:
        return [(node, ACL.agentClass, ACL.AuthenticatedAgent)]
    assert who.iri is not None
    pred = ACL.agent if who.kind == "agent" else ACL.agentGroup
    return [(node, pred, URIRef(who.iri))]


def _new_node(graph: Graph, acl_url: str, who: Subject, hint: str) -> URIRef:
    tag = who.kind
    if who.iri is not None:
        tag += "-" + hashlib.sha256(who.iri.encode()).hexdigest()[:8]
    n = 0
    while True:
        node = URIRef(f"{acl_url}#{hint}-{tag}" + (f"-{n}" if n else ""))
        if (node, None, None) not in graph:
            return node
        n += 1


def add_rule(
    graph: Graph,
    acl_url: str,
    who: Subject,
    modes: frozenset[str],
    access_to: frozenset[str],
    default: frozenset[str],
) -> None:
    """Give ``who`` ``modes``: merged into an existing rule for ``who`` alone on exactly
    these targets, or as a new rule."""
    for node in _authorizations(graph):
        rule = _rule(graph, node)
        if (
            rule.subjects == {who}
            and not rule.origins
            and rule.access_to == access_to
            and rule.default == default
        ):
            for mode in modes:
                graph.add((node, ACL.mode, ACL[mode]))
            return
    node = _new_node(graph, acl_url, who, "grant")
    graph.add((node, RDF.type, ACL.Authorization))
    graph += _subject_triples(node, who)
    for target in sorted(access_to):
        graph.add((node, ACL.accessTo, URIRef(target)))
    for target in sorted(default):
        graph.add((node, ACL.default, URIRef(target)))
    for mode in sorted(modes):
        graph.add((node, ACL.mode, ACL[mode]))


def remove_rule(
    graph: Graph, acl_url: str, resource: str, who: Subject, modes: frozenset[str] | None
) -> int:
    """Take ``modes`` (all when None) from ``who`` in every rule about ``resource``;
    a rule shared with others is split so they keep what they had. Returns rules changed."""
    changed = 0
    for node in _authorizations(graph):
        rule = _rule(graph, node)
        if who not in rule.subjects or not ({resource} & (rule.access_to | rule.default)):
            continue
        taken = rule.modes if modes is None else rule.modes & modes
        if not taken:
            continue
        changed += 1
        keep = rule.modes - taken
        if rule.subjects == {who}:
            for mode in taken:
                graph.remove((node, ACL.mode, ACL[mode]))
            if not keep:
                graph.remove((node, None, None))
            continue
        for triple in _subject_triples(URIRef(str(node)), who):
            graph.remove(triple)
        if keep:
            add_rule(graph, acl_url, who, keep, rule.access_to, rule.default)
    return changed


def _controllers(graph: Graph, resource: str) -> set[Subject]:
    return {s for r in rules_for(graph, resource) if "Control" in r.modes for s in r.subjects}


class Access(Containers):
    async def acl_url(self, url: str) -> str:
        """The URL of ``url``'s ACL (``Link: rel="acl"``), whether it exists or not."""
        res = await self.head(url)
        if not res.acl_url:
            raise PodClientError("the server names no ACL for this resource", url=res.url)
        return res.acl_url

    async def _read_acl(self, acl_url: str) -> tuple[Graph, str | None] | None:
        try:
            res = await self.get(acl_url, accept="text/turtle")
        except NotFound:
            return None
        return rdf.parse(res.body, res.content_type or "text/turtle", acl_url), res.etag

    async def effective_acl(self, url: str) -> EffectiveAcl:
        """The rules that govern ``url``: its own ACL's, or the nearest ancestor's
        ``acl:default`` rules. Reading an ACL needs Control (else :class:`Forbidden`)."""
        resource = normalize_url(url)
        current = resource
        inherited = False
        while True:
            acl = await self.acl_url(current)
            found = await self._read_acl(acl)
            if found is not None:
                graph, _ = found
                rules = rules_for(graph, resource, current if inherited else None)
                return EffectiveAcl(resource, acl, inherited, rules)
            parent = _parent(current)
            if parent is None:
                raise NotFound("no ACL applies to this resource", url=resource)
            current, inherited = parent, True

    async def who_can(self, url: str) -> dict[Subject, frozenset[str]]:
        """Who may do what on ``url``, from its effective ACL."""
        return (await self.effective_acl(url)).who_can()

    async def _own_acl(self, resource: str) -> tuple[str, Graph, str | None, bool]:
        """(acl url, graph, etag, existed): the resource's own ACL, or a new one holding
        copies of the rules it inherits."""
        acl = await self.acl_url(resource)
        found = await self._read_acl(acl)
        if found is not None:
            return acl, found[0], found[1], True
        inherited = await self.effective_acl(resource)
        graph = Graph()
        targets = frozenset({resource})
        defaults = targets if resource.endswith("/") else frozenset()
        for rule in inherited.rules:
            for who in sorted(rule.subjects):
                add_rule(graph, acl, who, rule.modes, targets, defaults)
        return acl, graph, None, False

    async def _save_acl(
        self, acl: str, graph: Graph, etag: str | None, existed: bool, resource: str
    ) -> None:
        controllers = _controllers(graph, resource)
        if not any(s.kind == "agent" for s in controllers) and not controllers & {
            PUBLIC,
            AUTHENTICATED,
        }:
            raise Conflict(
                "refusing to write an ACL that leaves nobody with Control",
                url=acl,
                hint="Grant Control to someone (an agent) first.",
            )
        me = self.webid
        if me and not ({Subject.agent(me), PUBLIC, AUTHENTICATED} & controllers):
            raise Conflict(
                f"refusing to take Control away from you ({me}): you could not change "
                "this ACL again",
                url=acl,
            )
        graph.bind("acl", ACL)
        graph.bind("foaf", "http://xmlns.com/foaf/0.1/")
        body = rdf.serialize(graph, "text/turtle", base=acl)
        if existed:
            await self.put(acl, body, "text/turtle", if_match=etag)
        else:
            await self.put(acl, body, "text/turtle", create_only=True)

    async def grant(
        self,
        url: str,
        who: str | Subject,
        modes: str | list[str] | tuple[str, ...] | set[str],
        *,
        inherit: bool = True,
    ) -> None:
        """Give ``who`` (a WebID, ``public``, ``authenticated``, ``group:URL`` or a
        :class:`Subject`) ``modes`` on ``url``; with ``inherit`` (containers) also on
        everything inside that has no ACL of its own."""
        resource = normalize_url(url)
        subject, wanted = Subject.parse(who), parse_modes(modes)
        acl, graph, etag, existed = await self._own_acl(resource)
        targets = frozenset({resource})
        defaults = targets if inherit and resource.endswith("/") else frozenset()
        add_rule(graph, acl, subject, wanted, targets, defaults)
        await self._save_acl(acl, graph, etag, existed, resource)

    async def revoke(
        self,
        url: str,
        who: str | Subject,
        modes: str | list[str] | tuple[str, ...] | set[str] | None = None,
    ) -> int:
        """Take ``modes`` (default: all) on ``url`` away from ``who``; returns how many
        rules changed (0: ``who`` had none of them here)."""
        resource = normalize_url(url)
        subject = Subject.parse(who)
        wanted = parse_modes(modes) if modes is not None else None
        acl, graph, etag, existed = await self._own_acl(resource)
        changed = remove_rule(graph, acl, resource, subject, wanted)
        if changed:
            await self._save_acl(acl, graph, etag, existed, resource)
        return changed


def _parent(url: str) -> str | None:
    parts = urlsplit(url)
    path = parts.path
    if path in ("", "/"):
        return None
    trimmed = path.rstrip("/")
    parent = trimmed[: trimmed.rfind("/") + 1] or "/"
    return f"{parts.scheme}://{parts.netloc}{parent}"


__all__ = [
    "AUTHENTICATED",
    "PUBLIC",
    "Access",
    "EffectiveAcl",
    "Rule",
    "Subject",
    "add_rule",
    "parse_modes",
    "remove_rule",
    "rules_for",
]
