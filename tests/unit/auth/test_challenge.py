"""The WWW-Authenticate challenge (RFC 9449 §7.1, RFC 6750 §3)."""

from __future__ import annotations

from pod_server.auth import ANONYMOUS, Agent, AuthConfig, www_authenticate
from pod_server.auth.agent import INVALID_DPOP_PROOF


def test_plain_challenge_lists_the_algorithms() -> None:
    assert www_authenticate(AuthConfig()) == 'DPoP algs="ES256 ES384 RS256 PS256 EdDSA"'
    assert www_authenticate(AuthConfig(), ANONYMOUS) == www_authenticate(AuthConfig())


def test_challenge_carries_the_error() -> None:
    agent = Agent(reason="access token has expired", error="invalid_token")
    assert www_authenticate(AuthConfig(dpop_algs=("ES256",)), agent) == (
        'DPoP error="invalid_token", error_description="access token has expired", algs="ES256"'
    )


def test_proof_errors_use_invalid_dpop_proof() -> None:
    agent = Agent(reason="DPoP proof is too old", error=INVALID_DPOP_PROOF)
    assert 'error="invalid_dpop_proof"' in www_authenticate(AuthConfig(), agent)


def test_description_cannot_break_out_of_its_quotes() -> None:
    agent = Agent(reason='bad "quote" \\ back\r\nInjected: yes é' + "x" * 500)
    header = www_authenticate(AuthConfig(), agent)
    description = header.split('error_description="', 1)[1].split('"', 1)[0]
    assert "\\" not in description
    assert "\r" not in header
    assert "\n" not in header
    assert len(description) == 200
    assert header.endswith('algs="ES256 ES384 RS256 PS256 EdDSA"')
    assert 'error="invalid_token"' in header  # the default error code


def test_bearer_challenge_when_allowed() -> None:
    assert www_authenticate(AuthConfig(allow_bearer=True)).endswith(", Bearer")
