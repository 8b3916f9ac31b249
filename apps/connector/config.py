"""An organisation's connector settings (a TOML file a data engineer edits) and its
customer list (CSV).

::

    [organisation]
    name = "Banque Exemple"
    webid = "https://pods.example/banque/profile/card#me"
    issuer = "https://pods.example/"
    client_id = "..."
    client_secret_env = "BANK_CLIENT_SECRET"   # or client_secret = "..." (not advised)

    [consent]
    container = "bank/"          # below each customer's storage; Append is asked on it
    purpose = "https://w3id.org/solid-pods/vocab/consent#DataReturn"
    data = ["https://w3id.org/solid-pods/vocab/bank#Transaction"]
    until = "365d"
    note = "Your statements, every month"
    type_index = "private"       # private | public | none: where the container is registered
    types = ["https://w3id.org/solid-pods/vocab/bank#Transaction"]  # default: the domain's

    [push]
    domain = "bank"              # bank | energy: the shapes records are checked against
    # mapping = "telecom-map.toml"   # other domains: documented CSV/JSON via a mapping file
    concurrency = 8              # customers handled at once (one request each at a time)
    max_rate = 20                # writes per second to any one server (default: no limit)
    institution = "https://banque.example/id#org"   # bank:institution; default the WebID

    [categories]                 # label keyword -> bank category (replaces the defaults)
    "LOYER" = "Rent"

The customers file: ``customer_id,webid`` and optionally ``storage`` and ``region`` (the
home's region, which an energy supplier writes with the meter: ``schema:addressRegion``).
"""

from __future__ import annotations

import csv
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from apps.connector.mapfile import MappingError, MappingFile, class_iris, load_mapping
from apps.connector.mapping import BANK, DEFAULT_RULES, ENERGY, check_rules

DOMAINS = ("bank", "energy")
TYPE_INDEXES = ("private", "public", "none")
# What a domain's container holds, as registered in the customer's type index.
DOMAIN_TYPES = {"bank": (str(BANK.Transaction),), "energy": (str(ENERGY.LoadCurve),)}


class ConfigError(ValueError):
    """A settings or customers file that cannot be used; says which and why."""


@dataclass(frozen=True)
class OrgConfig:
    name: str
    webid: str
    issuer: str
    client_id: str
    client_secret: str
    domain: str
    container: str
    purpose: str
    data: tuple[str, ...] = ()
    until: str = "365d"
    note: str | None = None
    concurrency: int = 8
    institution: str | None = None
    categories: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_RULES))
    type_index: str = "private"
    types: tuple[str, ...] = ()  # classes registered for the container (none: the domain's)
    mapping: MappingFile | None = None  # how documented CSV/JSON files become records
    max_rate: float | None = None  # writes per second to one server

    @property
    def registered_types(self) -> tuple[str, ...]:
        if self.types:
            return self.types
        return class_iris(self.mapping) if self.mapping else DOMAIN_TYPES.get(self.domain, ())


@dataclass(frozen=True)
class CustomerRef:
    id: str
    webid: str
    storage: str | None = None  # skips the profile lookup when known
    region: str | None = None  # the home's region (schema:addressRegion), when known


def _need(table: dict[str, Any], key: str, where: str, path: Path) -> Any:
    if key not in table or table[key] in ("", None):
        raise ConfigError(f"{path}: [{where}] needs {key}")
    return table[key]


