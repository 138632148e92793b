"""The ``joinedup`` command line. Commands parse arguments, call one function, and print.

Every ``JoinedupError`` becomes a one-line message on stderr and exit status 1; usage errors exit 2.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
from pathlib import Path

import click

from classifier.config import load_settings
from classifier.errors import DataError, InvalidInput, JoinedupError
from classifier.model.evaluation import format_report
from classifier.pipeline import Pipeline


class _Group(click.Group):
    """Turns the package's errors (and unreadable files) into one-line messages instead of tracebacks."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            # Whoever reads our output has gone (`joinedup themes | head`): stop quietly, with the status a
            # process killed by SIGPIPE has. Point stdout at /dev/null first so that the interpreter's last
            # flush of it does not fail again on the way out.
            with contextlib.suppress(OSError, ValueError):  # stdout may be no file at all (a test runner's)
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(128 + signal.SIGPIPE)
        except JoinedupError as exc:
            click.echo(f"joinedup: error: {exc.message}", err=True)
            sys.exit(1)
        except (OSError, UnicodeDecodeError) as exc:
            click.echo(f"joinedup: error: {exc}", err=True)
            sys.exit(1)
        except KeyboardInterrupt:
            click.echo("joinedup: interrupted", err=True)
            sys.exit(130)


@click.group(cls=_Group)
@click.option("--models-dir", type=click.Path(path_type=Path), envvar="JOINEDUP_MODELS_DIR", default=None,
              help="Where model versions live (default ./models).")
@click.option("--data-dir", type=click.Path(path_type=Path), envvar="JOINEDUP_DATA_DIR", default=None,
              help="Where the statement store and caches live (default ./data).")
@click.pass_context
def cli(ctx, models_dir, data_dir):
    """joinedup: tag and search statements on health and social care integration."""
    ctx.obj = Pipeline(load_settings(models_dir=models_dir, data_dir=data_dir))


def _read_input(source: str) -> str:
    if source == "-":
        data = sys.stdin.buffer.read()
    else:
        path = Path(source)
        if not path.is_file():
            raise DataError(f"no such file: {source}")
        data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{source} is not UTF-8 text (byte {exc.start})") from exc


@cli.command()
@click.option("--data", "data", type=click.Path(path_type=Path), default=None,
              help="Labelled JSONL file or directory (default training_data/documents).")
@click.option("--test", "test", type=click.Path(path_type=Path), default=None,
              help="Frozen test set (default training_data/test_documents.jsonl).")
@click.option("--no-activate", is_flag=True, help="Save the model without making it the active one.")
@click.option("--force", is_flag=True, help="Activate even if the evaluation gate would reject the model.")
@click.option("--seed", type=int, default=None, help="Random seed (default 13).")
@click.option("--if-missing", is_flag=True, help="Do nothing when a usable active model already exists.")
@click.option("--reuse-params", is_flag=True,
              help="Reuse the active model's parameters instead of choosing them again (a quicker retrain).")
@click.pass_obj
def train(pipe: Pipeline, data, test, no_activate, force, seed, if_missing, reuse_params):
    """Train a tagger on the shipped corpus plus stored labels, print its evaluation, save and activate it."""
    active = pipe.registry.active_version()
    if if_missing and active:
        try:
            # The configured embedder must match too: a model trained on another vector space cannot serve.
            pipe.registry.verify(active, embedder_name=pipe.embedder.name, dimension=pipe.embedder.dimension)
            click.echo(f"active model {active} present; not retraining")
            return
        except JoinedupError as exc:
            click.echo(f"active model {active} is not usable ({exc.message}); training a new one", err=True)
    result = pipe.train(force=force, activate=not no_activate, data=data, test=test, seed=seed,
                        select=not reuse_params, progress=lambda m: click.echo(f"... {m}", err=True))
    click.echo(format_training(result))
    if result.decision == "rejected":
        sys.exit(3)


