"""The Python client for Solid pods: an async SDK (and the ``pod`` command line).

Start with :class:`PodClient`; see ``client/README.md`` for a tutorial.
"""

from client.access import AUTHENTICATED, PUBLIC, EffectiveAcl, Rule, Subject
from client.audit import AuditEntry, Verification, verify_audit
from client.auth import Session
from client.consent import ConsentEvent, ConsentRecord, Target
from client.containers import Entry
from client.core import Resource
from client.discovery import Profile, TypeRegistration
from client.errors import (
    AuthenticationError,
    BadRequest,
    Conflict,
    ConnectionFailed,
    Forbidden,
    IncompleteTransfer,
    InvalidResponse,
    MethodNotAllowed,
    NotFound,
    PodClientError,
    PreconditionFailed,
    ServerError,
    TooLarge,
    Unauthorized,
)
from client.pod import PodClient
from client.profiles import ProfileStore
from client.transport import AiohttpTransport, MockTransport, Request, Response, Transport

__all__ = [
    "AUTHENTICATED",
    "PUBLIC",
    "AiohttpTransport",
    "AuditEntry",
    "AuthenticationError",
    "BadRequest",
    "Conflict",
    "ConnectionFailed",
    "ConsentEvent",
    "ConsentRecord",
    "EffectiveAcl",
    "Entry",
    "Forbidden",
    "IncompleteTransfer",
    "InvalidResponse",
    "MethodNotAllowed",
    "MockTransport",
    "NotFound",
    "PodClient",
    "PodClientError",
    "PreconditionFailed",
    "Profile",
    "ProfileStore",
    "Request",
    "Resource",
    "Response",
    "Rule",
    "ServerError",
    "Session",
    "Subject",
    "Target",
    "TooLarge",
    "Transport",
    "TypeRegistration",
    "Unauthorized",
    "Verification",
    "verify_audit",
]
