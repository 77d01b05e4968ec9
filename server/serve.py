"""``ckg serve``: the endpoint behind gunicorn, a production WSGI server, with several workers.

Each worker process builds its own application (no app is preloaded in the master), and each
application starts ``threads`` query processes (the queries it runs at once); it serves more
requests than that at once (:func:`ckg.server.engine.request_threads`), so that the requests
beyond wait briefly in the pool's queue, or get 503 at once, rather than in gunicorn's. Every
query process opens the store read-only. gunicorn's own worker timeout is set well above the
query timeout, which the query processes enforce themselves.

When the server is ready it prints one line with its URL (useful with ``--port 0``, which takes
any free port)::

    ckg serve: http://127.0.0.1:8000/ (SPARQL endpoint http://127.0.0.1:8000/sparql) serving STORE
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from ckg.server.app import ServerConfig
from ckg.server.engine import request_threads
from ckg.store import locate


def url_of(listener: Any) -> str:
    """The base URL of a gunicorn listener.

    >>> class L:  # a stand-in for gunicorn's TCPSocket
    ...     def getsockname(self): return ("::1", 8080, 0, 0)
    >>> url_of(L())
    'http://[::1]:8080/'
    """
    host, port = listener.getsockname()[:2]
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}/"


def options(host: str, port: int, workers: int, config: ServerConfig, access_log: str | None) -> dict[str, Any]:
    """gunicorn's settings for ``ckg serve``."""
    return {
        "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
        "workers": workers,
        "worker_class": "gthread",
        "threads": request_threads(config.engines),  # more than the query processes: see ckg.server.engine
        "timeout": int(config.query_timeout) + 30,
        "graceful_timeout": 10,
        "keepalive": 5,
        "limit_request_line": 8190,
        "preload_app": False,
        "accesslog": access_log,
        "errorlog": "-",
        "loglevel": "info",
        "proc_name": "ckg-serve",
        "control_socket_disable": True,  # gunicorn's control socket has one fixed path: two servers would clash
    }


class PortInUse(OSError):
    """The address to listen on is taken (gunicorn would retry it five times, a second each)."""


def check_free(host: str, port: int) -> None:
    """Raise :class:`PortInUse` when ``host:port`` cannot be listened on because something holds it.

    >>> import socket
    >>> with socket.socket() as held:
    ...     held.bind(("127.0.0.1", 0)); held.listen()
    ...     check_free("127.0.0.1", held.getsockname()[1])
    Traceback (most recent call last):
    ...
    ckg.server.serve.PortInUse: 127.0.0.1:... is in use by another program: stop it, or serve on another port (--port, or --port 0 for any free one)
    """
    import errno
    import socket

    if port == 0:
        return
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        return  # gunicorn says what is wrong with the host
    family, kind, proto, _name, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn binds: TIME_WAIT is no conflict
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise PortInUse(f"{host}:{port} is in use by another program: stop it, or serve on another port "
                                "(--port, or --port 0 for any free one)") from None
            return  # gunicorn reports other errors (no permission, no such address) itself


def serve(store: Path, *, host: str, port: int, workers: int, config: ServerConfig, access_log: str | None = None,
          echo=print) -> None:
    """Run the server until it is stopped (Ctrl-C or SIGTERM)."""
    from gunicorn.app.base import BaseApplication

    from ckg.server.app import create_app

    store = Path(store)
    locate(store)  # a StoreError when it holds no store; first clears what an interrupted write left
    if workers < 1:
        raise ValueError("--workers must be at least 1")
    check_free(host, port)
    settings = options(host, port, workers, config, access_log)

    def when_ready(server) -> None:
        base = url_of(server.LISTENERS[0])
        backend = f", SPARQL sent to {config.sparql_backend}" if config.sparql_backend else ""
        echo(f"ckg serve: {base} (SPARQL endpoint {base}sparql) serving {store}{backend}")
        sys.stdout.flush()

    class Application(BaseApplication):
        def load_config(self) -> None:
            for key, value in {**settings, "when_ready": when_ready}.items():
                self.cfg.set(key, value)

        def load(self):
            return create_app(store, config)

    Application().run()
