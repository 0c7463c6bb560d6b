"""The interactive API docs (Swagger UI), served from the installed ``swagger-ui-bundle``
package: nothing is fetched from a CDN. Without that package, only the OpenAPI document."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

DOCS = "/api/docs"
STATIC = "/api/docs/static"


def mount(app: FastAPI) -> bool:
    """Serve the docs at /api/docs; False when the bundle is not installed."""
    try:
        from swagger_ui_bundle import swagger_ui_path
    except ImportError:
        return False
    from fastapi.staticfiles import StaticFiles

    app.mount(STATIC, StaticFiles(directory=swagger_ui_path), name="swagger-ui")

    @app.get(DOCS, include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "",
            title=f"{app.title}: API",
            swagger_js_url=f"{STATIC}/swagger-ui-bundle.js",
            swagger_css_url=f"{STATIC}/swagger-ui.css",
            swagger_favicon_url=f"{STATIC}/favicon-32x32.png",
        )

    return True
