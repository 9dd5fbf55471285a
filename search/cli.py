"""The ``newsearch`` command: index, serve, search. It parses arguments and prints;
the work is done by the library."""

from __future__ import annotations

import json
import os
import sys
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

import click

from search.config import resolve_index_dir
from search.errors import NewsearchError
from search.searcher import SORTS, ArticleIndex, SearchRequest

# A sentence query: it loads the sentence model as well as the tables.
WARM_UP_QUERY = "what happened to the harbour workers and their union"
INDEX_OPTION = click.option(
    "--index",
    "index_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Index folder (default: $NEWSEARCH_INDEX, else ./index).",
)


def fail(error: NewsearchError) -> None:
    raise click.ClickException(error.message)


@click.group()
@click.version_option(package_name="newsearch")
def main() -> None:
    """Search engine over news articles: index files, then search them."""


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@INDEX_OPTION
@click.option("--rebuild", is_flag=True, help="Start the index afresh instead of updating it.")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=os.cpu_count() or 1,
    show_default=True,
    help="Processes for cleaning, language, dates, entities and semantic vectors.",
)
@click.option("--no-entities", is_flag=True, help="Skip named-entity recognition (faster).")
@click.option(
    "--no-semantic",
    is_flag=True,
    help="Skip semantic vectors (faster; long queries then rank by words alone).",
)
@click.option(
    "--verbose", "-v", is_flag=True, help="Print each phase of the run to stderr as it starts."
)
def index(
    paths: tuple[Path, ...],
    index_dir: Path | None,
    rebuild: bool,
    workers: int,
    no_entities: bool,
    no_semantic: bool,
    verbose: bool,
) -> None:
    """Index the articles in PATHS (files or folders, read recursively)."""
    from tqdm import tqdm

    from search.indexer import index_paths

    target = resolve_index_dir(index_dir)
    with tqdm(unit=" records", disable=None, file=sys.stderr, leave=False) as bar:
        try:
            summary = index_paths(
                paths,
                target,
                rebuild=rebuild,
                workers=workers,
                entities=not no_entities,
                semantic=not no_semantic,
                on_record=bar.update,
                on_phase=print_phase if verbose else None,
            )
        except NewsearchError as error:
            fail(error)
    for note in summary.recovered:
        click.echo(f"Note: {note}", err=True)
    if summary.rejected:
        click.echo(f"Rejected records and reasons: {summary.rejects_path}", err=True)
    click.echo(f"{summary.line()} in {summary.seconds:.1f}s")
    if summary.rejected:
        click.echo(summary.reasons_line())


def print_phase(name: str) -> None:
    """``phase: committing`` on stderr, flushed at once: a watcher can act on it."""
    print(f"phase: {name}", file=sys.stderr, flush=True)


@main.command()
@INDEX_OPTION
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--threads",
    default=4,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Threads per process: one searches at a time, the others answer everything else.",
)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 32),
    help="Server processes, each searching on its own core; each adds to memory.",
)
def serve(index_dir: Path | None, host: str, port: int, threads: int, workers: int) -> None:
    """Serve the search page and JSON API with a production WSGI server (Granian)."""
    from threadpoolctl import threadpool_limits

    from web import create_app, server

    target = resolve_index_dir(index_dir)
    app = create_app({"INDEX_DIR": str(target)})
    articles: ArticleIndex = app.extensions["article_index"]
    # The first sentence query loads the sentence model and the stop-word lists and
    # builds the app's per-generation tables (several seconds): paid before serving, not
    # in the first reader's search. Several workers share the pages of one warm-up here;
    # one worker warms up itself, so that this process, which only watches it, stays small.
    warm_up = partial(articles.search, SearchRequest(q=WARM_UP_QUERY))
    try:
        count = articles.count()
        if workers > 1:
            warm_up()
    except NewsearchError as error:
        fail(error)
    # One search runs at a time (search/admission.py), so a second BLAS thread only spins
    # beside it: half a core at 150 requests/s on the 24k index, for no more answers.
    threadpool_limits(limits=1, user_api="blas")
    try:
        address = server.bind_address(host, port)  # before saying "Serving"
    except server.ServerError as error:
        raise click.ClickException(str(error)) from None

    def warm_up_worker() -> None:
        try:
            warm_up()
        except NewsearchError as error:  # in the worker: its exit stops the server
            click.echo(f"Error: {error.message}", err=True)
            sys.exit(1)

    processes = f" in {workers} processes" if workers > 1 else ""
    click.echo(
        f"Serving {count} articles from {target} at http://{host}:{port}{processes}  (Ctrl-C stops)"
    )
    server.serve(app, address, port, workers, threads, None if workers > 1 else warm_up_worker)


