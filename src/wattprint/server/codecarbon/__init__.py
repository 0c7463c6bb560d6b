"""CodeCarbon's client, served unchanged: the paths and bodies its ``ApiClient`` uses."""

from __future__ import annotations

from fastapi import FastAPI


def mount(app: FastAPI) -> None:
    from .routes import router

    app.include_router(router, prefix="/api")
    app.include_router(router)
