"""Requesters' names from WebID profiles elsewhere: found, cached, and no name (never an
error) when a profile cannot be fetched, parsed, or names nobody."""

from __future__ import annotations

import asyncio

from pod_server.auth.fetch import Fetched, FetchError
from pod_server.ui import profile_names
from pod_server.ui.profile_names import RemoteNames

BANK = "https://bank.example/profile#org"
SHOP = "https://shop.example/card#me"
SLOW = "https://slow.example/card#me"
PROFILES = {
    "https://bank.example/profile": '<#org> <http://xmlns.com/foaf/0.1/name> "Bank X" .',
    "https://shop.example/card": "this is not turtle <<<",
}


class Fake:
    def __init__(self) -> None:
        self.asked: list[str] = []

    async def get(self, url: str, accept: str) -> Fetched:
        self.asked.append(url)
        if url.startswith("https://slow.example"):
            await asyncio.sleep(60)
        if url not in PROFILES:
            raise FetchError("GET failed: 404")
        return Fetched(url, "text/turtle", PROFILES[url].encode())


async def test_names_are_fetched_once_and_failures_are_no_name(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(profile_names, "WAIT", 0.2)
    fake = Fake()
    names = RemoteNames(fake.get)
    found = await names.names([BANK, SHOP, "https://gone.example/#me", SLOW, "urn:x"])
    assert found == {BANK: "Bank X"}
    assert await names.names([BANK]) == {BANK: "Bank X"}
    assert fake.asked.count("https://bank.example/profile") == 1  # kept for a while
    assert "urn:x" not in "".join(fake.asked)  # only http(s) WebIDs are looked up


async def test_names_are_looked_up_again_after_a_while() -> None:
    now = [0.0]
    fake = Fake()
    names = RemoteNames(fake.get, clock=lambda: now[0])
    await names.names([BANK])
    now[0] += profile_names.TTL + 1
    await names.names([BANK])
    assert fake.asked.count("https://bank.example/profile") == 2