def parse_day(_ctx: click.Context, param: click.Parameter, value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date in the form YYYY-MM-DD") from None


@main.command()
@click.argument("query")
@INDEX_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print the JSON the API returns.")
@click.option("--limit", default=10, show_default=True, type=click.IntRange(1, 100))
@click.option("--page", default=1, show_default=True, type=click.IntRange(1))
@click.option("--lang", default="", help="Only articles in this language (ISO 639-1 code).")
@click.option("--from", "date_from", callback=parse_day, help="Earliest date, YYYY-MM-DD.")
@click.option("--to", "date_to", callback=parse_day, help="Latest date, YYYY-MM-DD.")
@click.option("--entity", default="", help="Only articles mentioning this person, org or place.")
@click.option("--source", default="", help="Only articles from this source.")
@click.option("--sort", type=click.Choice(SORTS), default="relevance", show_default=True)
@click.option(
    "--no-collapse",
    is_flag=True,
    help="List every copy of a story instead of one hit per story.",
)
@click.option(
    "--recency",
    type=click.FloatRange(0.0, 1.0),
    default=0.0,
    show_default=True,
    help="How much newer articles are favoured: 0 relevance only, 0.5 balanced, 0.9 recent first.",
)
@click.option("--explain", is_flag=True, help="Show which fields and words each hit matched.")
def search(
    query: str,
    index_dir: Path | None,
    as_json: bool,
    limit: int,
    page: int,
    lang: str,
    date_from: date | None,
    date_to: date | None,
    entity: str,
    source: str,
    sort: str,
    no_collapse: bool,
    recency: float,
    explain: bool,
) -> None:
    """Search the index for QUERY and print the results."""
    request = SearchRequest(
        q=query,
        page=page,
        per_page=limit,
        lang=lang,
        date_from=date_from,
        date_to=date_to,
        entity=entity,
        source=source,
        sort=sort,
        collapse=not no_collapse,
        recency=recency,
        explain=explain,
    )
    try:
        response = ArticleIndex(resolve_index_dir(index_dir)).search(request)
    except NewsearchError as error:
        fail(error)
    if as_json:
        click.echo(json.dumps(response, ensure_ascii=False, indent=2))
        return
    total = response["total"]
    noun = "article matches" if total == 1 else "articles match"
    stories = response["stories"]
    grouped = f", {stories} stories" if response["collapse"] and stories < total else ""
    click.echo(f"{total} {noun}{grouped} ({response['took_ms']} ms)")
    parsed = response.get("parsed") or {}
    if parsed.get("dates"):
        click.echo(f"Showing articles {parsed['dates']} (read from {parsed['date_phrase']!r})")
    if response.get("notice"):
        click.echo(response["notice"])
    if response.get("suggestion"):
        suggested = response["suggestion"]
        click.echo(f"Did you mean: {suggested['query']}  ({suggested['total']} articles)")
    for number, hit in enumerate(response["results"], start=(page - 1) * limit + 1):
        meta = " · ".join(filter(None, [hit["date"] or "undated", hit["source"], hit["lang"]]))
        click.echo(f"\n{number}. {hit['headline']}\n   {meta}  [{hit['id']}]")
        click.echo("   " + plain_snippet(hit["snippet"]))
        if response["collapse"] and hit["versions"]:
            plural = "" if hit["versions"] == 1 else "s"
            click.echo(f"   + {hit['versions']} other version{plural} of this story")
        if "explain" in hit:
            click.echo("   why: " + explain_line(hit["explain"]))


@main.command()
@click.argument("article_id")
@INDEX_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print the JSON the API returns.")
@click.option("--limit", default=5, show_default=True, type=click.IntRange(1, 100))
def related(article_id: str, index_dir: Path | None, as_json: bool, limit: int) -> None:
    """More like ARTICLE_ID: related stories, and the other versions of its own story."""
    articles = ArticleIndex(resolve_index_dir(index_dir))
    try:
        response = {
            "id": article_id,
            "results": articles.related(article_id, limit=limit),
            "versions": articles.versions(article_id),
        }
    except NewsearchError as error:
        fail(error)
    if as_json:
        click.echo(json.dumps(response, ensure_ascii=False, indent=2))
        return
    for title, items in (
        ("Other versions", response["versions"]),
        ("Related", response["results"]),
    ):
        click.echo(f"{title}: {len(items) or 'none'}")
        for item in items:
            meta = " · ".join(
                filter(None, [item["date"] or "undated", item["source"], item["lang"]])
            )
            click.echo(f"  {item['headline']}\n    {meta}  [{item['id']}]")


def explain_line(explained: dict[str, Any]) -> str:
    """``body:harbour 62% · headline:harbour 38%``, and the recency factor if any."""
    parts = [
        f"{term['field']}:{term['term']} {round(term['share'] * 100)}%"
        for term in explained["terms"]
    ]
    if "recency_factor" in explained:
        parts.append(f"recency ×{explained['recency_factor']}")
    return " · ".join(parts) or "matches every article"


def plain_snippet(html_snippet: str) -> str:
    """The snippet for a terminal: marks shown in bold, HTML escapes undone."""
    from html import unescape

    text = html_snippet.replace("<mark>", "\x00").replace("</mark>", "\x01")
    text = unescape(text)
    if sys.stdout.isatty():
        return text.replace("\x00", "\033[1m").replace("\x01", "\033[0m")
    return text.replace("\x00", "").replace("\x01", "")
