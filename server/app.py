"""The Flask application factory: one store, one configuration, three blueprints.

>>> from pathlib import Path
>>> ServerConfig.from_settings(Path("s"), environ={"CKG_QUERY_TIMEOUT": "5", "CKG_SERVICE_ALLOWLIST": "http://a.org/sparql"})
ServerConfig(store=PosixPath('s'), query_timeout=5.0, max_rows=10000, service_allowlist=('http://a.org/sparql',), update_token=None, cors_origin='*', engines=2, max_query_bytes=1000000, query_memory_mb=None)
>>> ServerConfig.from_settings(Path("s"), environ={"CKG_MAX_ROWS": "many"})
Traceback (most recent call last):
...
ValueError: CKG_MAX_ROWS must be a positive integer, got 'many'
"""

from __future__ import annotations

import atexit
import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from ckg.server.engine import EnginePool
from ckg.server.guard import parse_allowlist
from ckg.settings import SETTINGS, get
from ckg.store import StoreError, is_store

EXPOSED_HEADERS = "X-CKG-Truncated, X-CKG-Row-Limit, X-CKG-Rows, Warning, Content-Disposition"


@dataclass(frozen=True)
class ServerConfig:
    """The endpoint's limits and switches (their settings are declared in :mod:`ckg.settings`)."""

    store: Path
    query_timeout: float = 30.0
    max_rows: int = 10000
    service_allowlist: tuple[str, ...] = ()
    update_token: str | None = None
    cors_origin: str = "*"
    engines: int = 2
    max_query_bytes: int = 1_000_000
    query_memory_mb: int | None = None

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
            "update_token": get("update_token", environ) or None,
            "cors_origin": get("cors_origin", environ),
            "engines": number("threads"),
            "max_query_bytes": number("max_query_bytes"),
            "query_memory_mb": number("query_memory") if get("query_memory", environ) else None,
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

    @property
    def pool(self) -> EnginePool:
        if self._pool is None or self._pid != os.getpid():  # a forked worker starts its own
            self._pid = os.getpid()
            self._pool = EnginePool({"store": str(self.config.store), "allowlist": list(self.config.service_allowlist),
                                     "updates": self.config.update_token is not None,
                                     "memory_mb": self.config.query_memory_mb}, size=self.config.engines)
        return self._pool

    def run(self, op: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.pool.run(op, params or {}, self.config.query_timeout)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None


def create_app(store_path: Path | str, config: Mapping[str, Any] | ServerConfig | None = None) -> Flask:
    """The Flask application serving the store at ``store_path``.

    ``config`` is a :class:`ServerConfig` or a mapping: its keys that name a ServerConfig field
    (``query_timeout``, ``max_rows``, ``service_allowlist``, ``update_token``, ``cors_origin``,
    ``engines``, ``max_query_bytes``, ``query_memory_mb``) override the settings; other keys go to ``app.config``
    (``TESTING``, ...). The query processes start at once (call ``app.extensions["ckg"].close()``
    to stop them; they also stop when this process exits).
    """
    store_path = Path(store_path)
    if not is_store(store_path):
        raise StoreError(f"{store_path} is not a ckg store (no oxigraph/ folder); build one with `ckg build`")
    flask_config: dict[str, Any] = {}
    if isinstance(config, ServerConfig):
        server_config = dataclasses.replace(config, store=store_path)
    else:
        fields = {f.name for f in dataclasses.fields(ServerConfig)}
        overrides = {k: v for k, v in (config or {}).items() if k in fields and k != "store"}
        flask_config = {k: v for k, v in (config or {}).items() if k not in fields}
        server_config = ServerConfig.from_settings(store_path, **overrides)

    app = Flask(__name__, static_folder="static", template_folder="templates")
    app.config.update(JSON_SORT_KEYS=False, MAX_CONTENT_LENGTH=server_config.max_query_bytes)
    app.config.update(flask_config)
    app.json.sort_keys = False
    server = CkgServer(server_config)
    app.extensions["ckg"] = server
    atexit.register(server.close)
    server.pool  # start the query processes now: they open the store while the first request is on its way

    from ckg.server import api, pages, protocol

    app.register_blueprint(protocol.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(pages.bp)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if exc.code == 413:
            message = (f"the request is larger than this endpoint's limit of {server_config.max_query_bytes} bytes "
                       "(CKG_MAX_QUERY_BYTES)")
        else:
            message = exc.description or exc.name
        if request.path == "/sparql":
            return Response(message + "\n", status=exc.code, content_type="text/plain; charset=utf-8")
        if request.path.startswith("/api") or request.path.endswith(".json"):
            return {"error": message, "status": exc.code}, exc.code
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