def format_context(context: dict) -> list[str]:
    """The context-aware stage against paragraphs alone: overall, per register and per kind, CV and test."""
    if not context:
        return []
    lines = ["", "context-aware stage " + ("kept" if context.get("kept") else
                                          "NOT kept (in cross-validation, not fewer themeless tags at the same F1)")]
    if context.get("kept") and context.get("gate_threshold"):
        lines.append(f"  gate: in documents, a paragraph whose 'raises any theme' probability is under "
                     f"{context['gate_threshold']:.2f} gets no theme")
    if context.get("kept") and context.get("first_stage_kinds"):
        lines.append("  paragraphs of kind " + ", ".join(context["first_stage_kinds"])
                     + " keep their paragraph-alone themes (better in cross-validation)")
    for where in ("cv", "test"):
        part = context.get(where)
        if not part:
            continue
        ctx, alone = part["context"], part["context_free"]
        lines.append(f"  {'cross-validation (grouped by document)' if where == 'cv' else 'frozen test set'}: micro-F1 "
                     f"{alone['micro_f1']:.3f} alone -> {ctx['micro_f1']:.3f} in context, macro-F1 "
                     f"{alone['macro_f1']:.3f} -> {ctx['macro_f1']:.3f}, themeless tagged "
                     f"{1 - alone['themeless_kept_untagged']:.1%} -> {1 - ctx['themeless_kept_untagged']:.1%}")
        docs = part["breakdown"].get("document_level")
        if docs:
            lines.append(f"    documents ({docs['context']['n_examples']}): micro-F1 {docs['context_free']['micro_f1']:.3f} "
                         f"alone -> {docs['context']['micro_f1']:.3f} in context, macro-F1 "
                         f"{docs['context_free']['macro_f1']:.3f} -> {docs['context']['macro_f1']:.3f}")
        for axis, rows in part["breakdown"].items():
            if axis == "document_level":
                continue
            lines.append(f"    by {axis:<8} {'n':>5} {'micro alone':>12} {'in context':>11} {'themeless tagged':>17}")
            for key, row in rows.items():
                a, c = row["context_free"], row["context"]
                lines.append(f"      {key:<28.28} {c['n']:>5} {a['micro_f1']:>12.3f} {c['micro_f1']:>11.3f}"
                             f"   {a['themeless_tagged']:>6.1%} -> {c['themeless_tagged']:.1%}")
    return lines


def format_training(result) -> str:
    """The training report as text: model selection, CV and test tables, comparison and decision."""
    lines = ["model selection (cross-validated micro / macro F1):" if result.params_source == "selected" else
             "parameters reused from the active model (cross-validated micro / macro F1):"]
    for c in result.candidates:
        mark = " <- chosen" if c.params == result.params else ""
        lines.append(f"  {c.params}: {c.micro_f1:.3f} / {c.macro_f1:.3f}{mark}")
    lines += ["", format_report(result.cv, result.baseline_cv)]
    if result.test:
        lines += ["", format_report(result.test, result.baseline_test)]
    lines += format_context(result.context)
    for theme, why in result.skipped_themes.items():
        lines.append(f"not trained: {theme} ({why})")
    if result.comparison:
        c = result.comparison
        lines += ["", f"against the active model {c['active_version']} on the frozen test set: micro-F1 "
                      f"{c['active']['micro_f1']:.3f} -> {c['candidate']['micro_f1']:.3f} ({c['micro_f1_delta']:+.3f}), "
                      f"macro-F1 {c['active']['macro_f1']:.3f} -> {c['candidate']['macro_f1']:.3f} "
                      f"({c['macro_f1_delta']:+.3f})"]
        cvs = c.get("cross_validation") or {}
        if cvs.get("active") and cvs.get("candidate"):
            lines.append(f"  in cross-validation (each on its own training data): micro-F1 {cvs['active']['micro_f1']:.3f} -> "
                         f"{cvs['candidate']['micro_f1']:.3f}, macro-F1 {cvs['active']['macro_f1']:.3f} -> "
                         f"{cvs['candidate']['macro_f1']:.3f}")
        changed = [f"{t} {d['f1']:+.3f}" for t, d in c["per_theme"].items() if abs(d["f1"]) >= 0.005]
        if changed:
            lines.append("  F1 changes: " + ", ".join(changed))
    verdict = {"activated": "and activated", "saved": "(not activated)",
               "rejected": "but REJECTED by the evaluation gate (worse than the active model); use --force to activate"}
    lines += ["", f"saved model {result.version} {verdict[result.decision]} in {result.seconds:.0f}s"]
    return "\n".join(lines)


