"""``vigie serve``: a live, read-only web dashboard over the catalog.

Pages (each with a JSON endpoint over the same query, see ``docs/serve.md``): cameras and their
health, counts per class over time and per study, a filterable grid of detections, videos with
their track timelines, a study's downloads, and the models. Needs the ``serve`` extra
(Starlette, Jinja2, uvicorn), imported only when a dashboard is built.

    from vigie.serve import Dashboard, ServeOptions
    with Dashboard(ServeOptions(catalog_url, workspace, port=0)) as dash:
        print(dash.url)
"""

from vigie.serve.server import Dashboard, ServeOptions

__all__ = ["Dashboard", "ServeOptions"]
