"""Solid-OIDC: the issuer's discovery, the tokens it mints, and the pod's refusal of anything
but a valid DPoP-bound token with a fresh, matching proof (a refused caller is anonymous)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from multidict import CIMultiDict

from conformance.areas.wac import private_document
from conformance.auth import Login, LoginError, b64url, decode_unverified, mint_proof, new_key
from conformance.context import Context
from conformance.http import Reply, send
from conformance.rdf import SOLID, URIRef, graph_of
from conformance.registry import (
    OIDC,
    RFC9449,
    check,
    check_each,
    expect,
    expect_status,
    fail,
    skip,
)

S_OIDC = OIDC + "#"
ALICE = ("alice",)
DRAFT_43 = "https://datatracker.ietf.org/doc/html/draft-ietf-oauth-dpop-04#section-4.3"
Q_DPOP = (
    "A DPoP Proof that is valid according to DPoP Internet-Draft, Section 4.3, MUST be present"
    " when a DPoP-bound OIDC ID Token is used."
)
Q_CHECKING = "To validate a DPoP proof, the receiving server MUST ensure the following:"


def login(ctx: Context) -> Login:
    assert ctx.alice is not None and ctx.alice.login is not None
    return ctx.alice.login


# --- The issuer ---------------------------------------------------------------------------------


async def issuer_config(ctx: Context) -> dict[str, object]:
    return await login(ctx).discover(ctx.http)


@check(
    "oidc.issuer.discovery",
    S_OIDC + "id-token-validation",
    "Unless the verifying party acquires OP keys through some other means, or it chooses to"
    " reject tokens issued by this OP, the verifying party MUST follow OpenID Connect Discovery"
    " 1.0 [OIDC-DISCOVERY] to find an OP's signing keys (JWK).",
    needs=ALICE,
)
async def discovery(ctx: Context) -> None:
    config = await issuer_config(ctx)
    for key in ("issuer", "jwks_uri", "token_endpoint"):
        expect(config.get(key), f"the discovery document has no {key}")


@check(
    "oidc.issuer.identifier-matches",
    "https://openid.net/specs/openid-connect-discovery-1_0.html#ProviderConfigurationValidation",
    "The issuer value returned MUST be identical to the Issuer URL that was used as the prefix"
    " to /.well-known/openid-configuration to retrieve the configuration information.",
    needs=ALICE,
)
async def issuer_matches(ctx: Context) -> None:
    issuer = str((await issuer_config(ctx)).get("issuer", ""))
    wanted = login(ctx).credentials.issuer
    expect(issuer.rstrip("/") == wanted.rstrip("/"), f"issuer {issuer!r}, asked {wanted!r}")


@check(
    "oidc.issuer.webid-scope",
    S_OIDC + "discovery",
    "An OpenID Provider that conforms to the Solid-OIDC specification MUST advertise it in the"
    " OpenID Connect Discovery 1.0 [OIDC-DISCOVERY] resource by including webid in its"
    " scopes_supported metadata property.",
    needs=ALICE,
)
async def webid_scope(ctx: Context) -> None:
    scopes = (await issuer_config(ctx)).get("scopes_supported") or []
    expect("webid" in scopes, f"scopes_supported: {scopes}")  # type: ignore[operator]


@check(
    "oidc.issuer.client-credentials-grant",
    S_OIDC + "client-credentials-discovery",
    "an OpenID Provider that supports the Client Credentials Grant MUST advertise that support"
    " in the OpenID Connect Discovery 1.0 [OIDC.Discovery] resource by including"
    " client_credentials in its grant_types_supported metadata property.",
    needs=ALICE,
)
async def cc_grant(ctx: Context) -> None:
    grants = (await issuer_config(ctx)).get("grant_types_supported") or []
    expect("client_credentials" in grants, f"grant_types_supported: {grants}")  # type: ignore[operator]


@check(
    "oidc.issuer.jwks",
    S_OIDC + "id-token-validation",
    "the verifying party MUST follow OpenID Connect Discovery 1.0 [OIDC-DISCOVERY] to find an"
    " OP's signing keys (JWK).",
    needs=ALICE,
)
async def jwks(ctx: Context) -> None:
    uri = str((await issuer_config(ctx)).get("jwks_uri"))
    reply = expect_status(await send(ctx.http, "GET", uri), 200)
    keys = json.loads(reply.body).get("keys", [])
    expect(keys, "the JWKS holds no keys")
    expect(all("d" not in k for k in keys), "the JWKS publishes private key material")


@check(
    "oidc.issuer.dpop-algorithms",
    RFC9449 + "#section-5.1",
    "dpop_signing_alg_values_supported: A JSON array containing a list of the JWS alg values"
    " (from the [IANA.JOSE.ALGS] registry) supported by the authorization server for DPoP"
    " proof JWTs.",
    needs=ALICE,
)
async def dpop_algs(ctx: Context) -> None:
    algs = (await issuer_config(ctx)).get("dpop_signing_alg_values_supported")
    if algs is None:
        skip("the issuer does not list dpop_signing_alg_values_supported (OPTIONAL)")
    expect("ES256" in algs, f"dpop_signing_alg_values_supported: {algs}")  # type: ignore[operator]


@check(
    "oidc.issuer.wrong-secret-refused",
    S_OIDC + "client-credentials-token-instantiation",
    "During Token Instantiation, if the Client Credentials Grant is used, the OP MUST validate"
    " the client's authentication credentials.",
    needs=ALICE,
)
async def wrong_secret(ctx: Context) -> None:
    real = login(ctx).credentials
    forged = Login(
        type(real)(real.client_id, real.client_secret + "-wrong", real.issuer, real.webid)
    )
    try:
        await forged.log_in(ctx.http)
    except LoginError:
        return  # refused, as it must be
    fail("the issuer handed out a token for a wrong client secret")


@check(
    "oidc.issuer.token-type-dpop",
    RFC9449 + "#section-5",
    "A token_type of DPoP MUST be included in the access token response to signal to the"
    " client that the access token was bound to its DPoP key and can be used as described in"
    " Section 7.1.",
    needs=ALICE,
)
async def token_type(ctx: Context) -> None:
    kind = str(login(ctx).token_response.get("token_type", ""))
    expect(kind.lower() == "dpop", f"token_type {kind!r}")


def token_claims(ctx: Context) -> dict[str, object]:
    token = login(ctx).token
    try:
        return decode_unverified(token)
    except Exception:
        skip("the access token is opaque (not a JWT): its claims cannot be inspected")


@check(
    "oidc.token.webid-claim",
    S_OIDC + "tokens-id",
    "webid — The WebID claim MUST be the user's WebID.",
    needs=ALICE,
)
async def webid_claim(ctx: Context) -> None:
    claims = token_claims(ctx)
    expect(claims.get("webid") == login(ctx).webid, f"webid claim {claims.get('webid')!r}")


@check(
    "oidc.token.cnf-jkt",
    S_OIDC + "tokens-id",
    "cnf — The confirmation claim is used to identify the DPoP Public Key bound to the OIDC ID"
    " Token.",
    needs=ALICE,
)
async def cnf(ctx: Context) -> None:
    claims = token_claims(ctx)
    thumb = login(ctx).key.thumbprint()
    expect((claims.get("cnf") or {}).get("jkt") == thumb, f"cnf {claims.get('cnf')} vs {thumb}")  # type: ignore[union-attr]


@check(
    "oidc.token.audience-solid",
    S_OIDC + "tokens-id",
    "aud — The audience claim MUST be an array of values. The values MUST include the"
    " authorized party claim azp and the string solid.",
    needs=ALICE,
)
async def audience(ctx: Context) -> None:
    aud = token_claims(ctx).get("aud")
    values = aud if isinstance(aud, list) else [aud]
    expect("solid" in values, f"aud {aud!r} lacks solid")


@check(
    "oidc.token.issuer-claim",
    S_OIDC + "tokens-id",
    "iss — The issuer claim MUST be a valid URL of the OP instantiating this token.",
    needs=ALICE,
)
async def issuer_claim(ctx: Context) -> None:
    iss = str(token_claims(ctx).get("iss", ""))
    expect(iss.rstrip("/") == login(ctx).credentials.issuer.rstrip("/"), f"iss {iss!r}")


@check(
    "oidc.token.expires",
    S_OIDC + "tokens-id",
    "exp — The expiration claim is the time at which the DPoP-bound OIDC ID Token becomes invalid.",
    needs=ALICE,
)
async def expires(ctx: Context) -> None:
    exp = token_claims(ctx).get("exp")
    expect(isinstance(exp, int) and exp > time.time(), f"exp {exp!r}")


@check(
    "oidc.webid.lists-issuer",
    S_OIDC + "oidc-issuer-discovery",
    "The WebID Profile Document MUST include one or more statements matching the OIDC issuer"
    " pattern.",
    needs=ALICE,
)
async def profile_issuer(ctx: Context) -> None:
    webid = login(ctx).webid
    reply = expect_status(
        await send(ctx.http, "GET", webid, headers={"Accept": "text/turtle"}), 200
    )
    issuers = {str(i).rstrip("/") for i in graph_of(reply).objects(URIRef(webid), SOLID.oidcIssuer)}
    wanted = login(ctx).credentials.issuer.rstrip("/")
    expect(wanted in issuers, f"the profile lists issuers {sorted(issuers)}, not {wanted}")


# --- The pod: only valid proofs authenticate ------------------------------------------------------


async def protected(ctx: Context) -> str:
    return str(await ctx.once("private", lambda: private_document(ctx)))


async def call(
    ctx: Context,
    url: str,
    proof: str | None,
    *,
    token: str | None = None,
    scheme: str = "DPoP",
    method: str = "GET",
) -> Reply:
    headers: dict[str, str] = {"Authorization": f"{scheme} {token or login(ctx).token}"}
    if proof is not None:
        headers["DPoP"] = proof
    return await send(ctx.http, method, url, headers=headers)


async def refused(ctx: Context, forge: Callable[[Login, str], str]) -> None:
    """The forged proof makes the caller anonymous: the private document answers 401."""
    url = await protected(ctx)
    await login(ctx).ensure_token(ctx.http)
    reply = await call(ctx, url, forge(login(ctx), url))
    expect(reply.status in (401, 403), f"a forged proof was accepted: {reply.describe()}")


def proof(lg: Login, url: str, **kwargs: object) -> str:
    return mint_proof(lg.key, "GET", url, token=lg.token, **kwargs)  # type: ignore[arg-type]


@check("oidc.pod.valid-proof-accepted", S_OIDC + "dpop-validation", Q_DPOP, needs=ALICE)
async def valid(ctx: Context) -> None:
    url = await protected(ctx)
    await login(ctx).ensure_token(ctx.http)
    expect_status(await call(ctx, url, proof(login(ctx), url)), 200)


@check(
    "oidc.pod.query-ignored-in-htu",
    RFC9449 + "#section-4.3",
    "The htu claim matches the HTTP URI value for the HTTP request in which the JWT was"
    " received, ignoring any query and fragment parts.",
    needs=ALICE,
)
async def query_ignored(ctx: Context) -> None:
    url = await protected(ctx)
    await login(ctx).ensure_token(ctx.http)
    expect_status(await call(ctx, url + "?view=full", proof(login(ctx), url)), 200)


def claims(**values: object) -> dict[str, object]:
    return values


Forge = Callable[[Login, str], str]
Q_CLAIMS = "All required claims per Section 4.2 are contained in the JWT."
Q_TIME = (
    "The creation time of the JWT, as determined by either the iat claim or a server managed"
    " timestamp via the nonce claim, is within an acceptable window (see Section 11.1)."
)
Q_BOUND = (
    "If presented to a protected resource in conjunction with an access token, ensure that the"
    " value of the ath claim equals the hash of that access token, and confirm that the public"
    " key to which the access token is bound matches the public key from the DPoP proof."
)
Q_HTU = (
    "The htu claim matches the HTTP URI value for the HTTP request in which the JWT was"
    " received, ignoring any query and fragment parts."
)


def tamper_signature(jwt: str) -> str:
    head, body, signature = jwt.split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    return ".".join((head, body, flipped))


FORGERIES: tuple[tuple[str, str, Forge], ...] = (
    (
        "not-a-jwt",
        "The DPoP HTTP request header field value is a single and well-formed JWT.",
        lambda lg, url: "not-a-jwt",
    ),
    (
        "wrong-htm",
        "The htm claim matches the HTTP method of the current request.",
        lambda lg, url: proof(lg, url, claims=claims(htm="POST")),
    ),
    ("wrong-htu-path", Q_HTU, lambda lg, url: proof(lg, url, claims=claims(htu=url + "-other"))),
    (
        "wrong-htu-origin",
        Q_HTU,
        lambda lg, url: proof(lg, url, claims=claims(htu="https://elsewhere.invalid/doc")),
    ),
    (
        "stale-iat",
        Q_TIME,
        lambda lg, url: proof(lg, url, claims=claims(iat=int(time.time()) - 3600)),
    ),
    (
        "future-iat",
        Q_TIME,
        lambda lg, url: proof(lg, url, claims=claims(iat=int(time.time()) + 3600)),
    ),
    ("missing-jti", Q_CLAIMS, lambda lg, url: proof(lg, url, drop=("jti",))),
    ("missing-htm", Q_CLAIMS, lambda lg, url: proof(lg, url, drop=("htm",))),
    ("missing-htu", Q_CLAIMS, lambda lg, url: proof(lg, url, drop=("htu",))),
    ("missing-iat", Q_CLAIMS, lambda lg, url: proof(lg, url, drop=("iat",))),
    (
        "missing-ath",
        "When the DPoP proof is used in conjunction with the presentation of an"
        " access token in protected resource access (see Section 7), the DPoP proof MUST also"
        " contain the following claim: ath",
        lambda lg, url: proof(lg, url, drop=("ath",)),
    ),
    ("wrong-ath", Q_BOUND, lambda lg, url: proof(lg, url, claims=claims(ath=b64url(b"x" * 32)))),
    ("unbound-key", Q_BOUND, lambda lg, url: mint_proof(new_key(), "GET", url, token=lg.token)),
    (
        "wrong-typ",
        "The typ JOSE Header Parameter has the value dpop+jwt.",
        lambda lg, url: proof(lg, url, header={"typ": "JWT"}),
    ),
    (
        "alg-none",
        "The alg JOSE Header Parameter indicates a registered asymmetric digital"
        " signature algorithm [IANA.JOSE.ALGS], is not none, is supported by the application, and"
        " is acceptable per local policy.",
        lambda lg, url: proof(lg, url, header={"alg": "none"}),
    ),
    (
        "signed-by-other-key",
        "The JWT signature verifies with the public key contained in the jwk"
        " JOSE Header Parameter.",
        lambda lg, url: proof(lg, url, signer=new_key()),
    ),
    (
        "tampered-signature",
        "The JWT signature verifies with the public key contained in the jwk"
        " JOSE Header Parameter.",
        lambda lg, url: tamper_signature(proof(lg, url)),
    ),
    (
        "private-key-in-jwk",
        "The jwk JOSE Header Parameter does not contain a private key.",
        lambda lg, url: proof(lg, url, header={"jwk": lg.key.export_private(as_dict=True)}),
    ),
)


@check_each(
    FORGERIES,
    lambda f: f"oidc.pod.refuses-{f[0]}",
    RFC9449 + "#section-4.3",
    lambda f: f"{Q_CHECKING} {f[1]}",
    needs=ALICE,
)
async def forged(ctx: Context, forgery: tuple[str, str, Forge]) -> None:
    await refused(ctx, forgery[2])


@check("oidc.pod.refuses-missing-proof", S_OIDC + "dpop-validation", Q_DPOP, needs=ALICE)
async def missing_proof(ctx: Context) -> None:
    url = await protected(ctx)
    await login(ctx).ensure_token(ctx.http)
    reply = await call(ctx, url, None)
    expect(
        reply.status in (401, 403), f"a token without its proof was accepted: {reply.describe()}"
    )


@check(
    "oidc.pod.refuses-replayed-proof",
    DRAFT_43,
    "that, within a reasonable consideration of accuracy and resource utilization, a JWT with"
    " the same jti value has not been received previously (see Section 9.1).",
    needs=ALICE,
)
async def replayed(ctx: Context) -> None:
    url = await protected(ctx)
    await login(ctx).ensure_token(ctx.http)
    once = proof(login(ctx), url)
    expect_status(await call(ctx, url, once), 200)
    reply = await call(ctx, url, once)
    expect(reply.status in (401, 403), f"the same proof was accepted twice: {reply.describe()}")


@check(
    "oidc.pod.refuses-two-proofs",
    RFC9449 + "#section-4.3",
    f"{Q_CHECKING} There is not more than one DPoP HTTP request header field.",
    needs=ALICE,
)
async def two_proofs(ctx: Context) -> None:
    url = await protected(ctx)
    lg = login(ctx)
    await lg.ensure_token(ctx.http)
    headers: CIMultiDict[str] = CIMultiDict(Authorization=f"DPoP {lg.token}")
    headers.add("DPoP", proof(lg, url))
    headers.add("DPoP", proof(lg, url))
    reply = await send(ctx.http, "GET", url, headers=headers)
    expect(reply.status in (400, 401, 403), f"two DPoP headers were accepted: {reply.describe()}")


@check(
    "oidc.pod.refuses-tampered-token",
    S_OIDC + "dpop-validation",
    "The DPoP-bound OIDC ID Token MUST be validated according to DPoP Internet-Draft, Section"
    " 6, but the AS MAY perform additional verification in order to determine whether to"
    " grant access to the requested resource.",
    needs=ALICE,
)
async def tampered_token(ctx: Context) -> None:
    url = await protected(ctx)
    lg = login(ctx)
    await lg.ensure_token(ctx.http)
    head, _, signature = lg.token.split(".")
    payload = decode_unverified(lg.token)
    payload["exp"] = int(time.time()) + 86400 * 365
    forged_token = ".".join((head, b64url(json.dumps(payload).encode()), signature))
    reply = await call(
        ctx, url, mint_proof(lg.key, "GET", url, token=forged_token), token=forged_token
    )
    expect(
        reply.status in (401, 403),
        f"a token with a changed payload was accepted: {reply.describe()}",
    )


@check(
    "oidc.pod.refuses-token-as-bearer",
    RFC9449 + "#section-7.2",
    "such a protected resource MUST reject a DPoP-bound access token received as a bearer"
    " token per [RFC6750].",
    needs=ALICE,
)
async def as_bearer(ctx: Context) -> None:
    url = await protected(ctx)
    await login(ctx).ensure_token(ctx.http)
    reply = await call(ctx, url, None, scheme="Bearer")
    expect(reply.status in (401, 403), f"a DPoP-bound token worked as Bearer: {reply.describe()}")


@check(
    "oidc.pod.proof-bound-to-method",
    RFC9449 + "#section-4.3",
    f"{Q_CHECKING} The htm claim matches the HTTP method of the current request.",
    needs=ALICE,
)
async def head_with_get_proof(ctx: Context) -> None:
    url = await protected(ctx)
    await login(ctx).ensure_token(ctx.http)
    reply = await call(ctx, url, proof(login(ctx), url), method="HEAD")
    expect(reply.status in (401, 403), f"a GET proof authenticated a HEAD: {reply.status}")
