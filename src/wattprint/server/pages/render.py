"""Jinja2 rendering: the templates shipped in server/templates, autoescaped, and the page's
data as a JSON block (``<script type="application/json" id="page-data">``, not executed)."""

from __future__ import annotations

from functools import cache
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from . import session


@cache
def environment() -> Any:
    from importlib import resources

    from jinja2 import Environment, FileSystemLoader, select_autoescape

    folder = resources.files("wattprint.server").joinpath("templates")
    env = Environment(loader=FileSystemLoader(str(folder)), autoescape=select_autoescape(["html"]))
    env.filters["kg"] = _kg
    env.filters["num"] = _num
    from ...report.geo import MAP_NOTE

    env.globals["map_note"] = MAP_NOTE  # under every map: what is drawn at which level
    return env


def _num(value: Any, digits: int = 3) -> str:
    if value is None:
        return "unknown"
    return f"{value:.{digits}g}" if isinstance(value, float) else str(value)


def _kg(value: Any) -> str:
    if value is None:
        return "unknown"
    if abs(value) >= 1000:
        return f"{value / 1000:.3g} t"
    if abs(value) >= 1:
        return f"{value:.3g} kg"
    return f"{value * 1000:.3g} g"


def render(
    request: Request,
    template: str,
    who: session.Visitor,
    values: dict[str, Any],
    status_code: int = 200,
    csrf: str | None = None,
) -> HTMLResponse:
    html = (
        environment()
        .get_template(template)
        .render(d=values, who=who, csrf=csrf if csrf is not None else who.csrf, request=request)
    )
    return HTMLResponse(html, status_code=status_code)
