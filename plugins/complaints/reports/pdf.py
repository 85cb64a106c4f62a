"""HTML (Jinja2) -> PDF (WeasyPrint). One WeasyPrint call per document; the stylesheet and the
font configuration are parsed once per process and reused."""

from __future__ import annotations

import base64
import functools
import logging
from datetime import date
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from . import formatting as f

# WeasyPrint warns on every PDF that it subsets fonts with fontTools rather than HarfBuzz; the
# output is the same, and hundreds of identical warnings per run hide the ones that matter.
logging.getLogger("weasyprint").setLevel(logging.ERROR)

TEMPLATES = Path(__file__).parent / "templates"
CSS_FILE = TEMPLATES / "report.css"


def stars(rating, size: int = 5) -> dict:
    """Width (0-100 %) of the filled star overlay, for a CSS-drawn partial star row."""
    if f.is_missing(rating):
        return {"fill": 0.0, "text": "\u2606" * size}
    return {"fill": max(0.0, min(100.0, float(rating) / size * 100)), "text": "\u2605" * size}


def png_data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


@functools.cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        num=f.fmt_num,
        int=f.fmt_int,
        pct=f.fmt_pct,
        date=f.fmt_date,
        date_short=f.fmt_date_short,
    )
    env.globals.update(stars=stars, missing=f.is_missing)
    return env


def render_html(template: str, context: dict) -> str:
    ctx = {"generated": f.fmt_date(date.today()), **context}
    return environment().get_template(template).render(**ctx)


@functools.cache
def _weasy():
    from weasyprint import CSS, HTML  # noqa: PLC0415  (heavy import, once)
    from weasyprint.text.fonts import FontConfiguration  # noqa: PLC0415

    fonts = FontConfiguration()
    return HTML, CSS(filename=str(CSS_FILE), font_config=fonts), fonts


def write_pdf(template: str, context: dict, path: Path, title: str = "") -> Path:
    """Render ``template`` with ``context`` to a PDF at ``path`` (written atomically)."""
    html_cls, css, fonts = _weasy()
    html = render_html(template, context)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".pdf.tmp")
    doc = html_cls(string=html, base_url=str(TEMPLATES))
    doc.write_pdf(tmp, stylesheets=[css], font_config=fonts)
    tmp.replace(path)
    return path
