"""The web page in a real browser: Debian's Chromium driven by Playwright against a real
``lps serve`` (api.testing.ServiceProcess) with API keys.

The flow: give the key, submit the README's example spec with the keyboard, watch the
job's progress reach done, open the job, see both plots and the critical-points table
(sorted by the keyboard), download a candidate and read it with safetensors. The oracle is
the service's own JSON, fetched apart with httpx: the page must show what the API says.
A bad spec shows the field and reason of the API's 422; a wrong key shows the 401's
reason. No page error, no console error (beyond the failed requests a test expects), and
no request leaves the service's origin.

Chromium is Debian's package (scripts/setup.sh installs it; Playwright's own browser
download is not available here): the module skips only when it is absent.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
import time

import httpx
import numpy as np
import pytest

from api.testing import ServiceProcess
from solver.networks.spec import EXAMPLE_SPEC, NetworkSpec

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.timeout(600),  # the machines that run this are often busy with other work
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (scripts/setup.sh installs it)"),
]

KEY, OTHER_KEY = "page-key-0123456789", "other-key-9876543210"
#: how long the browser waits for a job (the example's exact solve takes seconds)
JOB_WAIT_MS = 180_000


def warm_up(svc: ServiceProcess) -> None:
    """Solve the example's architecture once (another seed: the page's own submit stays a
    new job). The first exact-mode count of a fresh server reads the family file in the
    path counter's child; on a busy machine that can exceed the counter's 1 s and answer
    422 ``precheck_seconds``, which is the service's business, not the page's."""
    headers = {"Authorization": f"Bearer {OTHER_KEY}"}
    for _ in range(20):
        answer = httpx.post(svc.url + "/solve", json={**EXAMPLE_SPEC, "seed": 12345}, params={"wait": 120},
                            headers=headers, timeout=180)
        if answer.status_code != 422:
            break
        time.sleep(1)
    job = answer.json()
    assert answer.status_code in (200, 202), job
    deadline = time.monotonic() + 240
    while job["status"] in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(0.5)
        job = httpx.get(svc.url + f"/jobs/{job['id']}", headers=headers, timeout=60).json()
    assert job["status"] == "done", job


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    svc = ServiceProcess(tmp_path_factory.mktemp("pages"), env={"LPS_API_KEYS": f"{KEY},{OTHER_KEY}"})
    svc.start()
    try:
        warm_up(svc)
        yield svc
    finally:
        svc.stop()


@pytest.fixture(scope="module")
def api(service):
    with httpx.Client(base_url=service.url, headers={"Authorization": f"Bearer {KEY}"}, timeout=60) as c:
        yield c


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        # --no-sandbox: Chromium's sandbox refuses to run as root (CI runs as root)
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


class Watched:
    """A fresh tab (its own sessionStorage) that records console errors, page errors and
    every request's address."""

    def __init__(self, browser, origin: str) -> None:
        self.context = browser.new_context(accept_downloads=True)
        self.context.set_default_timeout(90_000)  # the machine may be busy with other work
        self.page = self.context.new_page()
        self.origin = origin
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        self.page.on("request", lambda r: self.requests.append(r.url))

    def check(self, expected_statuses: tuple[int, ...] = ()) -> None:
        """No error but the failed requests of ``expected_statuses``; nothing fetched
        from another origin."""
        allowed = [f"status of {s} " for s in expected_statuses]
        unexpected = [e for e in self.errors if not any(a in e for a in allowed)]
        assert unexpected == []
        foreign = [u for u in self.requests if not u.startswith(self.origin) and not u.startswith(("data:", "blob:"))]
        assert foreign == []


@pytest.fixture
def tab(browser, service):
    watched = Watched(browser, service.url)
    yield watched
    watched.context.close()


def give_key(page, key: str) -> None:
    """The key form asks for a key (and has the focus): type it and press Enter."""
    page.wait_for_selector("#api-key:focus")
    page.keyboard.type(key)
    page.keyboard.press("Enter")


