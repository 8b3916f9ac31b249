"""``python -m apps.commons``: the authority's side on the command line.

    python -m apps.commons keygen --kid cnil-2026 --out key.jwk  # prints the public JWK
    python -m apps.commons approve study.ttl --iri IRI --key key.jwk   # prints the approval (JWS)
    python -m apps.commons verify study.ttl --iri IRI --approval A --keys public.json
    python -m apps.commons journal broker.journal                      # verify a hash-chained log
    python -m apps.commons site --dir results/ --port 8080             # serve published releases
                                                     # (their DCAT index at /catalog)

Exit status 0 on success, 1 when a study, approval or journal is refused (with the reason).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from jwcrypto import jwk

from apps.commons import approval, study
from apps.commons.journal import JournalError, verify
from apps.commons.study import StudyError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m apps.commons", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    keygen = commands.add_parser("keygen", help="a new approval key (EC P-256)")
    keygen.add_argument("--kid", required=True)
    keygen.add_argument("--out", type=Path, required=True)
    for name in ("approve", "verify"):
        command = commands.add_parser(name)
        command.add_argument("study", type=Path, help="the study as Turtle")
        command.add_argument("--iri", required=True, help="the study's IRI")
    commands.choices["approve"].add_argument("--key", type=Path, required=True)
    commands.choices["verify"].add_argument("--approval", required=True)
    commands.choices["verify"].add_argument(
        "--keys", type=Path, required=True, help="JSON list of the authority's public JWKs"
    )
    journal = commands.add_parser("journal", help="verify a broker or authority journal")
    journal.add_argument("path", type=Path)
    site = commands.add_parser("site", help="serve the published releases (read-only)")
    site.add_argument("--dir", type=Path, required=True)
    site.add_argument("--host", default="127.0.0.1")
    site.add_argument("--port", type=int, default=8080)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "site":
        from aiohttp import web

        from apps.commons.site import site_app

        web.run_app(site_app(args.dir), host=args.host, port=args.port)
        return 0
    try:
        if args.command == "keygen":
            key = approval.new_signing_key(args.kid)
            args.out.write_text(key.export_private())
            args.out.chmod(0o600)
            print(json.dumps(key.export_public(as_dict=True)))
        elif args.command == "approve":
            proposed = study.parse(args.study.read_text(encoding="utf-8"), args.iri)
            key = jwk.JWK.from_json(args.key.read_text())
            print(approval.approve(proposed, key))
        elif args.command == "verify":
            proposed = study.parse(args.study.read_text(encoding="utf-8"), args.iri)
            keys = json.loads(args.keys.read_text())
            payload = approval.verify(proposed, args.approval, keys)
            print(f"approved by {payload['iss']}: {proposed.title}")
        else:
            print(f"{verify(args.path)} records, chain intact")
    except (StudyError, JournalError, OSError, ValueError) as err:
        print(f"refused: {err}", file=sys.stderr)
        return 1
    return 0