@cli.command()
@click.option("--data", "data", type=click.Path(path_type=Path), default=None,
              help="Labelled JSONL file (default training_data/test_documents.jsonl).")
@click.option("--model", "version", default=None, help="Model version (default: the active one).")
@click.pass_obj
def evaluate(pipe: Pipeline, data, version):
    """Score a model on a labelled JSONL file."""
    from classifier.model.dataset import load_labelled
    from classifier.model.training import document_layouts
    from classifier.model.evaluation import evaluate as score

    scorer = pipe.scorer(version)
    labelled = load_labelled(data or pipe.settings.test_path, pipe.codebook).without_boilerplate()
    cols = [pipe.codebook.ids.index(t) for t in scorer.theme_ids]
    y_true = labelled.label_matrix(pipe.codebook)[:, cols]
    theme_model = scorer.model.theme_model
    # Read as documents, as a user pastes them (lone paragraphs are documents of one).
    proba = theme_model.document_proba(labelled.texts, pipe.embedder.embed(labelled.texts), document_layouts(labelled))
    y_pred = (proba >= theme_model.document_thresholds).astype(int)
    report = score(f"model {scorer.version} on {Path(data).name if data else pipe.settings.test_path.name}", scorer.theme_ids,
                   y_true, y_pred)
    click.echo(format_report(report))


def _print_table(result) -> None:
    click.echo(f"model {result.model_version}")
    for p in result.paragraphs:
        themes = ", ".join(f"{t.id} {t.score:.2f}" for t in p.themes) or "(no theme)"
        snippet = p.text if len(p.text) <= 90 else p.text[:87] + "..."
        click.echo(f"\n[{p.index}] {snippet}\n    {themes}")
    click.echo("\ndocument: " + (", ".join(f"{d.id} ({len(d.paragraphs)})" for d in result.document) or "no themes"))


@cli.command()
@click.argument("source", default="-")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@click.option("--jsonl", "jsonl", type=click.Path(path_type=Path, allow_dash=True), default=None,
              help='Read JSON lines {"id"?, "text"}; tag each text as one paragraph; write JSON lines.')
@click.option("--batch-size", type=int, default=1024,
              help="Texts read, length-sorted and embedded together with --jsonl.")
