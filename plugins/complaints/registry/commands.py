"""`complaints sources ...`: check the registry, list its sources (mounted by the main CLI)."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path

import typer

from complaints.registry.loader import RegistryError, load_registry

app = typer.Typer(help="The source registry: check it, list its sources.", no_args_is_help=True)

REGISTRY_OPTION = typer.Option(
    None, "--registry", help="sources.yaml (default: COMPLAINTS_REGISTRY)"
)
MAPPINGS_OPTION = typer.Option(None, "--mappings", help="mappings.yaml (default: beside registry)")


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


@app.command()
def check(registry: Path | None = REGISTRY_OPTION, mappings: Path | None = MAPPINGS_OPTION) -> None:
    """Validate every entry; exit 1 listing every problem."""
    try:
        reg = load_registry(registry, mappings)
    except RegistryError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    kinds: dict[str, int] = {}
    for src in reg.sources:
        kinds[src.connector.kind] = kinds.get(src.connector.kind, 0) + 1
    summary = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
    typer.echo(f"{reg.path}: {len(reg)} sources OK ({summary}), {len(reg.mappings)} mappings")


@app.command("list")
def list_sources(
    level: list[str] | None = typer.Option(None, "--level", help="provinsi, kota, unit ..."),
    kind: list[str] | None = typer.Option(None, "--kind", help="http, sql or file"),
    province: str | None = typer.Option(None, "--province", help="province code, e.g. 31"),
    limit: int | None = typer.Option(None, "--limit"),
    fmt: Format = typer.Option(Format.table, "--format"),
    registry: Path | None = REGISTRY_OPTION,
    mappings: Path | None = MAPPINGS_OPTION,
) -> None:
    """List the sources (filters combine), as a table, CSV or JSON."""
    try:
        reg = load_registry(registry, mappings)
        chosen = reg.select(
            kinds=kind or None, levels=level or None, province=province, limit=limit
        )
    except RegistryError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    frame = reg.to_frame(chosen)
    if fmt is Format.csv:
        typer.echo(frame.to_csv(index=False), nl=False)
    elif fmt is Format.json:
        records = json.loads(frame.to_json(orient="records"))
        typer.echo(json.dumps(records, ensure_ascii=False, indent=2))
    else:
        columns = ["source_id", "level", "connector_kind", "timezone", "region_code", "name"]
        typer.echo(frame[columns].fillna("").to_string(index=False))
        typer.echo(f"{len(frame)} source(s)")
