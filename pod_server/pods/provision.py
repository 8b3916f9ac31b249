"""Creating and removing pods: a storage at ``BASE/NAME/`` with what Solid apps expect in it.

A new pod holds the owner's WebID profile (public), an inbox (anyone may Append), public
and private type indexes, a private ``settings/`` container, and ACLs giving the owner
full Control. Every resource is written through the resource store, so the usual rules
(atomic writes, containment, ACL validation) apply to provisioning too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rdflib.namespace import FOAF

from pod_server.errors import BadRequest, Conflict
from pod_server.ldp import paths
from pod_server.ldp.layout import Layout
from pod_server.ldp.store import ResourceStore
from pod_server.ldp.vocabulary import ACL, LDP, PIM, SOLID, turtle_prefixes

# Names become the first path segment of a pod: keep them plain, and clear of the
# server's own top-level routes.
_NAME = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
RESERVED_NAMES = frozenset(
    {"idp", "vocab", "static", "admin", "api", "account", "accounts", "well-known", "oidc"}
)

PREFIXES = turtle_prefixes(
    acl=ACL, foaf=FOAF, solid=SOLID, pim=PIM, ldp=LDP, schema="http://schema.org/"
)


class NameTaken(Conflict):
    """A pod of that name exists already (the sign-up page says so in its own words)."""


@dataclass(frozen=True, slots=True)
class PodInfo:
    name: str
    root: str  # URL of the pod's storage root
    webid: str  # the owner's WebID (ours, or hosted elsewhere)


def check_name(name: str) -> str:
    """A pod name, or a 400 saying what a good one looks like."""
    if not _NAME.fullmatch(name) or name in RESERVED_NAMES:
        raise BadRequest(
            f"Pod name {name!r} is not usable: use 1-63 lower-case letters, digits or '-', "
            "not starting or ending with '-', and not a reserved name"
        )
    return name


def default_webid(layout: Layout, name: str) -> str:
    return layout.url(f"/{name}/profile/card") + "#me"


def _owner_rule(webid: str, target: str, default: bool = True) -> str:
    inherit = f" acl:default <{target}>;" if default else ""
    return (
        f"<#owner> a acl:Authorization; acl:agent <{webid}>;\n"
        f"    acl:accessTo <{target}>;{inherit} acl:mode acl:Read, acl:Write, acl:Control.\n"
    )


def _public_rule(target: str, mode: str, default: bool = False) -> str:
    inherit = f" acl:default <{target}>;" if default else ""
    return (
        f"<#public> a acl:Authorization; acl:agentClass foaf:Agent;\n"
        f"    acl:accessTo <{target}>;{inherit} acl:mode {mode}.\n"
    )


def pod_documents(layout: Layout, name: str, webid: str, issuer: str) -> list[tuple[str, str]]:
    """(path, Turtle) of every resource a new pod starts with, containers first."""
    root = f"/{name}/"
    url = layout.url
    own_profile = webid.startswith(url(root))
    docs: list[tuple[str, str]] = [
        (root, f"<> <{SOLID.owner}> <{webid}>."),
        (root + ".acl", PREFIXES + _owner_rule(webid, url(root))),
        (root + "inbox/", ""),
        (
            root + "inbox/.acl",
            PREFIXES
            + _owner_rule(webid, url(root + "inbox/"))
            + _public_rule(url(root + "inbox/"), "acl:Append"),
        ),
        (root + "settings/", ""),
        (root + "settings/.acl", PREFIXES + _owner_rule(webid, url(root + "settings/"))),
        (
            root + "settings/publicTypeIndex.ttl",
            PREFIXES + "<> a solid:TypeIndex, solid:ListedDocument.\n",
        ),
        (
            root + "settings/publicTypeIndex.ttl.acl",
            PREFIXES
            + _owner_rule(webid, url(root + "settings/publicTypeIndex.ttl"), False)
            + _public_rule(url(root + "settings/publicTypeIndex.ttl"), "acl:Read"),
        ),
        (
            root + "settings/privateTypeIndex.ttl",
            PREFIXES + "<> a solid:TypeIndex, solid:UnlistedDocument.\n",
        ),
        (
            root + "settings/prefs.ttl",
            PREFIXES + f"<> a pim:ConfigurationFile.\n<{webid}> "
            f"solid:privateTypeIndex <privateTypeIndex.ttl>; "
            f"solid:publicTypeIndex <publicTypeIndex.ttl>.\n",
        ),
    ]
    if own_profile:
        card = root + "profile/card"
        docs += [
            (root + "profile/", ""),
            (card, _profile(layout, root, webid, issuer, name)),
            (
                card + ".acl",
                PREFIXES
                + _owner_rule(webid, url(card), False)
                + _public_rule(url(card), "acl:Read"),
            ),
        ]
    return docs


def _profile(layout: Layout, root: str, webid: str, issuer: str, name: str) -> str:
    url = layout.url
    return PREFIXES + (
        f"<> a foaf:PersonalProfileDocument; foaf:maker <{webid}>; foaf:primaryTopic <{webid}>.\n"
        f"<{webid}> a foaf:Person, schema:Person;\n"
        f'    foaf:name "{name}";\n'
        f"    solid:oidcIssuer <{issuer}>;\n"
        f"    pim:storage <{url(root)}>;\n"
        f"    solid:storage <{url(root)}>;\n"
        f"    ldp:inbox <{url(root + 'inbox/')}>;\n"
        f"    pim:preferencesFile <{url(root + 'settings/prefs.ttl')}>;\n"
        f"    solid:publicTypeIndex <{url(root + 'settings/publicTypeIndex.ttl')}>;\n"
        f"    solid:privateTypeIndex <{url(root + 'settings/privateTypeIndex.ttl')}>.\n"
    )


async def provision(
    store: ResourceStore, name: str, issuer: str, webid: str | None = None
) -> PodInfo:
    """Create pod ``name`` owned by ``webid`` (default: a new WebID inside the pod)."""
    if not store.multiuser:
        raise Conflict("Pods per user need the multi-user layout (--multiuser on a new storage)")
    check_name(name)
    root = f"/{name}/"
    if await store.meta(root) is not None or await store.meta(paths.twin(root)) is not None:
        raise NameTaken(f"A pod named {name!r} already exists")
    owner = webid or default_webid(store.layout, name)
    for path, turtle in pod_documents(store.layout, name, owner, issuer):
        await store.create_internal(path, turtle.encode())
    return PodInfo(name, store.url(root), owner)


async def deprovision(store: ResourceStore, name: str) -> int:
    """Remove pod ``name`` and everything in it; returns how many resources went."""
    check_name(name)
    return await store.delete_tree(f"/{name}/")