@click.pass_obj
def tag(pipe: Pipeline, source, as_json, jsonl, batch_size):
    """Tag the paragraphs of a text file (or stdin, '-')."""
    scorer = pipe.scorer()
    if jsonl is not None:
        from classifier.tagging.scorer import tag_jsonl

        stream = sys.stdin if str(jsonl) == "-" else open(jsonl, encoding="utf-8-sig")
        with stream:
            for line in tag_jsonl(scorer, stream, batch_size=batch_size):
                click.echo(line)
        return
    text = _read_input(source)
    if not text.strip():
        raise InvalidInput("the input is empty")
    result = scorer.tag_text(text)
    if as_json:
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    else:
        _print_table(result)


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--organisation", default=None, help="Organisation (see the note on precedence below).")
@click.option("--date", default=None, help="Date as YYYY-MM-DD, or YYYY-MM or YYYY where that is all that is known.")
@click.option("--title", default=None, help="Title (default: the file's own title, else its name).")
@click.option("--url", default=None, help="Source URL.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option("--if-empty", is_flag=True, help="Do nothing when the store already holds statements.")
@click.option("--verbose", is_flag=True, help="Print a line for every committed batch.")
@click.pass_obj
def ingest(pipe: Pipeline, paths, organisation, date, title, url, quiet, if_empty, verbose):
    """Add statements from .jsonl, .csv, .txt, .md, .html, .pdf or .docx files; each is tagged on the way in.

    --organisation, --date, --title and --url override what a .txt, .md, .html, .pdf or .docx file says about
    itself; in .jsonl and .csv files they fill only the fields a record leaves empty.
    """
    from classifier.text.dates import parse_date

    if if_empty and pipe.store.count():
        click.echo(f"{pipe.store.count()} statements already stored; not ingesting")
        return

    defaults = {"organisation": organisation, "date": parse_date(date, "--date"), "title": title, "url": url}

    def bar(total, name):
        from tqdm import tqdm

        return tqdm(total=total, desc=name, unit="stmt", disable=quiet or total < 200, file=sys.stderr)

    def committed(result):
        if verbose:
            click.echo(f"committed {result.added} new, {result.duplicates} duplicate: ids "
                       f"{' '.join(map(str, result.ids))}", err=True)

    report = pipe.ingest_paths(list(paths), defaults, progress_factory=bar, on_commit=committed)
    click.echo(f"added {report.added}, duplicates {report.duplicates}, skipped {len(report.skipped)} file(s); "
               f"{pipe.store.count()} statements stored")
    for where, why in report.skipped:
        click.echo(f"skipped {where}: {why}", err=True)
    if report.skipped:  # the readable files are stored all the same; the status tells a script something was not
        sys.exit(1)


@cli.command()
@click.argument("query")
@click.option("-k", "k", type=int, default=10, show_default=True, help="How many results (a page; up to 1000).")
@click.option("--offset", type=int, default=0, show_default=True, help="Hits of the ranking to skip (the next page).")
@click.option("--theme", "themes", multiple=True, help="Only statements tagged with this theme (repeatable).")
@click.option("--organisation", "organisations", multiple=True,
              help="Only this organisation, case ignored (repeatable: any of them).")
@click.option("--since", default=None, help="Only statements dated on or after YYYY-MM-DD (or YYYY-MM, YYYY).")
@click.option("--until", default=None, help="Only statements dated on or before YYYY-MM-DD (or YYYY-MM, YYYY).")
@click.option("--mode", type=click.Choice(["hybrid", "semantic", "keyword"]), default="hybrid", show_default=True)
@click.option("--sort", type=click.Choice(["relevance", "date", "-date"]), default="relevance", show_default=True,
              help="Order the hits by relevance, or the same hits oldest (date) or newest (-date) first.")
@click.option("--separate-copies", is_flag=True, help="List near-identical statements separately instead of grouped.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "csv", "jsonl"]), default="text", show_default=True,
              help="text for people; json; or csv / jsonl with citation columns.")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON (the same as --format json).")
@click.pass_obj
def search(pipe: Pipeline, query, k, offset, themes, organisations, since, until, mode, sort, separate_copies, fmt,
           as_json):
    """Search stored statements. Each hit is printed whole, with its best-matching sentence marked."""
    from classifier.exports import tabular
    from classifier.search.browse import browse
    from classifier.storage.records import Filters
    from classifier.text.dates import parse_date

    filters = Filters(tuple(pipe.codebook.validate(list(themes))), tuple(organisations),
                      parse_date(since, "--since"), parse_date(until, "--until"))
    result = browse(pipe.search_index, query, k=k, offset=offset, filters=filters, mode=mode, sort=sort,
                    group=not separate_copies)
    fmt = "json" if as_json else fmt
    if fmt == "json":
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
        return
    if fmt in ("csv", "jsonl"):
        for chunk in tabular.chunks(fmt, tabular.search_rows(result.results), tabular.SEARCH_COLUMNS):
            click.echo(chunk, nl=False)
        return
    if not result.results:
        click.echo("no matching statements")
    mark = _highlighter(sys.stdout.isatty())
    for rank, hit in enumerate(result.results, offset + 1):
        s, h = hit.statement, hit.hit.highlight
        themes_txt = ", ".join(t["id"] for t in s.themes) or "no theme"
        click.echo(f"{rank:>2}. [{s.id}] {s.organisation or 'unknown organisation'}, {s.date or 'undated'}"
                   f" - {s.title or ''}  ({hit.score:.4f})")
        click.echo("    " + s.text[:h.start] + mark(s.text[h.start:h.end]) + s.text[h.end:])
        click.echo(f"    themes: {themes_txt}")
        if hit.copies:
            click.echo("    copies: " + "; ".join(f"[{c.id}] {c.organisation or 'unknown organisation'}, "
                                                  f"{c.date or 'undated'}" for c in hit.copies))
    if result.has_more:
        click.echo(f"more: --offset {offset + k}")


def _highlighter(tty: bool):
    """Marks the best-matching sentence: bold on a terminal, >>> <<< where the output is a file or a pipe."""
    if tty and not os.environ.get("NO_COLOR"):
        return lambda text: click.style(text, bold=True)
    return lambda text: f">>>{text}<<<"


@cli.group()
def export():
    """Export the stored statements (with citation columns) for use elsewhere."""


def _export_options(f):
    for option in reversed([
            click.option("--theme", "themes", multiple=True, help="Only statements tagged with this theme (repeatable)."),
            click.option("--organisation", "organisations", multiple=True,
                         help="Only this organisation, case ignored (repeatable)."),
            click.option("--since", default=None, help="Only statements dated on or after this date."),
            click.option("--until", default=None, help="Only statements dated on or before this date."),
            click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False, allow_dash=True),
                         default="-", show_default=True, help="File to write ('-': standard output).")]):
        f = option(f)
    return f


