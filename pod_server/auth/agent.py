"""Who is calling: the result of authentication, and the one exception its steps raise."""

from __future__ import annotations

from dataclasses import dataclass

# RFC 6750 §3.1 and RFC 9449 §7.1 error codes for the WWW-Authenticate challenge.
INVALID_TOKEN = "invalid_token"
INVALID_DPOP_PROOF = "invalid_dpop_proof"


@dataclass(frozen=True, slots=True)
class Agent:
    """The caller of one request; ``webid`` is None for an anonymous caller.

    ``reason`` says why presented credentials were not accepted (for logs and the
    WWW-Authenticate error_description). It never contains a token or proof.
    ``error`` is the matching RFC 6750 / RFC 9449 error code.
    """

    webid: str | None = None
    client_id: str | None = None
    issuer: str | None = None
    reason: str | None = None
    error: str | None = None

    @property
    def authenticated(self) -> bool:
        return self.webid is not None


ANONYMOUS = Agent()


class InvalidCredentials(Exception):
    """A verification step refused the credentials; ``reason`` is safe to log and show."""

    def __init__(self, reason: str, error: str = INVALID_TOKEN) -> None:
        super().__init__(reason)
        self.reason = reason
        self.error = error

    def agent(self) -> Agent:
        return Agent(reason=self.reason, error=self.error)
