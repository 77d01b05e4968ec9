"""The Flask application factory: one store, one configuration, three blueprints.

>>> from pathlib import Path
>>> ServerConfig.from_settings(Path("s"), environ={"CKG_QUERY_TIMEOUT": "5", "CKG_SERVICE_ALLOWLIST": "http://a.org/sparql"})
ServerConfig(store=PosixPath('s'), query_timeout=5.0, max_rows=10000, service_allowlist=('http://a.org/sparql',), service_max_rows=100000, service_batch=200, update_token=None, cors_origin='*', engines=2, max_query_bytes=1000000, query_memory_mb=None, queue_wait=2.0, sparql_backend=None)
>>> ServerConfig.from_settings(Path("s"), environ={"CKG_MAX_ROWS": "many"})
Traceback (most recent call last):
...
ValueError: CKG_MAX_ROWS must be a positive integer, got 'many'
"""

from __future__ import annotations

import atexit
import dataclasses
import json
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask, Response, request
from werkzeug.exceptions import BadRequest, HTTPException

from ckg.server import federation, guard, sandbox
from ckg.server.engine import EngineBusy, EnginePool, JobFailed, QueryTimeout
from ckg.server.guard import parse_allowlist
from ckg.settings import SETTINGS, get
from ckg.store import locate

EXPOSED_HEADERS = "X-CKG-Truncated, X-CKG-Row-Limit, X-CKG-Rows, Warning, Content-Disposition, Retry-After"


@dataclass(frozen=True)
class ServerConfig:
    """The endpoint's limits and switches (their settings are declared in :mod:`ckg.settings`)."""

    store: Path
    query_timeout: float = 30.0
    max_rows: int = 10000
    service_allowlist: tuple[str, ...] = ()
    service_max_rows: int = 100000
    service_batch: int = 200
    update_token: str | None = None
    cors_origin: str = "*"
    engines: int = 2
    max_query_bytes: int = 1_000_000
    query_memory_mb: int | None = None
    queue_wait: float = 2.0
    sparql_backend: str | None = None
    """A SPARQL endpoint's URL: queries are sent there instead of the local engines (:mod:`ckg.server.remote`)."""

    @classmethod
    def from_settings(cls, store: Path, environ: Mapping[str, str] | None = None, **overrides: Any) -> ServerConfig:
        """The configuration from the settings (environment variables), then ``overrides``."""

        def number(name: str, kind=int):
            raw = get(name, environ)
            try:
                value = kind(raw)
            except (TypeError, ValueError):
                value = 0
            if not value > 0:
                noun = "a positive integer" if kind is int else "a positive number"
                raise ValueError(f"{SETTINGS[name].env} must be {noun}, got {raw!r}")
            return value

        values = {
            "store": Path(store),
            "query_timeout": number("query_timeout", float),
            "max_rows": number("max_rows"),
            "service_allowlist": parse_allowlist(get("service_allowlist", environ)),
            "service_max_rows": number("service_max_rows"),
            "service_batch": number("service_batch"),
            "update_token": get("update_token", environ) or None,
            "cors_origin": get("cors_origin", environ),
            "engines": number("threads"),
            "max_query_bytes": number("max_query_bytes"),
            "query_memory_mb": number("query_memory") if get("query_memory", environ) else None,
            "queue_wait": number("queue_wait", float),
            "sparql_backend": get("sparql_backend", environ) or None,
        }
        for key, value in overrides.items():
            if value is not None:
                values[key] = parse_allowlist(value) if key == "service_allowlist" else value
        return cls(**values)

    def public(self) -> dict[str, Any]:
        """The configuration without its secret (for /-/about)."""
        out = dataclasses.asdict(self)
        out["store"] = str(self.store)
        out["service_allowlist"] = list(self.service_allowlist)
        out["update_token"] = None
        out["updates_enabled"] = self.update_token is not None
        return out


