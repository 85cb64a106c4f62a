"""`complaints simulate`: write simulated source data, or serve the simulated LAPOR! API.

complaints simulate --start 2026-10-30 --end 2026-11-01 [--sources a,b] [--registry small]
complaints simulate serve --port 8765 [--token T]
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Annotated

import typer

from complaints.config import INCLUDE_DIR, Settings

app = typer.Typer(
    help="Write simulated source data for the embedded default.",
    invoke_without_command=True,
    add_completion=False,
)

REGISTRIES = {
    "full": INCLUDE_DIR / "registry" / "sources.yaml",
    "small": INCLUDE_DIR / "registry" / "sources.small.yaml",
}


def _date(text: str, name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise typer.BadParameter(f"{text!r} is not a date (YYYY-MM-DD)", param_hint=name) from exc


def _sources(settings: Settings, registry: str | None, ids: str | None) -> list:
    from complaints.registry import load_registry

    path = REGISTRIES.get(registry, Path(registry)) if registry else settings.registry
    loaded = load_registry(Path(path))
    if not ids:
        return list(loaded.sources)
    return loaded.select(ids=[i.strip() for i in ids.split(",") if i.strip()])


@app.callback()
def simulate_command(
    ctx: typer.Context,
    start: Annotated[str | None, typer.Option(help="first local day, YYYY-MM-DD")] = None,
    end: Annotated[str | None, typer.Option(help="last local day, YYYY-MM-DD")] = None,
    sources: Annotated[str | None, typer.Option(help="comma-separated source ids")] = None,
    registry: Annotated[
        str | None, typer.Option(help="full, small, or a registry YAML path (default: settings)")
    ] = None,
    seed: Annotated[int, typer.Option(help="random seed; same seed, same data")] = 42,
    broken_share: Annotated[float, typer.Option(help="share of rows planted broken")] = 0.01,
    sql_url: Annotated[
        str | None, typer.Option(help="SQLAlchemy URL for sql sources (default: SQLite)")
    ] = None,
    scale: Annotated[float, typer.Option(help="volume factor (1.0 = about 30/source-day)")] = 1.0,
) -> None:
    """Write the sources' data for every local day in [start, end] (idempotent per range)."""
    if ctx.invoked_subcommand is not None:
        return
    if not start or not end:
        typer.echo(ctx.get_help())
        raise typer.Exit(2)
    from complaints.simulate import simulate

    first, last = _date(start, "--start"), _date(end, "--end")
    if last < first:
        raise typer.BadParameter("--end is before --start", param_hint="--end")
    if not 0 <= broken_share <= 1:
        raise typer.BadParameter("must be between 0 and 1", param_hint="--broken-share")
    settings = Settings.from_env()
    chosen = _sources(settings, registry, sources)
    summary = simulate(
        settings,
        chosen,
        first,
        last,
        seed=seed,
        broken_share=broken_share,
        sql_url=sql_url,
        scale=scale,
    )
    frame = summary.to_frame()
    by_kind = frame.groupby("connector_kind")[["versions", "broken"]].sum()
    typer.echo(
        f"simulated {len(chosen)} sources, {first} .. {last}: "
        f"{int(frame['versions'].sum())} versions, {int(frame['broken'].sum())} broken"
    )
    for kind, row in by_kind.iterrows():
        typer.echo(f"  {kind}: {int(row['versions'])} versions, {int(row['broken'])} broken")


@app.command()
def serve(
    port: Annotated[int, typer.Option(help="TCP port on 127.0.0.1 (0 = any free port)")] = 8765,
    host: Annotated[str, typer.Option(help="address to bind")] = "127.0.0.1",
    token: Annotated[
        str | None, typer.Option(help="bearer token (default: $COMPLAINTS_SIM_API_TOKEN)")
    ] = None,
    fail_source: Annotated[
        list[str] | None, typer.Option(help="a source id whose requests always fail (500)")
    ] = None,
    fail_rate: Annotated[float, typer.Option(help="share of requests answered 500")] = 0.0,
) -> None:
    """Serve the simulated LAPOR! API from <sources_dir>/api.sqlite until interrupted."""
    from complaints.simulate.api_server import serve_api

    token = token or os.environ.get("COMPLAINTS_SIM_API_TOKEN")
    if not token:
        raise typer.BadParameter(
            "give --token or set COMPLAINTS_SIM_API_TOKEN", param_hint="--token"
        )
    server = serve_api(
        Settings.from_env(),
        host=host,
        port=port,
        token=token,
        fail_rate=fail_rate,
        fail_sources=fail_source or (),
        verbose=True,
    )
    server.start()
    typer.echo(f"serving {server.base_url}/api/v1/sources/<source_id>/complaints (Ctrl-C stops)")
    server.serve_forever()
