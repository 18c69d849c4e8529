"""/docs: Swagger UI 5 served from this server (swagger-ui-bundle-v2), never from a CDN.

FastAPI's own /docs loads Swagger UI from a CDN and starts it with an inline script: blank on an
isolated network and refused by our Content-Security-Policy. Here the page, Swagger UI's files
and the small start-up script all come from the app. ReDoc has no offline package, so /redoc
is off; /openapi.json stays.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

DOCS_ASSETS = "/docs/assets"
# A file of its own (not inline): the Content-Security-Policy allows no inline script.
_INIT_JS = """window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: "StandaloneLayout",
  });
});
"""
_PAGE = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{title}} - API</title>
<link rel="stylesheet" href="{DOCS_ASSETS}/swagger-ui.css">
<link rel="icon" type="image/png" href="{DOCS_ASSETS}/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{DOCS_ASSETS}/swagger-ui-bundle.js"></script>
<script src="{DOCS_ASSETS}/swagger-ui-standalone-preset.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
"""


def install_docs(app: FastAPI) -> None:
    """Serve /docs and its assets (the app is created with docs_url=None, redoc_url=None)."""
    page = _PAGE.replace("{title}", app.title)
    app.mount(DOCS_ASSETS, StaticFiles(directory=str(swagger_ui_path)), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return HTMLResponse(page)

    @app.get("/docs/init.js", include_in_schema=False)
    def docs_init() -> HTMLResponse:
        return HTMLResponse(_INIT_JS, media_type="text/javascript")