class CkgServer:
    """What the blueprints share: the configuration and the pool of query processes."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self._pool: EnginePool | None = None
        self._pid = os.getpid()
        self.sandboxed, self.sandbox_note = sandbox.available()

    @property
    def pool(self) -> EnginePool:
        if self._pool is None or self._pid != os.getpid():  # a forked worker starts its own
            self._pid = os.getpid()
            if self.config.sparql_backend:  # the jobs send SPARQL to the backend (ckg.server.remote)
                from ckg.server.remote import RemoteBackend

                self._pool = RemoteBackend(self.config.sparql_backend, self.config.store, size=self.config.engines,
                                           max_wait=self.config.queue_wait)
                return self._pool
            self._pool = EnginePool({"store": str(self.config.store), "allowlist": list(self.config.service_allowlist),
                                     "updates": self.config.update_token is not None,
                                     "memory_mb": self.config.query_memory_mb}, size=self.config.engines,
                                    max_wait=self.config.queue_wait)
        return self._pool

    def run(self, op: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """Run a job in a query process, at most the query timeout in all; a query's or update's
        SERVICE clauses are evaluated here first (:meth:`federate`)."""
        params = dict(params or {})
        deadline = time.monotonic() + self.config.query_timeout
        calls = federation.Calls()
        if op in ("query", "update"):
            dataset = {k: params[k] for k in ("default_graphs", "named_graphs") if params.get(k)}
            params[op] = self.federate(params[op], update=(op == "update"), base_iri=params.get("base_iri"),
                                       deadline=deadline, calls=calls, dataset=dataset)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise QueryTimeout(self.config.query_timeout)
        reply = self.pool.run(op, params, self.config.query_timeout, deadline=deadline)  # waiting counts too
        if calls.requests or calls.cached or calls.bind_joins:
            reply = {**reply, "service": dataclasses.asdict(calls)}
        return reply

    def federate(self, text: str, *, update: bool, base_iri: str | None, deadline: float,
                 calls: federation.Calls | None = None, dataset: dict[str, Any] | None = None) -> str:
        """The text with its SERVICE clauses answered (:mod:`ckg.server.federation`, bind joins
        probing this store on the request's dataset); where the query processes cannot have their
        network closed, any mention of SERVICE or LOAD is refused."""
        from ckg.sparql import QueryTooDeep, check_depth

        try:
            check_depth(text, "update" if update else "query")  # before any call for a text the engine refuses
            if not self.sandboxed:
                guard.refuse_network_keywords(text)
                return text
            return federation.prepare(text, self.config.service_allowlist, update=update, base_iri=base_iri,
                                      deadline=deadline, max_rows=self.config.service_max_rows,
                                      probe=lambda probe, until: self._probe(probe, until, base_iri, dataset or {}),
                                      calls=calls, batch=self.config.service_batch)
        except QueryTooDeep as exc:
            raise JobFailed(400, str(exc)) from None
        except (guard.GuardError, federation.FederationError) as exc:
            raise JobFailed(exc.status, str(exc)) from None

    def _probe(self, text: str, deadline: float, base_iri: str | None, dataset: dict[str, Any]) -> dict[str, Any] | None:
        """A bind join's probe (:mod:`ckg.server.bindjoin`) run in a query process: its SPARQL JSON
        results, or None when they pass federation.BIND_JOIN_MAX_ROWS rows or it fails (the clause
        is then sent whole)."""
        formats = {"solutions": ("json", "application/sparql-results+json"), "graph": None}
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        try:
            reply = self.pool.run("query", {"query": text, "formats": formats, "base_iri": base_iri, **dataset,
                                            "max_rows": federation.BIND_JOIN_MAX_ROWS},
                                  remaining, deadline=deadline)
        except (JobFailed, QueryTimeout, EngineBusy):  # an optimisation: the clause is then asked whole
            return None
        if reply.get("truncated"):
            return None
        return json.loads(reply["body"])

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None


def create_app(store_path: Path | str, config: Mapping[str, Any] | ServerConfig | None = None) -> Flask:
    """The Flask application serving the store at ``store_path``.

    ``config`` is a :class:`ServerConfig` or a mapping: its keys that name a ServerConfig field
    (``query_timeout``, ``max_rows``, ``service_allowlist``, ``update_token``, ``cors_origin``,
    ``engines``, ``max_query_bytes``, ``query_memory_mb``, ``queue_wait``, ``sparql_backend``) override the settings; other keys go to ``app.config``
    (``TESTING``, ...). The query processes start at once (call ``app.extensions["ckg"].close()``
    to stop them; they also stop when this process exits).
    """
    store_path = Path(store_path)
    locate(store_path)  # a StoreError when it holds no store; first clears what an interrupted write left
    flask_config: dict[str, Any] = {}
    if isinstance(config, ServerConfig):
        server_config = dataclasses.replace(config, store=store_path)
    else:
        fields = {f.name for f in dataclasses.fields(ServerConfig)}
        overrides = {k: v for k, v in (config or {}).items() if k in fields and k != "store"}
        flask_config = {k: v for k, v in (config or {}).items() if k not in fields}
        server_config = ServerConfig.from_settings(store_path, **overrides)
    if server_config.sparql_backend:  # nothing is written through the endpoint: the backend is loaded from the export
        from ckg.server.remote import Backend

        Backend(server_config.sparql_backend)  # a ValueError for what is no http(s) URL
        server_config = dataclasses.replace(server_config, update_token=None)

    app = Flask(__name__, static_folder="static", template_folder="templates")
    app.config.update(JSON_SORT_KEYS=False, MAX_CONTENT_LENGTH=server_config.max_query_bytes)
    app.config.update(flask_config)
    app.json.sort_keys = False
    server = CkgServer(server_config)
    app.extensions["ckg"] = server
    atexit.register(server.close)
    server.pool  # start the query processes now: they open the store while the first request is on its way

    from ckg.server import api, linked, pages, protocol, search_routes

    app.register_blueprint(protocol.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(linked.bp)
    app.register_blueprint(search_routes.bp)

    @app.before_request
    def well_formed_parameters() -> None:
        """A query string or form whose percent-encoding is malformed or not UTF-8 gets 400 on every
        path (werkzeug would read it with replacement characters and run what the client never sent)."""
        from ckg.server.protocol import encoding_problem

        problem = encoding_problem(request.query_string, "query string")
        if problem is None and request.method == "POST" and request.mimetype == "application/x-www-form-urlencoded":
            problem = encoding_problem(request.get_data(cache=True), "form")  # the form is parsed from the cache
        if problem is not None:
            raise BadRequest(problem)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if exc.code == 413:
            message = (f"the request is larger than this endpoint's limit of {server_config.max_query_bytes} bytes "
                       "(CKG_MAX_QUERY_BYTES)")
        else:
            message = exc.description or exc.name
        # the exception's own headers (a 405's Allow, sorted: werkzeug's order varies), not its HTML Content-Type
        headers = [(k, ", ".join(sorted(m.strip() for m in v.split(","))) if k.lower() == "allow" else v)
                   for k, v in exc.get_headers() if k.lower() != "content-type"]
        if request.path == "/sparql":
            return Response(message + "\n", status=exc.code, content_type="text/plain; charset=utf-8", headers=headers)
        if request.path.startswith("/api") or request.path.endswith(".json"):
            return {"error": message, "status": exc.code}, exc.code, headers
        return exc

    @app.after_request
    def cors(response: Response) -> Response:
        if request.path == "/sparql" or request.path.startswith(("/api", "/papers/", "/-/")):
            response.headers["Access-Control-Allow-Origin"] = server_config.cors_origin
            response.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
            if server_config.cors_origin != "*":
                response.vary.add("Origin")
            if request.method == "OPTIONS":  # a CORS preflight (Flask answers OPTIONS itself)
                response.status_code = 204
                del response.headers["Content-Type"]
                allowed = [m.strip() for m in response.headers.get("Allow", "GET, POST, OPTIONS").split(",")]
                response.headers["Access-Control-Allow-Methods"] = ", ".join(sorted(allowed))
                response.headers["Access-Control-Allow-Headers"] = request.headers.get(
                    "Access-Control-Request-Headers", "Accept, Content-Type, Authorization")
                response.headers["Access-Control-Max-Age"] = "86400"
        return response

    return app
