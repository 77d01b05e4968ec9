"""ckg's SPARQL endpoint: the SPARQL 1.1 Protocol, extension functions, a JSON API and a query page.

- :func:`create_app` (``ckg.server.app``): the Flask application for one store, with one blueprint
  per concern (``protocol``: /sparql, ``api``: /api/..., ``pages``: the HTML pages).
- :mod:`ckg.server.engine`: every query runs in a child process that opens the store read-only
  and is killed when it runs past the timeout.
- :mod:`ckg.server.guard`: SERVICE clauses may only call endpoints on the allowlist.
- :mod:`ckg.server.functions`: the extension functions (also used by ``ckg query``).
- :mod:`ckg.server.serve`: ``ckg serve``, a gunicorn server with several workers.
- :mod:`ckg.server.remote`: ``ckg serve --sparql-backend URL``: the queries sent to another SPARQL
  endpoint (Virtuoso, QLever) loaded with the store's export, ckg's functions rewritten to stored values.

Importing this package does not import Flask; ``create_app`` does.
"""

from __future__ import annotations


def create_app(store_path, config=None):
    """The Flask application serving the store at ``store_path`` (see :func:`ckg.server.app.create_app`)."""
    from ckg.server.app import create_app as factory

    return factory(store_path, config)