def tab_to(page, selector: str, limit: int = 80) -> None:
    """Press Tab until the element ``selector`` has the focus (keyboard only)."""
    for _ in range(limit):
        if page.evaluate("(s) => document.activeElement === document.querySelector(s)", selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{selector} is not reachable with Tab")


def numbers(texts: list[str]) -> list[float]:
    return [float(t) for t in texts]


def test_submit_watch_plots_table_download(tab, service, api, tmp_path):
    page = tab.page
    page.goto(service.url + "/")
    # the script asks /health once the page has loaded: wait for its answer, not the placeholder
    page.wait_for_function("() => !document.querySelector('#health').innerText.includes('asking /health')")
    assert page.inner_text("#health").count("required") == 1  # what /health shows, before any key
    give_key(page, KEY)
    assert page.input_value("#spec").replace(" ", "").count('"mode":"exact"') == 1  # the README's example
    tab_to(page, "#submit-button")
    page.keyboard.press("Enter")
    link = page.wait_for_selector("#form-status a")
    job_id = link.get_attribute("href").rsplit("/", 1)[1]
    assert re.search(r"\((queued|running)\)", page.inner_text("#form-status"))  # submitted, not yet done

    # the list polls the job until it is done, progress full
    row = f'tr[data-job="{job_id}"]'
    page.wait_for_selector(f'{row}[data-status="done"]', timeout=JOB_WAIT_MS)
    job = api.get(f"/jobs/{job_id}").json()
    assert job["status"] == "done"
    total = job["progress"]["total"]
    assert page.inner_text(f"{row} .progress-text") == f"{total} / {total} paths"
    bar = page.query_selector(f"{row} progress")
    assert float(bar.get_attribute("value")) == pytest.approx(float(bar.get_attribute("max")))

    # the job page, reached by the keyboard
    tab_to(page, "#form-status a")
    page.keyboard.press("Enter")
    page.wait_for_selector(".loss-index-plot", timeout=60_000)
    page.wait_for_selector(".surrogate-plot")
    exact = job["result"]["exact"]

    # one surrogate plot per layer, two curves each, captions with the worker's fit errors
    plots = page.query_selector_all(".surrogate-plot")
    assert len(plots) == len(EXAMPLE_SPEC["layers"])
    captions = page.locator("#surrogate-plots figcaption").all_inner_texts()
    for plot, caption, fit in zip(plots, captions, exact["surrogates"]):
        assert len(plot.query_selector_all("path.series")) == 2
        shown = float(re.search(r"max error ([0-9.e+-]+)", caption).group(1))
        assert shown == pytest.approx(fit["max_error"], rel=1e-3, abs=1e-12)

    # the table: one row per real critical point (orbit), as the API lists them
    points = exact["critical_points"]
    rows = page.query_selector_all("#cp-table tbody tr")
    assert len(rows) == len(points)
    shown_index = [int(t) for t in page.locator('#cp-table td[data-col="index"]').all_inner_texts()]
    assert shown_index == [p["index"] for p in points]
    # the scatter: one point per critical point
    assert len(page.query_selector_all(".loss-index-plot circle.point")) == len(points)

    # sort by loss with the keyboard: ascending, then descending
    loss_button = '#cp-table th[data-col="loss"] button'
    tab_to(page, loss_button)
    page.keyboard.press("Enter")
    ascending = numbers(page.locator('#cp-table td[data-col="loss"]').evaluate_all("tds => tds.map(t => t.dataset.value)"))
    assert ascending == sorted(p["loss"] for p in points)
    assert page.get_attribute('#cp-table th[data-col="loss"]', "aria-sort") == "ascending"
    page.keyboard.press("Enter")
    descending = numbers(page.locator('#cp-table td[data-col="loss"]').evaluate_all("tds => tds.map(t => t.dataset.value)"))
    assert descending == sorted((p["loss"] for p in points), reverse=True)

    # the layers' fractions, as the result says
    active = page.locator('#layers-table td[data-col="active"]').all_inner_texts()
    assert active == [f"{100 * l['active_fraction']:.0f} %" for l in job["result"]["layers"]]

    # download candidate 1 with the keyboard and read it with safetensors
    from safetensors.numpy import load_file

    candidate = 1
    tab_to(page, f'button.download[data-candidate="{candidate}"]')
    with page.expect_download() as download:
        page.keyboard.press("Enter")
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    assert path.name == f"{job_id}-candidate{candidate}.safetensors"
    tensors = load_file(str(path))
    expected = job["result"]["candidates"][candidate]["weights"]
    assert sorted(tensors) == sorted(expected)
    for name, values in expected.items():
        assert tensors[name].dtype == np.float32
        np.testing.assert_allclose(tensors[name], np.asarray(values), rtol=1e-6, atol=1e-7)
    tab.check()


def test_system_option_solves_the_example(tab, service, api):
    """The PHC option, by the keyboard: the form's example (katsura-2) has 2^2 = 4
    solutions; the job page lists them as the API does."""
    page = tab.page
    page.goto(service.url + "/")
    give_key(page, KEY)
    tab_to(page, 'input[name="kind"][value="network"]')
    page.keyboard.press("ArrowDown")  # the radio group's next choice: a system
    assert page.is_visible("#system") and not page.is_visible("#spec")
    tab_to(page, "#submit-button")
    page.keyboard.press("Enter")
    link = page.wait_for_selector("#form-status a")
    job_id = link.get_attribute("href").rsplit("/", 1)[1]
    page.goto(service.url + f"/ui/jobs/{job_id}")
    page.wait_for_selector("#system-result:not([hidden])", timeout=JOB_WAIT_MS)
    job = api.get(f"/jobs/{job_id}").json()
    assert job["kind"] == "system" and len(job["result"]["solutions"]) == 4
    assert len(page.query_selector_all("#solutions-table tbody tr")) == 4
    tab.check()


def test_bad_spec_shows_field_and_reason(tab, service, api):
    page = tab.page
    page.goto(service.url + "/")
    give_key(page, KEY)
    bad = copy.deepcopy(EXAMPLE_SPEC)
    bad["layers"][0]["activation"] = "softsign"
    answer = api.post("/solve", json=bad)
    assert answer.status_code == 422
    detail = answer.json()["detail"][0]
    page.fill("#spec", json.dumps(bad))
    page.click("#submit-button")
    page.wait_for_selector("#form-error .field")
    assert page.inner_text("#form-error .field") == detail["field"]
    assert page.inner_text("#form-error .reason") == detail["reason"]
    assert "422" in page.inner_text("#form-error")

    # JSON that does not parse: the page says so without asking the service
    page.fill("#spec", '{"layers": [')
    page.click("#submit-button")
    page.wait_for_selector("#form-error >> text=not valid JSON")
    assert page.inner_text("#form-error .field") == "spec"
    tab.check(expected_statuses=(422,))


def test_wrong_key_shows_401_reason(tab, service):
    page = tab.page
    page.goto(service.url + "/")
    give_key(page, "not-a-key")
    page.wait_for_selector("#key-error:not(:empty)")
    reason = httpx.get(service.url + "/jobs", headers={"Authorization": "Bearer not-a-key"}).json()["reason"]
    shown = page.inner_text("#key-error")
    assert "401" in shown and reason in shown
    # the form asks again, and the right key then lists the jobs
    give_key(page, KEY)
    page.wait_for_selector("#key-section", state="hidden")
    assert page.inner_text("#key-error") == ""
    tab.check(expected_statuses=(401,))


def test_job_list_and_surrogates_api(service, api):
    """The JSON the page reads: the caller's jobs only; each layer's activation and
    surrogate (ReLU at degree 2 on [-2, 2] is 3/16 + x/2 + 15 x^2/64, the Legendre
    projection of the surrogate module's docstring scaled by relu(2t) = 2 relu(t))."""
    spec = {**EXAMPLE_SPEC, "mode": "start"}
    job = api.post("/solve", json=spec, params={"wait": 30}).json()
    mine = [j["id"] for j in api.get("/jobs").json()["jobs"]]
    assert job["id"] in mine
    other = httpx.get(service.url + "/jobs", headers={"Authorization": f"Bearer {OTHER_KEY}"}).json()["jobs"]
    assert job["id"] not in [j["id"] for j in other]
    listed = next(j for j in api.get("/jobs").json()["jobs"] if j["id"] == job["id"])
    assert listed["mode"] == "start" and "result" not in listed

    # the request as validated: the spec with its defaults filled in
    request = api.get(f"/jobs/{job['id']}/request").json()
    assert request == NetworkSpec.model_validate(spec).model_dump(mode="json")
    assert [{k: l[k] for k in EXAMPLE_SPEC["layers"][0]} for l in request["layers"]] == EXAMPLE_SPEC["layers"]
    curves = api.get(f"/jobs/{job['id']}/surrogates").json()["layers"]
    relu, identity = curves
    np.testing.assert_allclose(relu["coefficients"], [3 / 16, 1 / 2, 15 / 64], atol=1e-12)
    x = np.asarray(relu["x"])
    assert x[0] == pytest.approx(-2.0) and x[-1] == pytest.approx(2.0) and 0.0 in relu["x"]
    np.testing.assert_allclose(relu["activation_values"], np.maximum(x, 0.0), atol=1e-15)
    np.testing.assert_allclose(relu["surrogate_values"], 3 / 16 + x / 2 + 15 * x**2 / 64, atol=1e-12)
    # the largest gap is at an end (x = 2: 2 - (3/16 + 1 + 15/16) = -1/8) or at the kink (3/16)
    assert relu["max_error"] == pytest.approx(3 / 16, rel=1e-9)
    np.testing.assert_allclose(identity["surrogate_values"], identity["x"], atol=1e-12)
    assert identity["max_error"] == pytest.approx(0.0, abs=1e-12)
    # another key's job is not found, as for its other views
    other_key = httpx.get(service.url + f"/jobs/{job['id']}/surrogates", headers={"Authorization": f"Bearer {OTHER_KEY}"})
    assert other_key.status_code == 404