def _export_corpus(pipe: Pipeline, fmt, themes, organisations, since, until, output) -> None:
    from classifier.exports import tabular
    from classifier.storage.records import Filters
    from classifier.text.dates import parse_date

    filters = Filters(tuple(pipe.codebook.validate(list(themes))), tuple(organisations),
                      parse_date(since, "--since"), parse_date(until, "--until"))
    rows = tabular.statement_rows(tabular.corpus_statements(pipe.store, filters))
    if str(output) == "-":
        for chunk in tabular.chunks(fmt, rows):
            click.echo(chunk, nl=False)
        return
    tmp = output.with_name(f".{output.name}.tmp")
    with open(tmp, "w", encoding="utf-8", newline="") as out:
        for chunk in tabular.chunks(fmt, rows):
            out.write(chunk)
    os.replace(tmp, output)
    click.echo(f"wrote {output}", err=True)


@export.command(name="jsonl")
@_export_options
@click.pass_obj
def export_jsonl(pipe: Pipeline, themes, organisations, since, until, output):
    """Every stored statement passing the filters as JSON lines with citation fields."""
    _export_corpus(pipe, "jsonl", themes, organisations, since, until, output)


@export.command(name="csv")
@_export_options
@click.pass_obj
def export_csv(pipe: Pipeline, themes, organisations, since, until, output):
    """Every stored statement passing the filters as CSV (RFC 4180, UTF-8) with citation columns."""
    _export_corpus(pipe, "csv", themes, organisations, since, until, output)


