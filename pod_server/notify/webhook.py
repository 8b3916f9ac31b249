"""Webhook delivery: where a pod may POST (no server-side request forgery), and how.

Targets must be ``https`` URLs of public hosts. Refused, at subscription time and again at
every delivery (a name may come to resolve elsewhere): other schemes, credentials in the
URL, the pod server's own host and port, and addresses that are loopback, private,
link-local, multicast, unspecified or otherwise not global. ``webhook_private_targets``
(tests, local development) allows plain ``http`` and non-global addresses, but never the
pod server's own port. Redirects are not followed and no proxy settings are used.
"""

from __future__ import annotations

import enum
import ipaddress
import logging
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver

from pod_server.ldp.media_types import JSON_LD
from pod_server.notify.signing import Signer

log = logging.getLogger("pod_server.notify")
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True, slots=True)
class TargetPolicy:
    allow_private: bool
    own: frozenset[tuple[str, int]]  # (host, port) the pod answers on: public URL, bind address

    @property
    def own_ports(self) -> frozenset[int]:
        return frozenset(port for _, port in self.own)

    def refusal(self, url: str) -> str | None:
        """Why ``url`` may not be a webhook target, or None if it may."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            return "it is not a valid URL"
        scheme = parts.scheme.lower()
        if scheme not in _DEFAULT_PORTS:
            return "it is not an http(s) URL"
        if scheme == "http" and not self.allow_private:
            return "it must use https"
        if parts.username is not None or parts.password is not None:
            return "it must not carry credentials"
        host = (parts.hostname or "").lower().rstrip(".")
        if not host:
            return "it has no host"
        port = port or _DEFAULT_PORTS[scheme]
        if (host, port) in self.own:
            return "it points at this pod server"
        address = _ip(host)
        if address is not None:
            return self.address_refusal(address, port)
        if not self.allow_private and (host == "localhost" or host.endswith(".localhost")):
            return "it points at this machine"
        return None

    def address_refusal(
        self, address: ipaddress.IPv4Address | ipaddress.IPv6Address, port: int
    ) -> str | None:
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if address.is_unspecified or address.is_multicast:
            return "it is not a unicast address"
        if not self.allow_private and not address.is_global:
            return "it is a loopback, private or link-local address"
        if (port in self.own_ports and not address.is_global) or (str(address), port) in self.own:
            return "it points at this pod server"
        return None


def _ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


class GuardedResolver(AbstractResolver):
    """Resolves names as usual, then keeps only the addresses webhooks may reach."""

    def __init__(self, policy: TargetPolicy) -> None:
        self._policy = policy
        self._inner = ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await self._inner.resolve(host, port, family)
        allowed = [
            r
            for r in found
            if self._policy.address_refusal(ipaddress.ip_address(r["host"]), port) is None
        ]
        if not allowed:
            raise OSError(f"{host} resolves only to addresses webhooks may not reach")
        return allowed

    async def close(self) -> None:
        await self._inner.close()


class Outcome(enum.Enum):
    OK = "delivered"
    RETRY = "failed, worth retrying"
    REFUSED = "refused by the receiver or by policy"
    GONE = "the receiver said 410 Gone"


class WebhookClient:
    """Signed POSTs to webhook targets, through the guarded resolver."""

    def __init__(self, policy: TargetPolicy, signer: Signer, timeout: float) -> None:
        self.policy = policy
        self._signer = signer
        self._timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(resolver=GuardedResolver(self.policy), limit=256)
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=aiohttp.ClientTimeout(total=self._timeout),
                trust_env=False,
                headers={"User-Agent": "solid-pods-notifications"},
            )
        return self._session

    async def post(self, url: str, body: bytes) -> tuple[Outcome, str]:
        refusal = self.policy.refusal(url)
        if refusal is not None:
            return Outcome.REFUSED, f"target refused: {refusal}"
        headers: dict[str, Any] = {"Content-Type": JSON_LD}
        headers.update(self._signer.sign("POST", url, body, JSON_LD))
        try:
            async with self._client().post(
                url, data=body, headers=headers, allow_redirects=False
            ) as response:
                status = response.status
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            return Outcome.RETRY, f"{type(exc).__name__}: {exc}"
        if 200 <= status < 300:
            return Outcome.OK, str(status)
        if status == 410:
            return Outcome.GONE, "410"
        if status in (408, 425, 429) or status >= 500:
            return Outcome.RETRY, str(status)
        return Outcome.REFUSED, str(status)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
