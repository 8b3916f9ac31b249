"""``pod``: a Solid pod from the command line.

Human output by default, ``--json`` for scripts (one JSON document on stdout; errors as
``{"error": {...}}``). Exit codes:

    0    done
    1    any other error (a server failure, a local file problem, ...)
    2    bad usage
    3    not signed in, signing in failed, or 401
    4    forbidden (403): signed in, but without the access needed
    5    not found (404, 410)
    6    conflict: changed since read, already there, not empty (409, 412)
    7    cannot reach the server (network, TLS, timeout)
    8    incomplete: a transfer or import stopped part way, or verification failed
    130  interrupted (Ctrl-C)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote, unquote, urlsplit

from client import archive, errors
from client.access import Subject
from client.audit import verify_audit
from client.auth import OpenBrowser
from client.consent import ConsentRecord, Target
from client.containers import Entry, safe_name
from client.core import normalize_url
from client.pod import PodClient
from client.profiles import ProfileStore
from client.rdf import SHORT_NAMES
from client.transport import Transport

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_AUTH, EXIT_FORBIDDEN = 0, 1, 2, 3, 4
EXIT_NOT_FOUND, EXIT_CONFLICT, EXIT_NETWORK, EXIT_INCOMPLETE, EXIT_INTERRUPTED = 5, 6, 7, 8, 130
EXIT_CODES = {
    errors.Unauthorized: EXIT_AUTH,
    errors.AuthenticationError: EXIT_AUTH,
    errors.Forbidden: EXIT_FORBIDDEN,
    errors.NotFound: EXIT_NOT_FOUND,
    errors.Conflict: EXIT_CONFLICT,
    errors.PreconditionFailed: EXIT_CONFLICT,
    errors.ConnectionFailed: EXIT_NETWORK,
    errors.IncompleteTransfer: EXIT_INCOMPLETE,
    archive.ArchiveError: EXIT_INCOMPLETE,
}


class UsageError(Exception):
    """Bad arguments found after parsing (exit 2)."""


def exit_code(exc: BaseException) -> int:
    for kind, code in EXIT_CODES.items():
        if isinstance(exc, kind):
            return code
    return EXIT_ERROR


class Ui:
    """Where output goes: human text or JSON on stdout, messages and bars on stderr."""

    def __init__(self, json_mode: bool, quiet: bool, out: IO[str], err: IO[str]) -> None:
        self.json, self.quiet, self.out, self.err = json_mode, quiet, out, err

    def result(self, human: str | None, data: Any) -> None:
        if self.json:
            self.out.write(json.dumps(data, indent=2, default=str) + "\n")
        elif human:
            self.out.write(human.rstrip("\n") + "\n")

    def note(self, text: str) -> None:
        if not self.quiet:
            self.err.write(text.rstrip("\n") + "\n")

    def bar(self, total: int | None, unit: str, desc: str) -> Any:
        if self.quiet or self.json:
            return _NoBar()
        try:
            from tqdm import tqdm
        except ImportError:  # progress bars are a nicety, never a reason to fail
            return _NoBar()
        return tqdm(
            total=total,
            unit=unit,
            unit_scale=unit == "B",
            unit_divisor=1024,
            desc=desc,
            file=self.err,
            leave=False,
            disable=None,  # on when stderr is a terminal
        )


class _NoBar:
    def update(self, n: int = 1) -> None:
        pass

    def set_postfix_str(self, text: str) -> None:
        pass

    def close(self) -> None:
        pass


def _size(n: int | None) -> str:
    if n is None:
        return "-"
    value = float(n)
    for unit in ("B", "K", "M", "G", "T"):
        if value < 1024 or unit == "T":
            return f"{value:.0f}{unit}" if unit == "B" else f"{value:.1f}{unit}"
        value /= 1024
    return str(n)


def _entry_dict(e: Entry) -> dict[str, Any]:
    return {
        "url": e.url,
        "name": e.name,
        "container": e.is_container,
        "types": list(e.types),
        "size": e.size,
        "modified": e.modified.isoformat() if e.modified else None,
    }


def _is_url(value: str) -> bool:
    return urlsplit(value).scheme in ("http", "https")


# -- commands ------------------------------------------------------------------------------
async def cmd_login(pod: PodClient, args: argparse.Namespace, ui: Ui) -> int:
    if args.client_credentials:
        raw = (
            sys.stdin.read()
            if args.client_credentials == "-"
            else Path(args.client_credentials).read_text()
        )
        try:
            made = json.loads(raw)
            client_id, secret = made["client_id"], made["client_secret"]
        except (ValueError, KeyError, TypeError):
            raise UsageError(
                "the credentials file must be JSON with client_id and client_secret "
                "(as `pod-server user credentials` prints)"
            ) from None
        issuer = args.issuer or made.get("issuer")
        if not issuer:
            raise UsageError('no issuer: give --issuer or put "issuer" in the file')
        session = await pod.login_client_credentials(issuer, client_id, secret)
    else:
        if not args.issuer:
            raise UsageError("give --issuer URL (your identity provider), or --client-credentials")
        session = await pod.login_browser(
            args.issuer, open_browser=args.open_browser, timeout=args.timeout, port=args.port
        )
    where = pod.store.path(pod.profile_name) if pod.store and pod.profile_name else None
    ui.result(
        f"Signed in as {session.webid} (issuer {session.issuer}); "
        f"profile '{pod.profile_name}' saved in {where}.",
        pod.whoami() | {"saved": str(where)},
    )
    return EXIT_OK


async def cmd_logout(pod: PodClient, args: argparse.Namespace, ui: Ui) -> int:
    was = pod.webid
    if pod.session is None:
        ui.result(f"Not signed in (profile '{pod.profile_name}').", {"signed_out": False})
        return EXIT_OK
    revoked = await pod.logout()
    tail = "" if revoked else " (the provider did not confirm the revocation)"
    ui.result(f"Signed out {was}{tail}.", {"signed_out": True, "revoked": revoked})
    return EXIT_OK


async def cmd_whoami(pod: PodClient, args: argparse.Namespace, ui: Ui) -> int:
    info = pod.whoami()
    if not info["signed_in"]:
        ui.result(f"Not signed in (profile '{pod.profile_name}'). Run `pod login`.", info)
        return EXIT_AUTH
    minutes = info["expires_in"] // 60
    renew = "renewed automatically" if info["renewable"] else "not renewable"
    ui.result(
        f"{info['webid']}\n  issuer   {info['issuer']}\n  profile  {info['profile']}\n"
        f"  session  {info['kind']}, token valid {minutes} min more, {renew}",
        info,
    )
    return EXIT_OK


async def _default_storage(pod: PodClient) -> str:
    if pod.webid is None:
        raise UsageError("give a URL (or sign in, to default to your storage)")
    storages = await pod.storages()
    if not storages:
        raise UsageError("your profile names no storage: give a URL")
    return storages[0]


async def cmd_ls(pod: PodClient, args: argparse.Namespace, ui: Ui) -> int:
    url = args.url or await _default_storage(pod)
    url = normalize_url(url)
    if not url.endswith("/"):
        res = await pod.head(url)
        entry = Entry(url, tuple(res.types), res.size)
        entries = [entry]
    else:
        entries = await pod.list(url)
    if args.long:
        lines = []
        for e in entries:
            when = e.modified.strftime("%Y-%m-%d %H:%M") if e.modified else "-"
            flag = "d" if e.is_container else "-"
            lines.append(f"{flag} {_size(e.size):>7} {when:16} {e.name}")
        human = "\n".join(lines)
    else:
        human = "\n".join(e.name for e in entries)
    ui.result(human or None, [_entry_dict(e) for e in entries])
    return EXIT_OK


async def cmd_cat(pod: PodClient, args: argparse.Namespace, ui: Ui) -> int:
    accept = SHORT_NAMES[args.as_] if args.as_ else None
    out = ui.out.buffer if hasattr(ui.out, "buffer") else None
    if out is None:  # a text stream (tests): decode
        res = await pod.get(args.url, accept=accept)
        ui.out.write(res.text())
        return EXIT_OK
    ui.out.flush()
    async for chunk in pod.stream(args.url, accept=accept):
        out.write(chunk)
    out.flush()
    return EXIT_OK


async def cmd_put(pod: PodClient, args: argparse.Namespace, ui: Ui) -> int:
    url = args.url
    if args.file == "-":
        if url.endswith("/"):
            raise UsageError("reading stdin: give the full target URL, not a container")
        data = sys.stdin.buffer.read()
        res = await pod.upload(url, data, args.content_type or None)
        size = len(data)
    else:
        path = Path(args.file)
        if not path.is_file():
            raise UsageError(f"{path} is not a file (use `pod cp -r` for folders)")
        if url.endswith("/"):
            url += quote(path.name)
        size = path.stat().st_size
        bar = ui.bar(size, "B", path.name)
        try:
            res = await pod.upload(url, path, args.content_type or None, progress=bar.update)
        finally:
            bar.close()
    ui.result(f"{res.url} ({_size(size)})", {"url": res.url, "size": size, "etag": res.etag})
    return EXIT_OK


async def cmd_mkdir(pod: PodClient, args: argparse.Namespace, ui: Ui) -> int:
    url = normalize_url(args.url)
    url = url if url.endswith("/") else url + "/"
    made = await pod.create_container(url)
    ui.result(f"{url}" + ("" if made else " (already there)"), {"url": url, "created": made})
    return EXIT_OK


def _confirm(args: argparse.Namespace, ui: Ui) -> Callable[[list[str]], bool]:
    def confirm(urls: list[str]) -> bool:
        if args.yes:
            return True
        if not sys.stdin.isatty():
            raise UsageError(f"this deletes {len(urls)} resources: add --yes to confirm")
        ui.err.write(f"Delete {len(urls)} resources under {urls[0]}? [y/N] ")
        ui.err.flush()
        return sys.stdin.readline().strip().lower() in ("y", "yes")

    return confirm


async def cmd_rm(pod: PodClient, args: argparse.Namespace, ui: Ui) -> int:
    url = normalize_url(args.url)
    if args.recursive:
        n = await pod.delete_tree(url, confirm=_confirm(args, ui))
        if n == 0:
            ui.result("Nothing deleted.", {"deleted": 0})
            return EXIT_OK
    else:
        await pod.delete(url)
        n = 1
    ui.result(f"Deleted {n} resource{'s' if n != 1 else ''}.", {"deleted": n, "url": url})
    return EXIT_OK


async def cmd_cp(pod: PodClient, args: argparse.Namespace, ui: Ui) -> int:
    src, dst = args.source, args.target
    remote_src, remote_dst = _is_url(src), _is_url(dst)
    if not remote_src and not remote_dst:
        raise UsageError("one of SOURCE and TARGET must be a pod URL (use cp for local copies)")
    bar = ui.bar(None, "B", "copy")
    files = 0
    moved = 0

    def item(_url: str) -> None:
        nonlocal files
        files += 1

    try:
        if not remote_src:  # local -> pod
            path = Path(src)
            if path.is_dir():
                if not args.recursive:
                    raise UsageError(f"{src} is a folder: use -r")
                target = await _into(pod, dst, path.name)
                summary = await pod.upload_tree(path, target, progress=bar.update, on_item=item)
                moved, dst = summary.bytes, target
            else:
                if not path.is_file():
                    raise errors.NotFound(f"no such file: {src}")
                target = dst + quote(path.name) if dst.endswith("/") else dst
                await pod.upload(target, path, progress=bar.update)
                moved, files, dst = path.stat().st_size, 1, target
        elif not remote_dst:  # pod -> local
            url = normalize_url(src)
            if url.endswith("/"):
                if not args.recursive:
                    raise UsageError(f"{src} is a container: use -r")
                local = Path(dst)
                if local.is_dir():
                    local = local / safe_name(unquote(url.rstrip("/").rsplit("/", 1)[-1]))
                summary = await pod.download_tree(url, local, progress=bar.update, on_item=item)
                moved, dst = summary.bytes, str(local)
            else:
                local = Path(dst)
                if local.is_dir():
                    local = local / safe_name(unquote(url.rsplit("/", 1)[-1]))
                got = await pod.download(url, local, progress=bar.update)
                moved, files, dst = got.size, 1, str(local)
        else:  # pod -> pod
            url = normalize_url(src)
            if url.endswith("/"):
                if not args.recursive:
                    raise UsageError(f"{src} is a container: use -r")
                target = await _into(pod, dst, unquote(url.rstrip("/").rsplit("/", 1)[-1]))
                for member in await pod.tree(url):
                    rel = member[len(url) :]
                    if member.endswith("/"):
                        await pod.create_container(target + rel)
                    else:
                        moved += await pod.copy(member, target + rel, progress=bar.update)
                        files += 1
                dst = target
            else:
                target = dst + url.rsplit("/", 1)[-1] if dst.endswith("/") else dst
                moved, files, dst = await pod.copy(url, target, progress=bar.update), 1, target
    finally:
        bar.close()
    ui.result(
        f"Copied {files} file{'s' if files != 1 else ''} ({_size(moved)}) to {dst}",
        {"files": files, "bytes": moved, "target": dst},
    )
    return EXIT_OK


async def _into(pod: PodClient, dst: str, name: str) -> str:
    """Like cp -r: into DST/NAME/ when DST is an existing container, else DST itself."""
    target = normalize_url(dst if dst.endswith("/") else dst + "/")
    if await pod.exists(target):
        return target + quote(name, safe="") + "/"
    return target


def _who(args: argparse.Namespace) -> Subject:
    if args.public:
        return Subject.parse("public")
    if args.authenticated:
        return Subject.parse("authenticated")
    if args.group:
        return Subject.group(args.group)
    if args.agent:
        return Subject.agent(args.agent)
    raise UsageError("say who: --agent WEBID, --public, --authenticated or --group URL")


async def cmd_acl(pod: PodClient, args: argparse.Namespace, ui: Ui) -> int:
    url = normalize_url(args.url)
    if args.acl_command == "grant":
        who = _who(args)
        await pod.grant(url, who, args.modes, inherit=not args.no_inherit)
        ui.note(f"Granted {args.modes} on {url} to {who}.")
    elif args.acl_command == "revoke":
        who = _who(args)
        changed = await pod.revoke(url, who, args.modes)
        ui.note(
            f"Revoked {args.modes or 'all modes'} on {url} from {who}"
            + (
                "."
                if changed
                else f" (it had none here: {who} may still have access "
                "through a group, public or authenticated rule)."
            )
        )
    acl = await pod.effective_acl(url)
    who_can = acl.who_can()
    lines = [f"{url}", f"  ACL {acl.acl_url}" + (" (inherited)" if acl.inherited else "")]
    for subject, modes in who_can.items():
        label = {"public": "everyone", "authenticated": "anyone signed in"}.get(
            subject.kind, f"{subject.kind} {subject.iri}"
        )
        ordered = [m for m in ("Read", "Append", "Write", "Control") if m in modes]
        lines.append(f"  {label}: {', '.join(ordered)}")
    data = {
        "url": url,
        "acl": acl.acl_url,
        "inherited": acl.inherited,
        "access": [{"kind": s.kind, "iri": s.iri, "modes": sorted(m)} for s, m in who_can.items()],
    }
    ui.result("\n".join(lines), data)
    return EXIT_OK


async def cmd_export(pod: PodClient, args: argparse.Namespace, ui: Ui) -> int:
    bar = ui.bar(None, "res", "export")
    try:
        report = await archive.export_archive(
            pod, args.url, args.archive, step=lambda _u, _n: bar.update(1)
        )
    finally:
        bar.close()
    counts = report.counts
    human = (
        f"Exported {args.url} to {args.archive}: {counts.get('container', 0)} containers, "
        f"{counts.get('rdf', 0)} RDF documents, {counts.get('file', 0)} files, "
        f"{counts.get('acl', 0)} ACLs, {counts.get('meta', 0)} descriptions "
        f"({_size(report.bytes)}); checksums verified."
    )
    if report.skipped:
        human += f"\n{len(report.skipped)} skipped:" + "".join(
            f"\n  {s['path']}: {s['reason']}" for s in report.skipped
        )
    ui.result(human, report.to_dict())
    return EXIT_OK


async def cmd_import(pod: PodClient, args: argparse.Namespace, ui: Ui) -> int:
    try:
        manifest = archive.verify_archive(args.archive)
    except archive.ArchiveError:
        raise
    total = len(manifest["entries"])
    bar = ui.bar(total, "res", "import")
    progress = {"done": 0}

    def step(_url: str, _n: int) -> None:
        progress["done"] += 1
        bar.update(1)

    try:
        report = await archive.import_archive(pod, args.archive, args.url, step=step)
    except (KeyboardInterrupt, asyncio.CancelledError):
        ui.err.write(
            f"pod: import INCOMPLETE (interrupted): {progress['done']} of {total} entries "
            "written; the pod holds a partial copy. Run the same import again to finish.\n"
        )
        raise
    finally:
        bar.close()
    counts = report.counts
    summary = (
        f"{counts.get('container', 0)} containers, {counts.get('rdf', 0)} RDF documents, "
        f"{counts.get('file', 0)} files, {counts.get('acl', 0)} ACLs, "
        f"{counts.get('meta', 0)} descriptions ({_size(report.bytes)})"
    )
    if not report.verified:
        ui.result(
            f"Import INCOMPLETE: {summary} written to {args.url}, but verification "
            f"found {len(report.problems)} problem(s):"
            + "".join(f"\n  {p}" for p in report.problems),
            report.to_dict(),
        )
        return EXIT_INCOMPLETE
    ui.result(f"Imported {args.archive} into {args.url}: {summary}; verified.", report.to_dict())
    return EXIT_OK


# -- consent and audit ---------------------------------------------------------------------
def _when(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if value else "-"


def _short_status(status: str | None) -> str:
    return (status or "-").removeprefix("Consent").lower()


def _modes_text(targets: list[Target]) -> str:
    order = ("Read", "Append", "Write", "Control")
    return "; ".join(
        f"{t.url} ({', '.join(m for m in order if m in t.modes) or '-'})" for t in targets
    )


def _table(headers: list[str], rows: list[list[str]]) -> str:
    """Columns padded to their widest cell (the last one left ragged)."""
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]
    lines = [headers, *rows]
    return "\n".join(
        "  ".join(
            cell.ljust(widths[i]) if i < len(cells) - 1 else cell for i, cell in enumerate(cells)
        ).rstrip()
        for cells in lines
    )


def _record_text(record: ConsentRecord) -> str:
    lines = [
        f"{record.id}  {_short_status(record.status)}",
        f"  record     {record.url}",
        f"  recipient  {record.recipient or '-'}",
    ]
    if record.client:
        lines.append(f"  client     {record.client}")
    lines.append(f"  purposes   {', '.join(record.purposes) or '-'}")
    if record.data:
        lines.append(f"  data       {', '.join(record.data)}")
    lines.append(f"  requested  {_modes_text(record.requested) or '-'}")
    if record.granted:
        lines.append(f"  granted    {_modes_text(record.granted)}")
    lines.append(f"  until      {_when(record.until)}")
    if record.note:
        lines.append(f"  note       {record.note}")
    for event in record.events:
        by = f" by {event.by}" if event.by else ""
        lines.append(f"  {_when(event.at)}  {_short_status(event.status)}{by}")
    return "\n".join(lines)


async def cmd_consent(pod: PodClient, args: argparse.Namespace, ui: Ui) -> int:
    storage = args.storage
    if args.consent_command == "list":
        try:
            records = await pod.access_requests(args.status, storage=storage)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        rows = [
            [
                r.id,
                _short_status(r.status),
                r.recipient or "-",
                ", ".join(p.rsplit("#", 1)[-1].rsplit("/", 1)[-1] for p in r.purposes) or "-",
                _modes_text(r.granted or r.requested) or "-",
                _when(r.until),
            ]
            for r in records
        ]
        human = (
            _table(["ID", "STATUS", "RECIPIENT", "PURPOSE", "ACCESS", "UNTIL"], rows)
            if rows
            else "No consent records" + (f" with status {args.status}." if args.status else ".")
        )
        ui.result(human, [r.to_json() for r in records])
        return EXIT_OK
    if args.consent_command == "show":
        record = await pod.consent(args.id, storage=storage)
    elif args.consent_command == "approve":
        try:
            record = await pod.approve(
                args.id, args.target or None, args.mode or None, args.until, storage=storage
            )
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        ui.note(f"Approved {record.id} for {record.recipient}.")
    elif args.consent_command == "deny":
        record = await pod.deny(args.id, storage=storage)
        ui.note(f"Refused {record.id} ({record.recipient}).")
    else:
        url = await pod.consent_url(args.id, storage)
        await pod.withdraw(url)
        ui.result(
            f"Withdrew {args.id}: its access rules are gone.", {"url": url, "withdrawn": True}
        )
        return EXIT_OK
    ui.result(_record_text(record), record.to_json())
    return EXIT_OK


async def cmd_request_access(pod: PodClient, args: argparse.Namespace, ui: Ui) -> int:
    if pod.webid is None:
        raise UsageError("sign in first (pod login): a request is made as your WebID")
    try:
        url = await pod.request_access(
            args.owner,
            args.target,
            args.mode,
            args.purpose,
            args.until,
            data=args.data or (),
            note=args.note,
            storage=args.storage,
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    ui.result(
        f"Requested: {url}\n(pending until {args.owner} decides)",
        {"url": url, "owner": args.owner, "status": "ConsentRequested"},
    )
    return EXIT_OK


async def cmd_audit(pod: PodClient, args: argparse.Namespace, ui: Ui) -> int:
    try:
        entries = [
            e
            async for e in pod.audit(
                args.agent,
                args.resource,
                args.since,
                args.until,
                args.outcome,
                args.limit,
                storage=args.storage,
            )
        ]
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    check = None
    if args.verify:
        filtered = any(
            v is not None for v in (args.agent, args.resource, args.since, args.until, args.outcome)
        )
        whole = entries if not filtered and args.limit is None else None
        check = (
            verify_audit(whole)
            if whole is not None
            else await pod.verify_audit(storage=args.storage)
        )
    rows = [
        [
            str(e.seq) if e.seq is not None else "-",
            _when(e.published),
            e.agent or "anonymous",
            e.action,
            e.resource or "-",
            str(e.outcome) if e.outcome is not None else "-",
        ]
        for e in entries
    ]
    human = (
        _table(["SEQ", "WHEN (UTC)", "AGENT", "ACTION", "RESOURCE", "RESULT"], rows)
        if rows
        else "No entries."
    )
    data: dict[str, Any] = {"entries": [e.to_json() for e in entries]}
    if check is not None:
        data["verification"] = check.to_json()
        human += (
            f"\nChain verified: {check.checked} entries, intact."
            if check.ok
            else "\nChain verification FAILED:" + "".join(f"\n  {p}" for p in check.problems)
        )
    ui.result(human, data)
    return EXIT_OK if check is None or check.ok else EXIT_INCOMPLETE


async def cmd_query(pod: PodClient, args: argparse.Namespace, ui: Ui) -> int:
    try:
        with open(args.file, encoding="utf-8") if args.file != "-" else _stdin() as f:
            sparql = f.read()
    except OSError as exc:
        raise UsageError(f"cannot read {args.file}: {exc.strerror}") from None
    result = await pod.query(sparql, storage=args.storage)
    if result.graph is not None:
        text = result.graph.serialize(format="turtle")
        ui.result(text.rstrip("\n"), {"graph": text})
    elif result.boolean is not None:
        ui.result("true" if result.boolean else "false", {"boolean": result.boolean})
    else:
        rows = [[str(row.get(v, "")) for v in result.variables] for row in result.rows]
        human = _table(result.variables, rows) if rows else "No results."
        data = {
            "vars": result.variables,
            "rows": [dict(zip(result.variables, r, strict=True)) for r in rows],
        }
        ui.result(human, data)
    return EXIT_OK


def _stdin() -> Any:
    return open(sys.stdin.fileno(), encoding="utf-8", closefd=False)


COMMANDS = {
    "login": cmd_login,
    "logout": cmd_logout,
    "whoami": cmd_whoami,
    "ls": cmd_ls,
    "cat": cmd_cat,
    "put": cmd_put,
    "mkdir": cmd_mkdir,
    "rm": cmd_rm,
    "cp": cmd_cp,
    "acl": cmd_acl,
    "export": cmd_export,
    "import": cmd_import,
    "consent": cmd_consent,
    "request-access": cmd_request_access,
    "audit": cmd_audit,
    "query": cmd_query,
}


# -- parsing -------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--json",
        action="store_true",
        default=argparse.SUPPRESS,
        help="print one JSON document (for scripts)",
    )
    common.add_argument(
        "--profile",
        default=argparse.SUPPRESS,
        help="the saved session to use (default: $POD_PROFILE or 'default')",
    )
    common.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        default=argparse.SUPPRESS,
        help="no progress bars or notes",
    )
    parser = argparse.ArgumentParser(
        prog="pod",
        description="Use Solid pods from the command line.",
        epilog=__doc__.split("\n\n", 1)[1] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[common],
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, text: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=text, description=text, parents=[common])

    p = command("login", "sign in (browser, or client credentials) and save the session")
    p.add_argument("--issuer", help="your identity provider (Solid-OIDC issuer URL)")
    p.add_argument(
        "--client-credentials",
        metavar="FILE",
        help="JSON with client_id, client_secret [, issuer] ('-': stdin)",
    )
    p.add_argument("--port", type=int, default=0, help="loopback port for the redirect")
    p.add_argument("--timeout", type=float, default=300.0, help="seconds to finish signing in")
    command("logout", "revoke the session's tokens and forget it")
    command("whoami", "show who you are signed in as")
    p = command("ls", "list a container (default: your storage)")
    p.add_argument("url", nargs="?")
    p.add_argument("-l", dest="long", action="store_true", help="with sizes and times")
    p = command("cat", "print a resource")
    p.add_argument("url")
    p.add_argument(
        "--as", dest="as_", choices=["turtle", "jsonld", "ntriples"], help="RDF format to ask for"
    )
    p = command("put", "upload a file (streamed) to a URL")
    p.add_argument("file", help="local file, or '-' for stdin")
    p.add_argument("url", help="target URL (a container URL keeps the file's name)")
    p.add_argument("--content-type", help="media type (default: from the file name)")
    p = command("mkdir", "create a container (and missing parents)")
    p.add_argument("url")
    p = command("rm", "delete a resource (-r: a container and everything in it)")
    p.add_argument("url")
    p.add_argument("-r", "--recursive", action="store_true")
    p.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")
    p = command("cp", "copy local<->pod or pod<->pod (-r for folders and containers)")
    p.add_argument("source")
    p.add_argument("target")
    p.add_argument("-r", "--recursive", action="store_true")
    p = command("acl", "show or change who may access a resource")
    acl = p.add_subparsers(dest="acl_command", required=True, metavar="show|grant|revoke")
    for name, text in (
        ("show", "show the effective access of a resource"),
        ("grant", "give modes to someone"),
        ("revoke", "take modes away from someone"),
    ):
        q = acl.add_parser(name, help=text, description=text, parents=[common])
        q.add_argument("url")
        if name == "show":
            continue
        who = q.add_mutually_exclusive_group(required=True)
        who.add_argument("--agent", metavar="WEBID")
        who.add_argument("--public", action="store_true", help="everyone")
        who.add_argument("--authenticated", action="store_true", help="anyone signed in")
        who.add_argument("--group", metavar="URL", help="a vcard:Group document")
        q.add_argument(
            "--modes",
            required=name == "grant",
            help="comma-separated: read, append, write, control",
        )
        if name == "grant":
            q.add_argument(
                "--no-inherit", action="store_true", help="containers: not for the resources inside"
            )
    p = command("export", "save a pod or container (RDF, files, ACLs, metadata) to an archive")
    p.add_argument("url")
    p.add_argument("archive", help="a .tar or .tar.gz file to write")
    p = command("import", "fill a container from an archive made by `pod export`")
    p.add_argument("archive")
    p.add_argument("url")
    storage_help = "the storage root (default: your first storage)"
    p = command("consent", "list access requests and consents to your pod; decide on them")
    consent = p.add_subparsers(
        dest="consent_command", required=True, metavar="list|show|approve|deny|withdraw"
    )
    for name, text in (
        ("list", "list consent records (oldest request first)"),
        ("show", "show one consent record"),
        ("approve", "approve a request, as asked or narrowed"),
        ("deny", "refuse a request"),
        ("withdraw", "withdraw a consent: its access ends at once"),
    ):
        q = consent.add_parser(name, help=text, description=text, parents=[common])
        q.add_argument("--storage", metavar="URL", help=storage_help)
        if name == "list":
            q.add_argument("--status", help="requested, given, refused, withdrawn or expired")
            continue
        q.add_argument("id", help="the record's id (or its URL)")
        if name == "approve":
            q.add_argument(
                "--target",
                action="append",
                metavar="URL",
                help="grant on this resource only (repeat; default: all requested)",
            )
            q.add_argument(
                "--mode",
                action="append",
                metavar="MODE",
                help="grant this mode only (repeat: read, append, write, control)",
            )
            q.add_argument(
                "--until", metavar="DATE", help="end earlier than asked (2027-03-31, 90d)"
            )
    p = command("request-access", "ask a pod's owner for access (as an organisation or app)")
    p.add_argument("owner", metavar="OWNER_WEBID")
    p.add_argument("--target", action="append", required=True, metavar="URL", help="repeatable")
    p.add_argument(
        "--mode", action="append", required=True, help="read, append, write (repeatable)"
    )
    p.add_argument("--purpose", action="append", required=True, metavar="IRI")
    p.add_argument("--until", required=True, metavar="DATE", help="2027-03-31, or 90d")
    p.add_argument("--data", action="append", metavar="IRI", help="a data category (repeatable)")
    p.add_argument("--note", help="a word for the owner")
    p.add_argument("--storage", metavar="URL", help="the owner's storage (default: from the WebID)")
    p = command("query", "ask a pod a SPARQL query (over what you may read there)")
    p.add_argument("file", metavar="FILE.rq", help="the query ('-': stdin)")
    p.add_argument("--storage", metavar="URL", help=storage_help)
    p = command("audit", "read your pod's audit log (newest first)")
    p.add_argument("--agent", metavar="WEBID")
    p.add_argument("--resource", metavar="URL", help="this URL and what is below it")
    p.add_argument("--since", metavar="DATE")
    p.add_argument("--until", metavar="DATE")
    p.add_argument("--outcome", help="allowed, refused, or an HTTP status")
    p.add_argument("--limit", type=int, metavar="N")
    p.add_argument("--verify", action="store_true", help="re-check the log's hash chain (exit 8)")
    p.add_argument("--storage", metavar="URL", help=storage_help)
    return parser


async def _run(args: argparse.Namespace, ui: Ui, transport: Transport | None = None) -> int:
    store = ProfileStore(args.config_dir) if getattr(args, "config_dir", None) else ProfileStore()
    pod = PodClient.from_profile(args.profile, store=store, transport=transport)
    async with pod:
        return await COMMANDS[args.command](pod, args, ui)


def main(
    argv: Sequence[str] | None = None,
    *,
    open_browser: OpenBrowser | None = None,
    stdout: IO[str] | None = None,
    stderr: IO[str] | None = None,
    transport: Transport | None = None,
) -> int:
    """Run ``pod`` with ``argv``; returns the exit code. ``open_browser`` replaces the
    system browser for ``login`` (tests drive the sign-in pages with it); ``transport``
    the HTTP layer (tests answer with a MockTransport)."""
    out, err = stdout or sys.stdout, stderr or sys.stderr
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    args.json = getattr(args, "json", False)
    args.quiet = getattr(args, "quiet", False)
    args.profile = getattr(args, "profile", None) or os.environ.get("POD_PROFILE") or "default"
    args.open_browser = open_browser or _browser_for(err)
    ui = Ui(args.json, args.quiet, out, err)
    try:
        return asyncio.run(_run(args, ui, transport))
    except UsageError as exc:
        return _fail(ui, exc, EXIT_USAGE)
    except errors.PodClientError as exc:
        return _fail(ui, exc, exit_code(exc))
    except KeyboardInterrupt:
        err.write("pod: interrupted\n")
        return EXIT_INTERRUPTED
    except (OSError, ValueError) as exc:  # local files, bad values
        return _fail(ui, exc, EXIT_ERROR)


def _fail(ui: Ui, exc: BaseException, code: int) -> int:
    ui.err.write(f"pod: {exc}\n")
    if ui.json:
        data: dict[str, Any] = {"type": type(exc).__name__, "message": str(exc), "exit": code}
        if isinstance(exc, errors.PodClientError):
            data.update(
                message=exc.message,
                status=exc.status,
                url=exc.url,
                method=exc.method,
                hint=exc.hint,
            )
        ui.out.write(json.dumps({"error": data}, indent=2) + "\n")
    return code


def _browser_for(err: IO[str]) -> OpenBrowser:
    def show(url: str) -> Any:
        import webbrowser

        err.write(f"Sign in in your browser. If it did not open, visit:\n  {url}\n")
        err.flush()

        async def opening() -> None:
            await asyncio.to_thread(webbrowser.open, url)
            await asyncio.Event().wait()  # the loopback redirect ends the wait

        return opening()

    return show


if __name__ == "__main__":
    sys.exit(main())
