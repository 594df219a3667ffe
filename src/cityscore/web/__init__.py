"""The public dashboard: server-rendered pages (Jinja2, htmx, Apache ECharts), every asset vendored."""