def load_org(path: Path, env: dict[str, str] | None = None) -> OrgConfig:
    env = dict(os.environ) if env is None else env
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from None
    org, consent, push = doc.get("organisation", {}), doc.get("consent", {}), doc.get("push", {})
    secret = org.get("client_secret")
    if not secret and org.get("client_secret_env"):
        secret = env.get(org["client_secret_env"])
        if not secret:
            raise ConfigError(f"{path}: the variable {org['client_secret_env']} is not set")
    if not secret:
        raise ConfigError(f"{path}: [organisation] needs client_secret_env (or client_secret)")
    mapping = None
    if push.get("mapping"):
        try:
            mapping = load_mapping(path.parent / str(push["mapping"]))
        except MappingError as exc:
            raise ConfigError(str(exc)) from None
    domain = push.get("domain") or (mapping.domain if mapping else None)
    if mapping is not None and domain != mapping.domain:
        raise ConfigError(f"{path}: [push] domain {domain!r} but the mapping's is {mapping.domain}")
    if domain is None:
        raise ConfigError(f"{path}: [push] needs domain (bank, energy) or mapping (a file)")
    if mapping is None and domain not in DOMAINS:
        raise ConfigError(
            f"{path}: [push] domain {domain!r} is not one of {DOMAINS}; "
            "other domains need a mapping file ([push] mapping)"
        )
    container = str(_need(consent, "container", "consent", path))
    if container.startswith("/") or "://" in container or not container.endswith("/"):
        raise ConfigError(f"{path}: [consent] container is a relative path ending in /")
    type_index = str(consent.get("type_index", "private"))
    if type_index not in TYPE_INDEXES:
        raise ConfigError(f"{path}: [consent] type_index must be one of {TYPE_INDEXES}")
    types = consent.get("types", [])
    if not isinstance(types, list) or not all(
        isinstance(t, str) and t.startswith(("http://", "https://")) for t in types
    ):
        raise ConfigError(f"{path}: [consent] types is a list of class IRIs")
    concurrency = int(push.get("concurrency", 8))
    if not 1 <= concurrency <= 256:
        raise ConfigError(f"{path}: [push] concurrency must be 1..256")
    max_rate = push.get("max_rate")
    if max_rate is not None and (
        not isinstance(max_rate, int | float) or isinstance(max_rate, bool) or max_rate <= 0
    ):
        raise ConfigError(f"{path}: [push] max_rate is a positive number (writes per second)")
    try:
        rules = check_rules(doc["categories"]) if "categories" in doc else dict(DEFAULT_RULES)
    except ValueError as exc:
        raise ConfigError(f"{path}: [categories] {exc}") from None
    return OrgConfig(
        name=str(org.get("name", "")),
        webid=_need(org, "webid", "organisation", path),
        issuer=_need(org, "issuer", "organisation", path),
        client_id=_need(org, "client_id", "organisation", path),
        client_secret=secret,
        domain=domain,
        container=container,
        purpose=_need(consent, "purpose", "consent", path),
        data=tuple(consent.get("data", ())),
        until=str(consent.get("until", "365d")),
        note=consent.get("note"),
        concurrency=concurrency,
        institution=push.get("institution"),
        categories=rules,
        type_index=type_index,
        types=tuple(types),
        mapping=mapping,
        max_rate=float(max_rate) if max_rate is not None else None,
    )


MAX_REGION = 100


def load_customers(path: Path) -> list[CustomerRef]:
    """``customer_id,webid[,storage][,region]`` with a header row; ids unique. ``region``
    is the home's region as the organisation knows it (e.g. "Bretagne"): an energy
    supplier writes it with the meter, where statistics by region find it."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    reader = csv.DictReader(text.splitlines())
    if not {"customer_id", "webid"} <= set(reader.fieldnames or []):
        raise ConfigError(f"{path}:1: the header must name customer_id and webid")
    found: list[CustomerRef] = []
    seen: set[str] = set()
    for row in reader:
        line = reader.line_num
        cid, webid = (row.get("customer_id") or "").strip(), (row.get("webid") or "").strip()
        if not cid or not webid.startswith(("http://", "https://")):
            raise ConfigError(f"{path}:{line}: a customer_id and an http(s) WebID are needed")
        if cid in seen or "/" in cid or cid.startswith("."):
            raise ConfigError(f"{path}:{line}: customer_id {cid!r} is repeated or not a name")
        seen.add(cid)
        region = " ".join((row.get("region") or "").split()) or None
        if region is not None and (len(region) > MAX_REGION or not region.isprintable()):
            raise ConfigError(f"{path}:{line}: region {region[:40]!r} is not a region's name")
        storage = (row.get("storage") or "").strip() or None
        found.append(CustomerRef(cid, webid, storage, region))
    return found