@export.command(name="qdpx")
@click.argument("output", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--theme", "themes", multiple=True, help="Only documents with a paragraph tagged with this theme.")
@click.option("--organisation", "organisations", multiple=True, help="Only this organisation, case ignored.")
@click.option("--since", default=None, help="Only documents dated on or after this date.")
@click.option("--until", default=None, help="Only documents dated on or before this date.")
@click.pass_obj
def export_qdpx(pipe: Pipeline, output, themes, organisations, since, until):
    """The stored documents, coded with their themes, as a REFI-QDA project (NVivo, MAXQDA, ATLAS.ti)."""
    from classifier.storage.records import Filters
    from classifier.text.dates import parse_date

    filters = Filters(tuple(pipe.codebook.validate(list(themes))), tuple(organisations),
                      parse_date(since, "--since"), parse_date(until, "--until"))
    data, summary = pipe.export_qdpx(filters)
    _write_atomically(output, data)
    click.echo(f"wrote {output}: {summary.codes} codes, {summary.sources} documents, {summary.selections} "
               f"coded paragraphs, {summary.codings} codings")


@export.command(name="qdc")
@click.argument("output", type=click.Path(path_type=Path, dir_okay=False))
@click.pass_obj
def export_qdc(pipe: Pipeline, output):
    """The codebook as a REFI-QDA codebook (.qdc): one code per theme."""
    from classifier.exports.refiqda import codebook_xml

    _write_atomically(output, codebook_xml(pipe.codebook))
    click.echo(f"wrote {output}: {len(pipe.codebook.themes)} codes")


def _write_atomically(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError as exc:
        raise DataError(f"{path}: cannot be written ({exc.strerror or exc})") from exc


@cli.group(name="import")
def import_():
    """Read work done elsewhere back in."""


@import_.command(name="qdpx")
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False))
@click.pass_obj
def import_qdpx(pipe: Pipeline, path):
    """Turn the codings in a REFI-QDA project into labels (codes matched to themes by name)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    added, result = pipe.import_qdpx(data, path.name)
    click.echo(f"imported {added} labels from {path.name}")
    if result.unknown_codes:
        click.echo(f"codes matching no theme (left out): {', '.join(result.unknown_codes)}")
    if result.unmatched:
        click.echo(f"{len(result.unmatched)} selections left out (no stored paragraph or text found, or too long)")


@cli.command()
@click.option("--reembed", is_flag=True, help="Re-embed every statement with the configured embedder first.")
@click.pass_obj
def reindex(pipe: Pipeline, reembed):
    """Rebuild the search index from the statement store."""
    if reembed:
        click.echo(f"re-embedded {pipe.reembed()} statements with {pipe.embedder.name}")
    pipe.search_index.rebuild()
    click.echo(f"index rebuilt: {pipe.search_index.count} statements")
    from classifier.search.copies import sync_signatures

    signed = sync_signatures(pipe.store)
    if signed:
        click.echo(f"copy signatures: {signed} statements signed")


@cli.command(name="evaluate-search")
@click.option("--data", "data", type=click.Path(path_type=Path), default=None,
              help="Queries with judgements (default training_data/search_eval.jsonl).")
@click.option("--corpus", "corpus", type=click.Path(path_type=Path), default=None,
              help="Corpus to search (default training_data/sample_corpus.jsonl).")
@click.pass_obj
def evaluate_search(pipe: Pipeline, data, corpus):
    """nDCG@10 and recall@10 of keyword, semantic and hybrid search on judged queries."""
    from classifier.search.evaluation import evaluate_search as run, format_table

    s = pipe.settings
    results = run(pipe, data or s.training_data_dir / "search_eval.jsonl",
                  corpus or s.training_data_dir / "sample_corpus.jsonl")
    click.echo(format_table(results))


@cli.command(name="evaluate-copies")
@click.option("--corpus", "corpus", type=click.Path(path_type=Path), default=None,
              help="Corpus to construct copies and near-misses from (default training_data/sample_corpus.jsonl).")
@click.pass_obj
def evaluate_copies(pipe: Pipeline, corpus):
    """Precision and recall of copy grouping on copies and near-misses constructed from a corpus."""
    from classifier.search.copies_eval import evaluate_copies as run, format_copies

    click.echo(format_copies(run(corpus or pipe.settings.training_data_dir / "sample_corpus.jsonl")))


@cli.command(name="run-job", hidden=True)
@click.argument("job_id", type=int)
@click.pass_obj
def run_job_command(pipe: Pipeline, job_id):
    """Run a queued background job (started by the API)."""
    from classifier.jobs import run_job

    run_job(pipe, job_id)


@cli.command()
@click.option("--model", "version", default=None, help="Model version (default: the active one).")
@click.pass_obj
def retag(pipe: Pipeline, version):
    """Re-tag every stored statement with a model."""
    click.echo(f"re-tagged {pipe.retag(version)} statements")


@cli.group()
def labels():
    """Labelled examples added by analysts (used with the shipped corpus in training)."""


@labels.command(name="import")
@click.argument("path", type=click.Path(path_type=Path))
@click.pass_obj
def labels_import(pipe: Pipeline, path):
    """Import labels from .jsonl ({"text", "themes": [...]}) or .csv (text, themes separated by ';')."""
    import csv

    if not path.is_file():
        raise DataError(f"no such file: {path}")
    raw = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() == ".csv":
        rows = list(csv.DictReader(raw.splitlines()))
        if rows and ("text" not in rows[0] or "themes" not in rows[0]):
            raise InvalidInput(f"{path.name}: a CSV needs 'text' and 'themes' columns")
        examples = [{"text": r["text"], "themes": [t.strip() for t in (r["themes"] or "").split(";") if t.strip()]}
                    for r in rows]
    elif path.suffix.lower() == ".jsonl":
        examples = []
        for lineno, line in enumerate(raw.splitlines(), 1):
            if line.strip():
                try:
                    examples.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise InvalidInput(f"{path.name}:{lineno}: not valid JSON ({exc.msg})") from exc
    else:
        raise DataError(f"{path.name}: labels come as .jsonl or .csv")
    click.echo(f"imported {pipe.add_labels(examples, 'file')} labelled examples")


@labels.command(name="export")
@click.pass_obj
def labels_export(pipe: Pipeline):
    """Print every stored label as JSON lines."""
    for row in pipe.store.labels():
        click.echo(json.dumps(row, ensure_ascii=False))


@labels.command(name="list")
@click.option("--statement", "statement_id", type=click.IntRange(1), default=None,
              help="Only the labels of this stored statement.")
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
@click.pass_obj
def labels_list(pipe: Pipeline, statement_id, limit):
    """List labels, newest first: id, statement, themes, who and when."""
    rows, total = pipe.store.list_labels(statement_id, 0, limit)
    for r in rows:
        who = f" by {r.name}" if r.name else ""
        when = f"{r.created[:16]}" + (f", edited {r.updated[:16]}" if r.updated else "")
        click.echo(f"[{r.id}] statement {r.statement_id or '-'}: {', '.join(r.themes) or '(no theme)'}{who}"
                   f" ({r.source}, {when})")
        click.echo(f"    {r.text[:110]}{'...' if len(r.text) > 110 else ''}")
    click.echo(f"{len(rows)} of {total} labels")


@labels.command(name="edit")
@click.argument("label_id", type=int)
@click.option("--themes", required=True, help="Theme ids separated by commas; an empty string for none.")
@click.option("--name", default=None, help="Who gives the new themes (left out: the label has no name).")
@click.pass_obj
def labels_edit(pipe: Pipeline, label_id, themes, name):
    """Replace a label's themes."""
    label = pipe.edit_label(label_id, [t.strip() for t in themes.split(",") if t.strip()], name)
    click.echo(f"label {label.id}: {', '.join(label.themes) or '(no theme)'}")


