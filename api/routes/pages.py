"""The web page, served by the app itself (offline: every script and style ships in
:mod:`api.pages`).

``GET /`` the caller's jobs with live progress and the submit form; ``GET /ui/jobs/{id}``
one job (its spec, surrogate plots, critical points, layers, candidate downloads);
``GET /ui/static/{name}`` the page's scripts and style sheet. The pages are open: they hold
no data. Their scripts call the JSON API with the key the user gives (kept in the tab's
``sessionStorage``, sent as ``Authorization: Bearer``).
"""

from __future__ import annotations

import html
import json
from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse

from api.errors import ApiError
from solver.networks.spec import EXAMPLE_SPEC

router = APIRouter(include_in_schema=False)

PAGES = Path(__file__).resolve().parents[1] / "pages"
STATIC = {p.name: p for p in (PAGES / "static").iterdir() if p.suffix in (".js", ".css")}
_MEDIA = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}

#: the pages load nothing from another host and run no inline script
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data: blob:; object-src 'none'; "
                               "base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}

#: the PHC example of the form (katsura-2: 3 unknowns, 4 solutions)
EXAMPLE_SYSTEM = """3
x0 + 2*x1 + 2*x2 - 1;
x0^2 + 2*x1^2 + 2*x2^2 - x0;
2*x0*x1 + 2*x1*x2 - x1;
"""


#: per page: its title, its script, and whether it is the "Jobs" entry of the menu
_PAGES = {"index.html": ("jobs", "jobs.js", True), "job.html": ("job", "job.js", False)}


def _partial(name: str) -> str:
    return (PAGES / name).read_text(encoding="utf-8").rstrip("\n")


@lru_cache(maxsize=None)
def _page(name: str) -> str:
    """The page with its shared parts (``_top.html``: head and menu; ``_key.html``: the
    key form) and the form's examples filled in."""
    title, script, jobs_current = _PAGES[name]
    top = (_partial("_top.html").replace("{{title}}", title).replace("{{script}}", script)
           .replace("{{jobs_current}}", ' aria-current="page"' if jobs_current else ""))
    text = (PAGES / name).read_text(encoding="utf-8")
    return (text.replace("{{top}}", top).replace("{{key_section}}", _partial("_key.html"))
            .replace("{{example_spec}}", html.escape(json.dumps(EXAMPLE_SPEC, indent=2)))
            .replace("{{example_system}}", html.escape(EXAMPLE_SYSTEM)))


@router.get("/")
async def jobs_page() -> HTMLResponse:
    return HTMLResponse(_page("index.html"), headers=HEADERS)


@router.get("/ui/jobs/{job_id}")
async def job_page(job_id: str) -> HTMLResponse:
    # the script reads the id from the address; the job itself needs the key
    return HTMLResponse(_page("job.html"), headers=HEADERS)


@router.get("/ui/static/{name}")
async def static_file(name: str) -> FileResponse:
    path = STATIC.get(name)
    if path is None:
        raise ApiError(404, "not_found", f"no page file {name!r}")
    return FileResponse(path, media_type=_MEDIA[path.suffix], headers=HEADERS)
