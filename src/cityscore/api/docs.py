"""The OpenAPI documentation page (``/docs``): Swagger UI from the vendored assets, started by a static script
(``static/swagger-init.js``) rather than an inline one, so the Content-Security-Policy needs no exception for it."""

from __future__ import annotations

from html import escape

from fastapi.responses import HTMLResponse

TITLE = "CityScore-KZ API"


def swagger_page(openapi_url: str = "/openapi.json") -> HTMLResponse:
    from ..web.pages import static_url

    return HTMLResponse(f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(TITLE)}</title>
<link rel="stylesheet" href="{static_url('vendor/swagger-ui/swagger-ui.css')}">
<link rel="icon" href="{static_url('favicon.svg')}" type="image/svg+xml">
</head>
<body>
<div id="swagger-ui" data-openapi-url="{escape(openapi_url)}"></div>
<script src="{static_url('vendor/swagger-ui/swagger-ui-bundle.js')}"></script>
<script src="{static_url('swagger-init.js')}"></script>
</body>
</html>
""")
