"""Offers over HTTP: the owner's agent served at a URL, and the broker's caller of it.

``POST <agent>`` with the offer as JSON answers 200 with the two ciphertexts, 403 with the
reason when the agent declines (the broker does not retry), and any other status for a
failure (the broker retries, then leaves the pod out). Only the two ciphertexts ever leave
the agent, so the endpoint needs no caller authentication to keep the data private; an
agent exposed publicly should still limit how often it answers.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp
from aiohttp import web

from apps.commons.broker import Contribution, Contributor, Declined, Offer

MAX_OFFER = 256 * 1024


async def answer(agent: Contributor, request: web.Request) -> web.Response:
    """Answer one offer with ``agent`` (a host serving many pods' agents calls this)."""
    raw = await request.content.read(MAX_OFFER + 1)
    if len(raw) > MAX_OFFER:
        return web.json_response({"error": "offer too large"}, status=413)
    try:
        body: Any = json.loads(raw)
        offer = Offer(
            str(body["study"]), str(body["turtle"]), str(body["approval"]), str(body["round"])
        )
    except (ValueError, KeyError, TypeError):
        return web.json_response({"error": "malformed offer"}, status=400)
    try:
        made = await agent(offer)
    except Declined as err:
        return web.json_response({"declined": str(err)}, status=403)
    return web.json_response({"broker": made.broker, "authority": made.authority})


def agent_app(agent: Contributor) -> web.Application:
    async def handle(request: web.Request) -> web.Response:
        return await answer(agent, request)

    app = web.Application()
    app.router.add_post("/", handle)
    return app


def http_contributor(session: aiohttp.ClientSession, url: str) -> Contributor:
    async def ask(offer: Offer) -> Contribution:
        body = {
            "study": offer.study_iri,
            "turtle": offer.study_turtle,
            "approval": offer.approval,
            "round": offer.round,
        }
        async with session.post(url, json=body) as response:
            if response.status not in (200, 403):
                raise ConnectionError(f"{url} answered {response.status}")
            data = await response.json(content_type=None)
            if response.status == 403:
                raise Declined(str(data.get("declined", "declined")))
            return Contribution(str(data["broker"]), str(data["authority"]))

    return ask
