"""Server settings: one frozen value built from defaults < TOML file < env vars < flags.

Every subcommand reads the same settings, so a host configures a server once
(``--config``/``POD_CONFIG``) and ``serve``, ``user ...`` and later commands agree.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pod_server.ldp import budget
from pod_server.storage.pg_url import split_schema

ENV_PREFIX = "POD_"
MAX_WORKERS = 64


class SettingsError(ValueError):
    """A setting has a value the server cannot use; the message says which and why."""


class StartupError(SettingsError):
    """Well-formed settings this machine refuses: a port taken, a root that cannot be
    written, a database that cannot be reached, a storage made for another base URL."""


@dataclass(frozen=True)
class Settings:
    root: Path = Path("./data")
    storage: str = ""  # "" or file:...: files under root; postgresql://... : PostgreSQL
    host: str = "127.0.0.1"
    port: int = 3000
    base_url: str = ""  # public URL; empty means http://HOST:PORT/
    max_body_size: int = 1024**3  # bytes accepted for any request body
    # RDF bodies are parsed in memory, and rdflib parsing is slow on some input: keep it modest.
    max_rdf_size: int = 4 * 1024**2
    # What one request's processing may cost (see pod_server/ldp/budget.py and the README).
    max_nesting: int = budget.DEFAULT_MAX_NESTING  # brackets, JSON or XML levels in a body
    max_solutions: int = budget.DEFAULT_MAX_SOLUTIONS  # solutions of one PATCH where clause
    work_timeout: int = budget.DEFAULT_WORK_SECONDS  # seconds per CPU-heavy step of a request
    heavy_jobs: int = budget.DEFAULT_HEAVY_JOBS  # such steps at once per process; then a queue
    # Large validated Turtle checked in heavy_jobs worker processes (another core), not threads
    validation_processes: bool = True
    log_level: str = "info"
    open: bool = False  # seed a root ACL granting everyone everything: local development only
    owner: str = ""  # WebID granted Control of a fresh storage root
    # The operators' WebIDs (the operator pages): separated by spaces or commas; in TOML
    # also a list of strings; --admin may be given more than once.
    admin: str = ""
    allow_bearer: bool = False  # accept plain Bearer tokens (no DPoP binding): off by default
    quota: int = 0  # default bytes per storage (pod); 0 means no limit
    multiuser: bool = False  # pods at BASE/NAME/ for accounts, instead of one storage at BASE
    signup: bool = True  # the sign-up page, with the multi-user layout
    # Where copies of the vocabulary documents are published (links, and the IRIs accepted
    # for them besides the canonical ones); empty: BASE/vocab/, served here. Never the terms.
    vocab_base: str = ""
    workers: int = 1  # server processes sharing the port (SO_REUSEPORT) and the storage
    # DPoP jti replay cache: "memory" (this process only), "shared" (the state store, so
    # every process and host refuses a proof any of them accepted), "auto": shared when
    # there are several workers or the storage is PostgreSQL (other hosts may share it).
    replay_cache: str = "auto"
    # SPARQL endpoint: "" (default) no entailment; "rdfs": subclass/subproperty closure
    # over the vocabularies (pod_server/query/entailment.py).
    query_entailment: str = ""
    # Access log in common log format plus the duration in ms: "" off, "-" stderr, else a file.
    access_log: str = ""
    # Notifications (pod_server/notify/config.py says what each does); env POD_NOTIFY_*.
    notify_queue_size: int = 256
    notify_send_timeout: float = 10.0
    notify_max_lifetime: float = 7 * 24 * 3600.0
    notify_connect_timeout: float = 300.0
    notify_max_channels_per_agent: int = 2000
    notify_webhook_attempts: int = 5
    notify_webhook_backoff: float = 1.0
    notify_webhook_backoff_max: float = 60.0
    notify_webhook_max_failures: int = 5
    notify_webhook_private_targets: bool | None = None  # None: only on a loopback server
    notify_poll_interval: float = 0.02
    notify_event_retention: float = 600.0
    notify_legacy_websocket: bool = True
    # Seconds between sweeps that record ended consents as expired and remove their rules
    # (access control already refuses an ended grant; this tidies ACLs and records).
    consent_sweep_seconds: float = 60.0
    # Audit logs (pod_server/audit): days an entry is kept (0: forever), and how many
    # entries a process appends to a log between two signed checkpoints (0: only the
    # periodic ones).
    audit: bool = True  # off only to measure what the audit log costs (bench/audit_bench.py)
    audit_retention_days: int = 0
    audit_checkpoint_every: int = 1000
    config: Path | None = field(default=None, compare=False)

    @property
    def public_base(self) -> str:
        """The base URL with exactly one trailing slash."""
        if self.base_url:
            return self.base_url.rstrip("/") + "/"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    @property
    def admins(self) -> frozenset[str]:
        return frozenset(admin_list(self.admin))

    @property
    def on_postgresql(self) -> bool:
        return self.storage.startswith(("postgresql://", "postgres://"))

    @property
    def postgresql(self) -> tuple[str, str | None]:
        """The driver's DSN and our schema (None: the default) of a postgresql:// storage."""
        return split_schema(self.storage)

    @property
    def shared_replay_cache(self) -> bool:
        if self.replay_cache == "auto":
            return self.workers > 1 or self.on_postgresql
        return self.replay_cache == "shared"

    @property
    def vocab_iri_base(self) -> str:
        return self.vocab_base or self.public_base + "vocab/"

    @property
    def base_path(self) -> str:
        """The path part of the public base URL, e.g. ``/`` or ``/pods/`` behind a proxy."""
        return urlsplit(self.public_base).path or "/"


