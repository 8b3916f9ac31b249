"""Where webhooks may go: no server-side request forgery."""

from __future__ import annotations

import ipaddress
import socket

import pytest

from pod_server.notify.webhook import GuardedResolver, TargetPolicy

OWN = frozenset({("pod.example", 443), ("127.0.0.1", 3000), ("localhost", 3000)})
STRICT = TargetPolicy(False, OWN)
LOOSE = TargetPolicy(True, OWN)


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.example/in",
        "https://hooks.example:8443/in",
        "https://93.184.216.34/in",
        "https://[2606:2800:220:1:248:1893:25c8:1946]/in",
    ],
)
def test_public_https_targets(url: str) -> None:
    assert STRICT.refusal(url) is None


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("ftp://hooks.example/in", "http(s)"),
        ("file:///etc/passwd", "http(s)"),
        ("gopher://hooks.example/", "http(s)"),
        ("http://hooks.example/in", "https"),
        ("https://u:p@hooks.example/in", "credentials"),
        ("https://pod.example/anything", "this pod server"),
        ("https://pod.example:443/x", "this pod server"),
        ("https://127.0.0.1/x", "loopback"),
        ("https://127.0.0.1:3000/x", "this pod server"),
        ("https://10.0.0.8/x", "private"),
        ("https://192.168.1.1/x", "private"),
        ("https://169.254.169.254/latest", "link-local"),
        ("https://[::1]/x", "loopback"),
        ("https://[fd00::1]/x", "private"),
        ("https://[::ffff:10.0.0.1]/x", "private"),
        ("https://0.0.0.0/x", "unicast"),
        ("https://224.0.0.1/x", "unicast"),
        ("https://localhost/x", "this machine"),
        ("https://api.localhost/x", "this machine"),
        ("https:///x", "no host"),
        ("https://hooks.example:99999/x", "valid URL"),
    ],
)
def test_refused_targets(url: str, why: str) -> None:
    refusal = STRICT.refusal(url)
    assert refusal is not None and why in refusal


def test_development_allows_local_targets_but_never_the_pod_itself() -> None:
    assert LOOSE.refusal("http://127.0.0.1:8080/hook") is None
    assert LOOSE.refusal("http://10.0.0.8/hook") is None
    assert LOOSE.refusal("http://localhost:8080/hook") is None
    for own in ("http://127.0.0.1:3000/x", "http://localhost:3000/x", "http://[::1]:3000/x"):
        assert LOOSE.refusal(own) == "it points at this pod server"
    assert LOOSE.refusal("ftp://127.0.0.1/x") is not None


async def test_resolved_names_are_filtered_too() -> None:
    resolver = GuardedResolver(STRICT)
    try:
        with pytest.raises(OSError, match="may not reach"):
            await resolver.resolve("localhost", 443, socket.AF_INET)
    finally:
        await resolver.close()
    resolver = GuardedResolver(LOOSE)
    try:
        found = await resolver.resolve("localhost", 8080, socket.AF_INET)
        assert all(ipaddress.ip_address(r["host"]).is_loopback for r in found)
        with pytest.raises(OSError):
            await resolver.resolve("localhost", 3000, socket.AF_INET)  # the pod's own port
    finally:
        await resolver.close()
