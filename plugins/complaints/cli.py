"""The `complaints` command: run the pipeline, query the warehouse, inspect runs and sources."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from complaints.config import INCLUDE_DIR, Settings

app = typer.Typer(
    help="SP4N-LAPOR! complaint warehouse: ingestion, checks, metrics and reports.",
    no_args_is_help=True,
    add_completion=False,
)
runs_app = typer.Typer(help="Ingestion runs: what each source delivered, per day.")
warehouse_app = typer.Typer(
    help="Warehouse upkeep: catalog, compaction, recovery, withdrawing rahasia text."
)
app.add_typer(runs_app, name="runs")
app.add_typer(warehouse_app, name="warehouse")


def _mount_subapps() -> None:
    from complaints.registry.commands import app as sources_app
    from complaints.simulate.commands import app as simulate_app

    app.add_typer(sources_app, name="sources", help="The source registry: check and list.")
    app.add_typer(simulate_app, name="simulate", help="Write simulated source data.")


REGISTRIES = {
    "full": INCLUDE_DIR / "registry" / "sources.yaml",
    "small": INCLUDE_DIR / "registry" / "sources.small.yaml",
}


def _print_frame(frame, fmt: str) -> None:
    if fmt == "csv":
        frame.to_csv(sys.stdout, index=False)
    elif fmt == "json":
        typer.echo(frame.to_json(orient="records", date_format="iso", force_ascii=False))
    else:
        import pandas as pd

        with pd.option_context(
            "display.max_rows", 500, "display.max_columns", 50, "display.width", 200
        ):
            typer.echo(frame.to_string(index=False) if len(frame) else "(no rows)")


@app.command()
def query(
    sql: Annotated[str, typer.Argument(help="SQL over the warehouse's tables (DuckDB dialect)")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="table, csv or json")] = "table",
) -> None:
    """Run a query against the warehouse with DuckDB and print the result."""
    from complaints.warehouse import Warehouse

    if fmt not in ("table", "csv", "json"):
        raise typer.BadParameter("--format must be table, csv or json")
    con = Warehouse(Settings.from_env()).connect()
    try:
        frame = con.execute(sql).fetch_df()
    except Exception as exc:  # duckdb errors carry a precise message
        typer.echo(f"query failed: {exc}", err=True)
        raise typer.Exit(1) from exc
    finally:
        con.close()
    _print_frame(frame, fmt)


@app.command()
def run(
    start: Annotated[str, typer.Option(help="first complaint day, YYYY-MM-DD")] = "2026-10-30",
    end: Annotated[str, typer.Option(help="last complaint day, YYYY-MM-DD")] = "2026-10-31",
    registry: Annotated[
        str, typer.Option(help="full, small, or a path to a registry YAML")
    ] = "full",
    scale: Annotated[float, typer.Option(help="simulated volume factor")] = 1.0,
    seed: Annotated[int, typer.Option(help="simulator seed")] = 42,
) -> None:
    """The main job on the embedded default: simulate sources, run the daily DAGs, report."""
    import os

    from complaints.orchestration.local import run_embedded

    path = REGISTRIES.get(registry, Path(registry))
    os.environ["COMPLAINTS_REGISTRY"] = str(Path(path).resolve())
    summary = run_embedded(
        date.fromisoformat(start), date.fromisoformat(end), scale=scale, seed=seed
    )
    typer.echo(summary)


@app.command()
def ingest(
    source_id: str,
    day: Annotated[str, typer.Option(help="YYYY-MM-DD")],
) -> None:
    """Ingest one source's day without Airflow (extract, check, publish)."""
    from complaints.pipeline import ingest_source

    typer.echo(json.dumps(ingest_source(source_id, date.fromisoformat(day)), indent=2))


@app.command()
def metrics(day: Annotated[str, typer.Option(help="YYYY-MM-DD, the as-of day")]) -> None:
    """Recompute the metrics of every period containing DAY, as of DAY."""
    from complaints.daily import compute_day_metrics

    typer.echo(json.dumps(compute_day_metrics(date.fromisoformat(day)), indent=2))


@app.command()
def reports(
    period: Annotated[str, typer.Option(help="week or month")],
    start: Annotated[str, typer.Option(help="period start, YYYY-MM-DD")],
) -> None:
    """Build the reports of one closed period into the outbox."""
    from complaints.daily import build_period_reports

    typer.echo(json.dumps(build_period_reports(period, date.fromisoformat(start)), indent=2))


@runs_app.command("show")
def runs_show(
    day: str,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table, csv or json")] = "table",
) -> None:
    """Per source: status, rows read, loaded and quarantined for DAY."""
    import pandas as pd

    from complaints.daily import day_summary
    from complaints.orchestration.summary import format_summary

    rows = day_summary(date.fromisoformat(day))
    if fmt == "table":
        typer.echo(format_summary(day, rows))
    else:
        _print_frame(pd.DataFrame(rows), fmt)


@warehouse_app.command("catalog")
def warehouse_catalog() -> None:
    """Rewrite catalog.duckdb: one view per table."""
    from complaints.warehouse import Warehouse

    typer.echo(str(Warehouse(Settings.from_env()).refresh_catalog()))


@warehouse_app.command("compact")
def warehouse_compact(table: Annotated[str | None, typer.Argument()] = None) -> None:
    """Merge small files within partitions."""
    from complaints.warehouse import Warehouse

    typer.echo(json.dumps(Warehouse(Settings.from_env()).compact(table), indent=2, default=str))


@warehouse_app.command("recover")
def warehouse_recover() -> None:
    """Finish or undo publishes interrupted by a crash."""
    from complaints.warehouse import Warehouse

    for line in Warehouse(Settings.from_env()).recover():
        typer.echo(line)


@warehouse_app.command("withdraw-text")
def warehouse_withdraw_text(
    sources: Annotated[list[str] | None, typer.Argument(help="source ids; default: all")] = None,
) -> None:
    """Apply the rahasia rule to published history: versions before a complaint's rahasia
    version lose their text (history, raw layer), and so do its quarantined rows. Publishes keep
    it day by day; run this once on a warehouse written before they did."""
    from complaints.pipeline import registry_for
    from complaints.privacy import RawText
    from complaints.warehouse import Warehouse, layout

    settings = Settings.from_env()
    wh = Warehouse(settings)
    registry = registry_for(settings)
    known = {s.id for s in registry.sources}
    published = [
        d.split("=", 1)[1]
        for d in wh.storage.list_dirs(layout.HISTORY)
        if d.startswith("source_id=")
    ]
    versions = quarantined = 0
    for source_id in sources or published:
        raw_text = RawText.of(registry.mapping_for(source_id)) if source_id in known else None
        done = wh.withdraw_text(source_id, raw_text)
        versions += done["versions_text_withdrawn"]
        quarantined += done["quarantined_text_withdrawn"]
        note = (
            ""
            if raw_text
            else " (not in the registry: raw layer left as it is, quarantined rows' raw nulled)"
        )
        typer.echo(
            f"{source_id}: {done['versions_text_withdrawn']} versions, "
            f"{done['quarantined_text_withdrawn']} quarantined rows{note}"
        )
    typer.echo(f"text withdrawn from {versions} versions and {quarantined} quarantined rows")


def main() -> None:
    from complaints.privacy import install_log_redaction

    install_log_redaction()
    _mount_subapps()
    app()


if __name__ == "__main__":
    main()
