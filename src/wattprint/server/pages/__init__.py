"""The dashboard: server-rendered pages at ``/`` in the API's process (``mount(app)``)."""

from __future__ import annotations

import functools
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: Nothing from outside the server; plotly.js sets inline styles on its charts, so styles alone
#: may be inline. No inline script runs (the page data block is JSON, not executed).
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
STATIC = Path(__file__).resolve().parent.parent / "static"
YEAR = "public, max-age=31536000, immutable"


def plotly_js() -> Path | None:
    """plotly.min.js from the installed ``plotly`` package (never a CDN); None without it."""
    try:
        from importlib import resources

        path = Path(str(resources.files("plotly").joinpath("package_data/plotly.min.js")))
    except ImportError:
        return None
    return path if path.is_file() else None


#: The map's geometry as a script: it puts the report's packaged topology where plotly.js looks
#: before it would fetch one from its CDN (``window.PlotlyGeoAssets``), so nothing is fetched.
WORLD_JS = "world_110m.js"


@functools.cache
def world_js() -> str:
    import json

    from ...report.geo import TOPOJSON_NAME, world_topology

    topology = json.dumps(world_topology(), separators=(",", ":"))
    name = json.dumps(TOPOJSON_NAME)
    return (
        "window.PlotlyGeoAssets=window.PlotlyGeoAssets||{topojson:{}};"
        f"window.PlotlyGeoAssets.topojson[{name}]={topology};"
    )


#: The map's sub-national shapes (GeoJSON) as a script: ``window.WattprintGeo[name]``, which the
#: dashboard's script puts in place of the name its map trace gives (never fetched by plotly.js).
SUBNATIONAL_JS = "subnational.js"


@functools.cache
def subnational_js() -> str:
    import json

    from ...report.geo import GEOJSON_NAME, subnational_geojson

    shapes = json.dumps(subnational_geojson(), separators=(",", ":"))
    return (
        "window.WattprintGeo=window.WattprintGeo||{};"
        f"window.WattprintGeo[{json.dumps(GEOJSON_NAME)}]={shapes};"
    )


#: Scripts the server makes from the package's data, each cached for a year like the files.
MADE = {WORLD_JS: world_js, SUBNATIONAL_JS: subnational_js}


def mount(app: FastAPI) -> None:
    from . import account, admin, live, routes, teams_admin, views

    app.include_router(routes.router)
    app.include_router(views.router)
    app.include_router(admin.router)
    app.include_router(teams_admin.router)
    app.include_router(account.router)
    app.include_router(live.router)
    _static(app)
    _headers(app)
    _errors(app)


def _static(app: FastAPI) -> None:
    @app.get("/static/{name}", include_in_schema=False)
    def static(name: str) -> Response:
        # The pages link them with the package's version: cached for a year.
        if name == "plotly.min.js":
            path = plotly_js()
        elif name in MADE:
            return Response(
                MADE[name](), media_type="text/javascript", headers={"Cache-Control": YEAR}
            )
        else:
            path = STATIC / name if name in {p.name for p in STATIC.iterdir()} else None
        if path is None:
            return JSONResponse({"detail": "not found"}, status_code=404)
        return FileResponse(path, headers={"Cache-Control": YEAR})


def _headers(app: FastAPI) -> None:
    app.add_middleware(SecurityHeaders)


class SecurityHeaders:
    """The pages' security headers, as a plain ASGI middleware: Starlette's ``@app.middleware``
    wraps every request, ingest batches included, in a task and a streamed body, which cost the
    API a third of an empty batch's CPU; this one only touches the response's first message."""

    HEADERS = (
        ("Content-Security-Policy", CSP),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "same-origin"),
    )

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Swagger UI (under /api/) has its own needs; the API's JSON needs none of these.
        if scope["type"] != "http" or scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.HEADERS:
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _errors(app: FastAPI) -> None:
    """On the dashboard's paths, errors are pages; the API's stay JSON."""
    from ..permissions import ForbiddenError, NotFoundError
    from ..store import ConflictError
    from .render import render
    from .session import SignInNeeded, Visitor

    def is_page(request: Request) -> bool:
        """A dashboard route asked for HTML (CodeCarbon's root paths and the API stay JSON)."""
        route = request.scope.get("route")
        module = getattr(getattr(route, "endpoint", None), "__module__", "")
        return module.startswith(__name__) and request.query_params.get("format") != "json"

    @app.exception_handler(SignInNeeded)
    def sign_in_needed(request: Request, _e: SignInNeeded) -> Response:
        if not is_page(request):
            return JSONResponse({"detail": "sign in first"}, status_code=401)
        return RedirectResponse("/signin", status_code=303)

    previous = dict(app.exception_handlers)

    def handler(kind: type[Exception], status: int, message: str):  # type: ignore[no-untyped-def]
        api = previous[kind]

        def handle(request: Request, e: Exception) -> Response:
            if not is_page(request):
                return api(request, e)
            text = str(e) if kind is not NotFoundError and str(e) else message
            return render(
                request,
                "error.html",
                Visitor(None, ""),
                {"page": "error", "status": status, "message": text},
                status_code=status,
            )

        app.add_exception_handler(kind, handle)

    handler(NotFoundError, 404, "Not found (or not yours to see).")
    handler(ForbiddenError, 403, "You may not do that here.")
    handler(ValueError, 400, "That request was not right.")
    handler(ConflictError, 409, "That conflicts with what is there.")