def _convert(name: str, raw: Any, kind: Any, variable: str = "") -> Any:
    """Coerce a TOML/env/flag value to the field's type, with a clear error (naming the
    environment ``variable`` it came from, if any)."""
    try:
        if kind in ("bool", "bool | None", bool):
            return _boolean(raw)
        if kind in ("int", int):
            return int(raw)
        if kind in ("float", float):
            return float(raw)
        if kind in ("Path", "Path | None", Path):
            return Path(str(raw)).expanduser()
        return str(raw)
    except (TypeError, ValueError):
        where = f" ({variable})" if variable else ""
        raise SettingsError(f"setting {name!r}{where}: cannot use {raw!r}") from None


def admin_list(raw: str) -> list[str]:
    """The WebIDs of an ``admin`` setting (spaces or commas between them)."""
    return [w for w in raw.replace(",", " ").split() if w]


def _boolean(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError(text)


_TOML_TYPES: dict[str, tuple[type, ...]] = {
    "bool": (bool,),
    "bool | None": (bool,),
    "int": (int,),
    "float": (int, float),
    "str": (str,),
}


def _check_toml_type(name: str, raw: Any, kind: Any, source: str) -> None:
    """A TOML value has a type of its own: ``port = "80"`` or ``open = 1`` is a mistake to
    report, not to coerce (env vars and flags are text and are converted instead)."""
    wanted = _TOML_TYPES.get(str(kind), (str,))  # Path settings are strings in TOML
    if (isinstance(raw, bool) and bool not in wanted) or not isinstance(raw, wanted):
        labels = {bool: "true or false", int: "a whole number", float: "a number"}
        label = labels.get(wanted[-1], "a string")
        raise SettingsError(f"setting {name!r} in {source} must be {label}, not {raw!r}")


def _apply(
    base: Settings, values: Mapping[str, Any], source: str, *, typed: bool = False
) -> Settings:
    known = {f.name: f.type for f in fields(Settings)}
    changes: dict[str, Any] = {}
    for key, raw in values.items():
        name = key.replace("-", "_")
        if name not in known or (typed and name == "config"):
            raise SettingsError(f"unknown setting {key!r} in {source}")
        if name == "admin" and isinstance(raw, list | tuple):  # TOML list, repeated --admin
            if not all(isinstance(w, str) for w in raw):
                raise SettingsError(f"setting 'admin' in {source} must be WebIDs (strings)")
            raw = " ".join(raw)
        if raw is not None:
            if typed:
                _check_toml_type(name, raw, known[name], source)
            variable = ENV_PREFIX + name.upper() if source == "environment" else ""
            changes[name] = _convert(name, raw, known[name], variable)
    return replace(base, **changes)


def _env_values(env: Mapping[str, str], prefix: str = "") -> dict[str, str]:
    names = {f.name for f in fields(Settings) if f.name.startswith(prefix)}
    return {
        n: env[ENV_PREFIX + n.upper()] for n in names if env.get(ENV_PREFIX + n.upper(), "") != ""
    }


def with_env(settings: Settings, env: Mapping[str, str], *, prefix: str = "") -> Settings:
    """``settings`` with the ``POD_<NAME>`` variables of ``env`` whose names start with
    ``prefix`` applied (servers that tests start in-process read their environment so)."""
    return validate(_apply(settings, _env_values(env, prefix), "environment"))


def _toml_values(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise SettingsError(f"cannot read config file {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"config file {path} is not valid TOML: {exc}") from None
    # Accept either top-level keys or a [server] table.
    tables = [k for k, v in data.items() if isinstance(v, dict) and k != "server"]
    if tables:  # a misspelt [server] would otherwise be ignored without a word
        raise SettingsError(f"unknown table [{tables[0]}] in {path}; settings go in [server]")
    server = data.get("server", {})
    top = {k: v for k, v in data.items() if not isinstance(v, dict)}
    return {**top, **server}


def load(flags: Mapping[str, Any], env: Mapping[str, str] | None = None) -> Settings:
    """Build settings from parsed command-line ``flags`` (None = not given) and ``env``."""
    env = os.environ if env is None else env
    env_values = _env_values(env)
    config = flags.get("config") or env_values.get("config")
    settings = Settings()
    if config:
        settings = _apply(settings, _toml_values(Path(config)), str(config), typed=True)
        settings = replace(settings, config=Path(config))
    settings = _apply(settings, env_values, "environment")
    settings = _apply(settings, flags, "command line")
    return validate(settings)


def validate(settings: Settings) -> Settings:
    if not 0 < settings.port < 65536:
        raise SettingsError(f"port {settings.port} is out of range 1-65535")
    if settings.storage and not settings.storage.startswith(
        ("postgresql://", "postgres://", "file:")
    ):
        raise SettingsError("storage must be a postgresql:// URL or file: (the default)")
    if settings.on_postgresql:
        try:
            split_schema(settings.storage)
        except ValueError as exc:
            raise SettingsError(f"storage URL: {exc}") from None
    if not 1 <= settings.workers <= MAX_WORKERS:
        raise SettingsError(f"workers must be between 1 and {MAX_WORKERS}")
    if settings.query_entailment not in ("", "rdfs"):
        raise SettingsError(
            f'query_entailment must be "" or "rdfs", not {settings.query_entailment!r}'
        )
    if settings.replay_cache not in ("auto", "memory", "shared"):
        raise SettingsError("replay cache must be auto, memory or shared")
    if settings.replay_cache == "memory" and settings.workers > 1:
        # Each worker would remember only its own proofs: one could be replayed on another.
        raise SettingsError("replay cache memory cannot serve several workers; use shared")
    if settings.quota < 0:
        raise SettingsError("quota must be 0 (no limit) or a number of bytes")
    if settings.max_body_size <= 0 or settings.max_rdf_size <= 0:
        raise SettingsError("size limits must be positive")
    work = ("max_nesting", "max_solutions", "work_timeout", "heavy_jobs")
    for name in work:
        if getattr(settings, name) <= 0:
            raise SettingsError(f"{name.replace('_', ' ')} must be positive")
    notify_numbers = [f.name for f in fields(Settings) if f.type in ("int", "float")]
    for name in notify_numbers:
        if name.startswith("notify_") and not getattr(settings, name) > 0:  # NaN too
            raise SettingsError(f"{name.replace('_', ' ')} must be positive")
    if not settings.consent_sweep_seconds > 0:  # NaN too
        raise SettingsError("consent sweep seconds must be positive")
    if settings.audit_retention_days < 0 or settings.audit_checkpoint_every < 0:
        raise SettingsError("audit retention days and checkpoint every must be 0 or more")
    if settings.owner and urlsplit(settings.owner).scheme not in ("http", "https"):
        raise SettingsError(f"owner {settings.owner!r} must be a WebID (an http(s) URL)")
    for admin in admin_list(settings.admin):
        if urlsplit(admin).scheme not in ("http", "https"):
            raise SettingsError(f"admin {admin!r} must be a WebID (an http(s) URL)")
    if settings.vocab_base and (
        urlsplit(settings.vocab_base).scheme not in ("http", "https")
        or not settings.vocab_base.endswith("/")
    ):
        raise SettingsError("vocab base must be an absolute http(s) IRI ending in '/'")
    if settings.base_url:
        parts = urlsplit(settings.base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise SettingsError(f"base URL {settings.base_url!r} must be an absolute http(s) URL")
        if parts.query or parts.fragment:
            raise SettingsError("base URL must not have a query or fragment")
    return settings
