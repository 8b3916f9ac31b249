"""Consent records and audit entries in plain words, for the owner's pages; pure.

A request becomes a ``RequestView`` ("Bank X asks to add to bank/ until 30 June 2026, for
returning your data"), an audit entry one sentence ("Bank X added 2026-01.ttl to bank/ —
allowed"). Names of agents come from the caller (``names``: WebID -> display name), labels
of purposes and data categories from our vocabularies (``labels``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from urllib.parse import unquote

from rdflib import Literal, URIRef
from rdflib.namespace import SKOS

import vocab.catalog as catalog
from pod_server.access.modes import Mode
from pod_server.audit.entry import Action, AuditEntry
from pod_server.consent.model import MODE_NAMES, ConsentRecord, Status, Target
from pod_server.ui import labels
from pod_server.ui.i18n import Translate

# The order modes are spoken in: the least first.
SPOKEN = (Mode.READ, Mode.APPEND, Mode.WRITE, Mode.CONTROL)
_EN_MONTHS = "January February March April May June July August September October November December"
_FR_MONTHS = "janvier février mars avril mai juin juillet août septembre octobre novembre décembre"
MONTHS = {"en": _EN_MONTHS.split(" "), "fr": _FR_MONTHS.split(" ")}
_AND = {"en": " and ", "fr": " et "}


def relative(url: str, root_url: str, t: Translate) -> str:
    """A URL of the pod as the person knows it: ``bank/2026-01.ttl``; the root: "your whole pod"."""
    if url == root_url:
        return t("whole_pod")
    if url.startswith(root_url):
        return unquote(url[len(root_url) :])
    return url


def spoken_list(items: list[str], lang: str) -> str:
    """``a``, ``a and b``, ``a, b and c`` in the page's language."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + _AND.get(lang, " and ") + items[-1]


def modes_text(modes: Mode, t: Translate, lang: str) -> str:
    return spoken_list([t(f"mode_{MODE_NAMES[m]}") for m in SPOKEN if m in modes], lang)


def target_text(target: Target, root_url: str, t: Translate, lang: str) -> str:
    """One target in plain words: "add to bank/"."""
    return t(
        "on_target",
        modes=modes_text(target.modes, t, lang),
        target=relative(target.url, root_url, t),
    )


def long_date(moment: datetime | None, lang: str) -> str:
    """``30 June 2026`` (UTC); empty for no date."""
    if moment is None:
        return ""
    day = moment.astimezone(UTC)
    return f"{day.day} {MONTHS.get(lang, MONTHS['en'])[day.month - 1]} {day.year}"


def moment_text(at: float) -> str:
    """A log time to the minute, UTC: ``2026-01-31 12:05 UTC``."""
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M UTC")


@cache
def concept_labels(base: str) -> dict[str, dict[str, str]]:
    """Every ``skos:prefLabel`` of our vocabularies (purposes and data categories are
    SKOS concepts), by language."""
    found: dict[str, dict[str, str]] = {}
    for domain in catalog.domains():
        graph = catalog.ontology(domain, base)
        for term, text in graph.subject_objects(SKOS.prefLabel):
            if isinstance(term, URIRef) and isinstance(text, Literal):
                found.setdefault(str(term), {}).setdefault(text.language or "en", str(text))
    return found


def term_label(iri: str, lang: str, vocab_base: str) -> str:
    """A purpose or data category for people: its label in ``lang``, else its local name."""
    names = concept_labels(vocab_base).get(iri)
    if names:
        return names.get(lang) or names.get("en") or next(iter(names.values()))
    return labels.label(iri, lang, vocab_base) or labels.local_name(iri)


def who(webid: str | None, names: Mapping[str, str], t: Translate) -> str:
    if webid is None:
        return t("anonymous")
    return names.get(webid) or webid


@dataclass(frozen=True, slots=True)
class Choice:
    """One checkbox of an approval: a mode on a target (``value`` is what the form sends)."""

    value: str
    label: str


@dataclass(frozen=True, slots=True)
class RequestView:
    id: str
    url: str
    recipient: str
    who: str  # the requester's name, or their WebID
    status: Status
    status_text: str
    purposes: list[str]
    data: list[str]
    targets: list[str]  # what was asked, in words
    granted: list[str]  # what was given, in words
    choices: list[Choice] = field(default_factory=list)
    until_text: str = ""  # "until 30 June 2026" / "with no end date"
    until_max: str = ""  # the latest end the person may choose (YYYY-MM-DD), if any
    asked_text: str = ""
    decided_text: str = ""
    client: str | None = None
    note: str | None = None


def request_view(
    record: ConsentRecord,
    root_url: str,
    t: Translate,
    lang: str,
    vocab_base: str,
    names: Mapping[str, str],
) -> RequestView:
    """What the requests page says about one record."""
    asked = record.requested_until if record.requested_until is not None else record.until
    end = record.until if record.status is not Status.REQUESTED else asked
    choices = [
        Choice(
            f"{MODE_NAMES[m]} {target.url}", target_text(Target(target.url, m), root_url, t, lang)
        )
        for target in record.requested
        for m in SPOKEN
        if m in target.modes
    ]
    decided = record.events[-1] if len(record.events) > 1 else None
    return RequestView(
        id=record.id,
        url=record.url,
        recipient=record.recipient,
        who=who(record.recipient, names, t),
        status=record.status,
        status_text=t(f"status_{record.status.value}"),
        purposes=[term_label(p, lang, vocab_base) for p in record.purposes],
        data=[term_label(d, lang, vocab_base) for d in record.data],
        targets=[target_text(x, root_url, t, lang) for x in record.requested],
        granted=[target_text(x, root_url, t, lang) for x in record.granted],
        choices=choices,
        until_text=t("until_date", date=long_date(end, lang)) if end else t("no_end"),
        until_max=asked.astimezone(UTC).date().isoformat() if asked else "",
        asked_text=t("requested_on", date=long_date(record.events[0].at, lang)),
        decided_text=long_date(decided.at, lang) if decided else "",
        client=record.client,
        note=record.note,
    )


def allowed(outcome: int) -> bool:
    return outcome < 400


def activity_line(entry: AuditEntry, root_url: str, t: Translate, names: Mapping[str, str]) -> str:
    """One audit entry as a sentence, with its outcome: "Bank X added a.ttl to bank/ — allowed"."""
    ok = allowed(entry.outcome)
    key = f"act_{entry.action.value}" + ("" if ok else "_no")
    what = relative(entry.resource, root_url, t)
    where = what
    name = what
    # A refused POST names the folder it tried to add to; a made resource names itself.
    posted_to = not ok and entry.resource.endswith("/")
    if entry.action is Action.CREATE and entry.resource.startswith(root_url) and not posted_to:
        parent, _, last = entry.resource.rstrip("/").rpartition("/")
        where = relative(parent + "/", root_url, t)
        name = unquote(last) + ("/" if entry.resource.endswith("/") else "")
    sentence = t(key, who=who(entry.agent, names, t), what=what, where=where, name=name)
    if entry.client and entry.client.startswith(("https://", "http://")):  # an app (a
        # Client ID Document); client credentials are the agent's own script, not named
        sentence += " (" + t("with_app", client=entry.client) + ")"
    return sentence + " — " + t("outcome_allowed" if ok else "outcome_refused")
