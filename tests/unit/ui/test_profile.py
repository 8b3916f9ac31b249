"""A WebID profile document read as a card: who, name, photo, links, knows."""

from __future__ import annotations

from rdflib import Graph

from pod_server.ui import profile

DOC = "https://pod.example/alice/profile/card"
ME = DOC + "#me"
PREFIXES = """@prefix foaf: <http://xmlns.com/foaf/0.1/>.
@prefix vcard: <http://www.w3.org/2006/vcard/ns#>.
@prefix solid: <http://www.w3.org/ns/solid/terms#>.
@prefix pim: <http://www.w3.org/ns/pim/space#>.
@prefix ldp: <http://www.w3.org/ns/ldp#>.
"""


def parse(text: str) -> Graph:
    return Graph().parse(data=PREFIXES + text, format="turtle", publicID=DOC)


def test_a_full_profile() -> None:
    graph = parse(
        "<> a foaf:PersonalProfileDocument; foaf:primaryTopic <#me>.\n"
        '<#me> a foaf:Person; vcard:fn "Alice A."; foaf:name "Alice";\n'
        "  vcard:hasPhoto <photo.png>; pim:storage </alice/>; solid:storage </alice/>;\n"
        "  ldp:inbox </alice/inbox/>; foaf:homepage <https://alice.example/>;\n"
        "  vcard:hasEmail [ vcard:value <mailto:alice@example.org> ];\n"
        "  solid:oidcIssuer <https://pod.example/>;\n"
        "  foaf:knows <https://bob.example/#me>, <https://carol.example/#i>.\n"
        '<https://bob.example/#me> foaf:name "Bob".\n'
    )
    card = profile.card(graph, DOC)
    assert card is not None
    assert (card.webid, card.name) == (ME, "Alice")  # foaf:name first
    assert card.photo == "https://pod.example/alice/profile/photo.png"
    assert [(link.key, link.text) for link in card.links] == [
        ("profile_storage", "https://pod.example/alice/"),  # once, though said twice
        ("profile_inbox", "https://pod.example/alice/inbox/"),
        ("profile_homepage", "https://alice.example/"),
        ("profile_email", "alice@example.org"),
        ("profile_issuer", "https://pod.example/"),
    ]
    assert card.links[3].url == "mailto:alice@example.org"
    assert [(k.url, k.text) for k in card.knows] == [
        ("https://bob.example/#me", "Bob"),
        ("https://carol.example/#i", "https://carol.example/#i"),
    ]


def test_a_profile_without_primary_topic_names_its_one_person() -> None:
    graph = parse(
        "<> a foaf:PersonalProfileDocument. <#me> a foaf:Person; foaf:img <https://cdn.example/a.jpg>."
    )
    card = profile.card(graph, DOC)
    assert card is not None and card.webid == ME and card.name is None
    assert card.photo == "https://cdn.example/a.jpg"
    assert not profile.same_origin(card.photo, DOC)
    assert profile.same_origin("https://POD.example/x.png", DOC)
    two = parse("<> a foaf:PersonalProfileDocument. <#a> a foaf:Person. <#b> a foaf:Person.")
    assert profile.card(two, DOC) is None  # whose card would it be?


def test_other_documents_are_not_profiles() -> None:
    assert profile.card(parse('<#me> foaf:name "Alice".'), DOC) is None
    assert profile.card(Graph(), DOC) is None
