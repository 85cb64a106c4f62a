"""`complaints simulate` as a typer sub-app: options, registry choice, errors."""

from __future__ import annotations

import typer
from typer.testing import CliRunner

from complaints.simulate.commands import app

root = typer.Typer()
root.add_typer(app, name="simulate")
runner = CliRunner()


def test_simulate_small_registry_subset(settings):
    result = runner.invoke(
        root,
        [
            "simulate",
            "--start",
            "2026-10-29",
            "--end",
            "2026-10-30",
            "--registry",
            "small",
            "--sources",
            "kota-3171,kab-5102",
            "--scale",
            "0.1",
            "--seed",
            "3",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "simulated 2 sources" in result.output
    assert (settings.sources_dir / "regional.sqlite").exists()
    assert (settings.drop_dir / "kab-5102" / "2026-10-29").is_dir()
    assert not (settings.sources_dir / "api.sqlite").exists()


def test_bad_dates_and_missing_options_are_errors(settings):
    bad = runner.invoke(root, ["simulate", "--start", "2026-13-01", "--end", "2026-10-30"])
    assert bad.exit_code != 0 and "not a date" in bad.output
    backwards = runner.invoke(root, ["simulate", "--start", "2026-10-30", "--end", "2026-10-01"])
    assert backwards.exit_code != 0
    missing = runner.invoke(root, ["simulate"])
    assert missing.exit_code != 0


def test_serve_needs_a_token(settings, monkeypatch):
    monkeypatch.delenv("COMPLAINTS_SIM_API_TOKEN", raising=False)
    result = runner.invoke(root, ["simulate", "serve", "--port", "0"])
    assert result.exit_code != 0 and "token" in result.output.lower()