@labels.command(name="delete")
@click.argument("label_id", type=int)
@click.pass_obj
def labels_delete(pipe: Pipeline, label_id):
    """Delete a label: it no longer trains the model."""
    pipe.store.delete_label(label_id)
    click.echo(f"deleted label {label_id}")


@cli.group()
def models():
    """Model versions: list, activate, prune."""


@models.command(name="list")
@click.pass_obj
def models_list(pipe: Pipeline):
    """List model versions with their frozen-test scores."""
    for m in pipe.registry.list():
        test = m.metrics.get("test") or {}
        click.echo(f"{'*' if m.active else ' '} {m.version}  created {m.created}  test micro-F1 "
                   f"{test.get('micro_f1', float('nan')):.3f}  macro-F1 {test.get('macro_f1', float('nan')):.3f}")


@models.command(name="activate")
@click.argument("version")
@click.pass_obj
def models_activate(pipe: Pipeline, version):
    """Make VERSION the active model (checked first), then re-tag stored statements."""
    pipe.registry.activate(version)
    click.echo(f"active model is now {version}")
    if pipe.store.count():
        click.echo(f"re-tagged {pipe.retag(version)} statements")


@models.command(name="prune")
@click.option("--keep", type=int, default=5, show_default=True, help="Inactive versions to keep.")
@click.pass_obj
def models_prune(pipe: Pipeline, keep):
    """Delete old inactive versions."""
    removed = pipe.registry.prune(keep)
    click.echo(f"removed {len(removed)} version(s)" + (": " + ", ".join(removed) if removed else ""))


@cli.command()
@click.pass_obj
def themes(pipe: Pipeline):
    """List the codebook's themes."""
    for t in pipe.codebook.themes:
        click.echo(f"{t.id:30s} {t.label}")


def main(argv=None):
    cli.main(args=argv, prog_name="joinedup")


if __name__ == "__main__":
    main()
