"""The dashboard and the API docs in a real browser (Debian's chromium, driven by Playwright) against a
real API server and a real Celery worker on the embedded defaults, with API keys required.

Pages are read the way a person reads them: by role and label, waiting on what the person waits on.
Every request the browser makes to anywhere but the server is blocked and fails the test. Each page is
saved as a screenshot under ``screenshots/`` (ignored by git)."""

import hashlib
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pytest

from tests.datasets import write_image_folder, zip_folder
from tests.integration.stack import ROOT, TERMINAL, running_stack

pytestmark = pytest.mark.slow

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

CHROMIUM = Path(os.environ.get("DISTILLERY_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
SHOTS = ROOT / "screenshots"
WIDTHS = (1280, 390)
EPOCHS = 6
UPLOAD_S = 90  # an upload is answered once the server has checked it
BUDGET_STUDENTS = [{"arch": "mlp", "hidden_sizes": [h]} for h in (4, 16, 64)]  # 310, 1210 and 4810 parameters


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with running_stack("embedded", tmp_path_factory.mktemp("dashboard"),
                       extra_env={"DISTILLERY_AUTH_REQUIRED": "true"}) as s:
        yield s


@pytest.fixture(scope="module")
def api_key(stack) -> str:
    done = subprocess.run([sys.executable, "-m", "distillery_cli.main", "admin", "create-key", "--tenant", "dash"],
                          cwd=ROOT, env=stack.env, capture_output=True, text=True, check=True)
    return done.stdout.strip()


@pytest.fixture(scope="module")
def client(stack, api_key):
    with stack.client(headers={"Authorization": f"Bearer {api_key}"}) as c:
        yield c


@pytest.fixture(scope="module")
def seeded(stack, client, teacher_file):
    """A teacher, the digits set, a finished job with a baseline, a finished sweep and a finished budget
    sweep."""
    with open(teacher_file, "rb") as f:
        r = client.post("/v1/teachers", files={"file": ("teacher.pt", f)},
                        data={"name": "digits mlp", "format": "torchscript", "input_shape": "[64]"})
    assert r.status_code == 201, r.text
    teacher = r.json()
    r = client.post("/v1/transfer-sets", json={"name": "digits", "builtin": "digits"})
    assert r.status_code == 201, r.text
    digits = r.json()
    base = {"teacher_ids": [teacher["id"]], "transfer_set_id": digits["id"],
            "student": {"arch": "mlp", "hidden_sizes": [32]}}
    r = client.post("/v1/jobs", json={**base, "baseline": True, "hyperparameters": {"epochs": EPOCHS}})
    assert r.status_code == 202, r.text
    job_id = r.json()["id"]
    r = client.post("/v1/jobs", json={**base, "hyperparameters": {"epochs": 3},
                                      "sweep": {"temperature": [1, 4, 10], "soft_weight": [0.5, 0.9]},
                                      "export_formats": ["torchscript"]})
    assert r.status_code == 202, r.text
    sweep_id = r.json()["id"]
    # a budget sweep over three students: the largest is over the parameter bound, every one under the
    # latency bound (drawn as a line), whatever the shared machine's timings are
    r = client.post("/v1/jobs", json={**base, "hyperparameters": {"epochs": 2}, "export_formats": ["onnx"],
                                      "student": BUDGET_STUDENTS[0], "sweep": {"students": BUDGET_STUDENTS},
                                      "budget": {"latency_ms_p50": 50, "parameters": 2000}})
    assert r.status_code == 202, r.text
    budget_id = r.json()["id"]
    jobs = {name: stack.wait_for_job(client, i)
            for name, i in (("job", job_id), ("sweep", sweep_id), ("budget", budget_id))}
    for job in jobs.values():
        assert job["status"] == "succeeded", f"{job['error']}\n{stack.log('worker')}"
    return {"teacher": teacher, "digits": digits, **jobs}


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: apt-get install chromium"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


class Session:
    """A browser context whose every request off the server is blocked and remembered."""

    def __init__(self, browser, stack, key: str | None, width: int = 1280):
        self.outside: list[str] = []
        self.errors: list[str] = []
        self.context = browser.new_context(viewport={"width": width, "height": 900}, accept_downloads=True)
        if key:  # as if the key had been typed into the prompt earlier in this tab
            self.context.add_init_script(f"sessionStorage.setItem('distillery.apiKey', {key!r})")
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", self._console)
        self.base = stack.url

    def _route(self, route):
        host = urlparse(route.request.url).hostname
        if host != "127.0.0.1":
            self.outside.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    def _console(self, message):
        # 4xx answers are logged too, and some are expected here; a refused script or style is not
        if message.type == "error" and "Content Security Policy" in message.text:
            self.errors.append(message.text)

    def goto(self, path: str):
        self.page.goto(self.base + path)
        return self.page

    def close(self):
        self.context.close()
        assert self.outside == [], f"the page fetched from outside the server: {self.outside}"
        assert self.errors == [], f"script errors: {self.errors}"


@pytest.fixture
def session(browser, stack, api_key):
    sessions = []

    def make(key: str | None = api_key, width: int = 1280) -> Session:
        sessions.append(Session(browser, stack, key, width))
        return sessions[-1]

    yield make
    for s in sessions:
        s.close()


def shot(page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def check_layout(page, name: str) -> None:
    """No horizontal scrolling, and every form control has a label."""
    width = page.evaluate("innerWidth")
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"{name}: the page scrolls sideways ({scroll} > {width})"
    unlabelled = page.evaluate("""() => [...document.querySelectorAll('input, select, textarea')]
        .filter(el => el.type !== 'hidden')
        .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                      && !el.getAttribute('aria-labelledby'))
        .map(el => el.outerHTML)""")
    assert unlabelled == [], f"{name}: controls without a label: {unlabelled}"


def test_docs_render_offline(session, stack):
    s = session(key=None)
    page = s.goto("/docs")
    expect(page.locator(".opblock-summary-path", has_text="/v1/jobs/{job_id}/metrics")).to_be_visible(timeout=30_000)
    assert page.locator(".opblock").count() >= 15
    shot(page, "docs")
    page = s.goto("/redoc")
    expect(page.get_by_role("heading", name="Get Job Metrics")).to_be_visible(timeout=30_000)
    shot(page, "redoc")
    r = page.request.get(stack.url + "/")
    assert r.url.endswith("/ui/")


def test_without_a_key_the_page_asks_for_one_and_a_wrong_key_is_a_clear_error(session, api_key):
    s = session(key=None)
    page = s.goto("/ui/jobs")
    expect(page.get_by_role("heading", name="API key needed")).to_be_visible()
    expect(page.get_by_text("This server needs an API key")).to_be_visible()
    check_layout(page, "key prompt")
    shot(page, "key-prompt")
    page.get_by_label("API key", exact=True).fill("dk_not-a-real-key")
    page.get_by_role("button", name="Use this key").click()
    expect(page.get_by_role("alert")).to_contain_text("That API key was refused")
    expect(page.get_by_role("alert")).to_contain_text("not valid")
    page.get_by_label("API key", exact=True).fill(api_key)
    page.get_by_role("button", name="Use this key").click()
    expect(page.get_by_role("heading", name="Jobs")).to_be_visible()
    expect(page.get_by_role("table", name="Jobs")).to_be_visible()
    # the key is in sessionStorage only: not in the address, not in a cookie
    assert api_key not in page.url
    assert s.context.cookies() == []
    assert page.evaluate("sessionStorage.getItem('distillery.apiKey')") == api_key


def test_job_page_charts_table_and_downloads(session, client, seeded):
    job = seeded["job"]
    s = session()
    page = s.goto(f"/ui/jobs/{job['id']}")
    expect(page.get_by_role("heading", name=re.compile(job["id"]))).to_be_visible()
    expect(page.locator("[data-status]")).to_have_text("succeeded")

    # every chart holds one point per epoch of each run's metric, read back from the chart's own data
    runs = client.get(f"/v1/jobs/{job['id']}/metrics").json()["runs"]
    assert [r["name"] for r in runs] == ["distilled", "baseline"]
    keys = {k for r in runs for k in r["metrics"]}
    for key in ("total_loss", "soft_loss", "hard_loss", "val_accuracy", "val_teacher_agreement", "val_ece",
                "learning_rate", "samples_per_second", "grad_norm_soft", "grad_norm_hard"):
        assert key in keys, key
    figures = page.locator("figure.chart[data-metric]:not([data-metric^='sweep_'])"
                           ":not([data-metric='per_class_errors'])")
    expect(figures.first).to_be_visible()
    charted = {f.get_attribute("data-metric"): f.evaluate("f => f.chartData") for f in figures.all()}
    assert set(charted) == keys | {"grad_norm_ratio"}
    for key in keys:
        lines = {line["label"]: line["points"] for line in charted[key]["lines"]}
        expected = {r["name"]: [[p["step"], p["value"]] for p in r["metrics"][key]]
                    for r in runs if key in r["metrics"]}
        assert lines.keys() == expected.keys(), key
        for run, points in expected.items():
            assert [x for x, _ in lines[run]] == [x for x, _ in points], (key, run)
            assert [y for _, y in lines[run]] == pytest.approx([y for _, y in points]), (key, run)
        assert all(len(points) == EPOCHS for points in lines.values()), key
    ratio = charted["grad_norm_ratio"]["lines"]
    assert [line["label"] for line in ratio] == ["distilled"] and len(ratio[0]["points"]) == EPOCHS
    expect(page.get_by_role("figure", name="Total loss").locator("canvas")).to_be_visible()

    # the table of teacher, baseline and student says what the API's result says
    result = job["result"]
    table = page.get_by_role("table", name="Teacher, baseline and student")
    rows = (("teacher", "Teacher"), ("baseline", "Baseline (from scratch)"), ("student", "Distilled student"))
    for who, label in rows:
        row = table.get_by_role("row", name=re.compile(re.escape(label)))
        for key in ("test_errors", "best_epoch"):
            if key in result[who]:
                assert row.locator(f"td[data-key={key}]").inner_text() == str(result[who][key]), (who, key)
        for key in ("test_accuracy", "ece", "teacher_agreement"):
            if result[who].get(key) is not None:
                shown = float(row.locator(f"td[data-key={key}]").inner_text())
                assert shown == pytest.approx(result[who][key], abs=5e-5), (who, key)
    # beside it, what the student buys: the deployment report's figures (a TorchScript teacher: the student is
    # also timed in torch, and the speedup compares those two)
    report = result["deployment"]
    buys = page.get_by_role("table", name="What the student buys")
    for who in ("teacher", "student", "student_torch"):
        row = buys.locator(f"tr[data-who={who}]")
        assert row.locator("td[data-key=parameters]").inner_text() == str(report[who]["parameters"]), who
        shown = float(row.locator("td[data-key=latency_ms_p50]").inner_text())
        assert shown == pytest.approx(report[who]["latency_ms_p50"], abs=5e-4), who
    assert report["student"]["size_bytes"] == result["exports"]["onnx"]["size_bytes"]
    expect(page.locator("[data-ratio=speedup]")).to_have_text(f"{report['speedup']:.1f}×")
    expect(page.locator("[data-ratio=compression]")).to_have_text(f"{report['compression']:.1f}×")
    bars = page.locator("figure[data-metric=per_class_errors]").evaluate("f => f.chartData")
    for series, who in zip(bars["series"], ("teacher", "baseline", "student"), strict=True):
        assert series["values"] == [result[who]["per_class_errors"][c] for c in bars["classes"]], who

    # a download is the file whose sha256 the API names; the formats that outlive TorchScript come first
    exports = result["exports"]
    listed = page.locator("ul.downloads li").evaluate_all("items => items.map(i => i.dataset.format)")
    assert listed[0] in ("exported_program", "onnx") and listed[-1] == "torchscript", listed
    expect(page.locator("ul.downloads li[data-format=torchscript]")).to_contain_text("deprecated")
    item = page.locator("ul.downloads li[data-format=onnx]")
    expect(item.locator("code.sha256")).to_have_text(exports["onnx"]["sha256"])
    with page.expect_download() as info:
        item.get_by_role("button", name=re.compile("Download onnx")).click()
    data = Path(info.value.path()).read_bytes()
    assert hashlib.sha256(data).hexdigest() == exports["onnx"]["sha256"] and len(data) == exports["onnx"]["size_bytes"]

    types = [e["type"] for e in client.get(f"/v1/jobs/{job['id']}/events", params={"limit": 1000}).json()["data"]]
    expect(page.get_by_role("list", name="Events").get_by_role("listitem")).to_have_count(len(types))
    shot(page, "job")
    # the top of it, as in the README (docs/dashboard-job.png)
    page.screenshot(path=str(SHOTS / "job-top.png"), full_page=True,
                    clip={"x": 0, "y": 0, "width": 1280, "height": 1500})


def test_sweep_chart_has_one_point_per_member_and_marks_the_winner(session, seeded):
    sweep = seeded["sweep"]
    members, best = sweep["result"]["sweep"], sweep["result"]["best_member"]
    s = session()
    page = s.goto(f"/ui/jobs/{sweep['id']}")
    expect(page.get_by_text(f"★ {best}").first).to_be_visible()
    for metric in ("val_accuracy", "test_errors"):
        data = page.get_by_role("figure", name=re.compile("against temperature")).and_(
            page.locator(f"[data-metric=sweep_{metric}]")).evaluate("f => f.chartData")
        points = [tuple(p) for line in data["lines"] for p in line["points"]]
        assert sorted(points) == sorted((m["temperature"], m[metric]) for m in members)
        assert [line["label"] for line in data["lines"]] == ["soft_weight = 0.5", "soft_weight = 0.9"]
        winner = next(m for m in members if m["name"] == best)
        assert [(m["name"], m["x"], m["y"]) for m in data["marks"]] == [(best, winner["temperature"], winner[metric])]
    row = page.get_by_role("table", name="Sweep members").locator("tr.winner")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(best)
    shot(page, "sweep")


def test_budget_scatter_has_a_point_per_member_the_front_the_bound_and_the_winner(session, seeded):
    job = seeded["budget"]
    members, outcome = job["result"]["sweep"], job["result"]["budget"]
    assert [m["within_budget"] for m in members] == [True, True, False]
    s = session()
    page = s.goto(f"/ui/jobs/{job['id']}")
    figure = page.get_by_role("figure", name="Validation accuracy against latency (p50, batch 1)")
    expect(figure.locator("canvas")).to_be_visible()
    data = figure.evaluate("f => f.chartData")
    assert sorted((p["name"], p["x"], p["y"], p["within"]) for p in data["points"]) == sorted(
        (m["name"], m["latency_ms_p50"], m["val_accuracy"], m["within_budget"]) for m in members)
    # the front: each member more accurate than every faster one, from the fastest up
    front, best = [], -1.0
    for m in sorted(members, key=lambda m: (m["latency_ms_p50"], -m["val_accuracy"])):
        if m["val_accuracy"] > best:
            front.append([m["latency_ms_p50"], m["val_accuracy"]])
            best = m["val_accuracy"]
    assert data["front"] == front
    assert data["budget"] == {"latency_ms_p50": 50}
    assert figure.evaluate("f => f.uplot.scales.x.max") >= 50  # the bound's line lies inside the plot
    winner = next(m for m in members if m["name"] == outcome["winner"])
    assert outcome["winner"] == job["result"]["best_member"]
    assert (data["winner"]["name"], data["winner"]["x"], data["winner"]["y"]) == (
        winner["name"], winner["latency_ms_p50"], winner["val_accuracy"])
    table = page.get_by_role("table", name="Members under the budget")
    expect(table.locator("tr.winner")).to_contain_text(outcome["winner"])
    expect(table.locator(f"tr[data-member='{members[2]['name']}'] td").last).to_have_text("no")
    expect(page.locator("[data-within-budget=true]")).to_contain_text(outcome["reason"])
    shot(page, "budget")


def test_the_job_page_shows_why_temperature_auto_chose_its_temperature(session, stack, client, seeded):
    body = {"teacher_ids": [seeded["teacher"]["id"]], "transfer_set_id": seeded["digits"]["id"],
            "student": {"arch": "mlp", "hidden_sizes": [32]}, "export_formats": ["torchscript"],
            "hyperparameters": {"epochs": 2, "temperature": "auto"}}
    r = client.post("/v1/jobs", json=body)
    assert r.status_code == 202, r.text
    job = stack.wait_for_job(client, r.json()["id"])
    assert job["status"] == "succeeded", f"{job['error']}\n{stack.log('worker')}"
    search = job["result"]["temperature_search"]
    s = session()
    page = s.goto(f"/ui/jobs/{job['id']}")
    section = page.get_by_role("region", name="Temperature choice")
    expect(section.locator("[data-chosen]")).to_contain_text(f"T = {search['chosen']:g}")
    table = section.get_by_role("table", name="Temperature candidates")
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(len(search["candidates"]))
    for i, c in enumerate(search["candidates"]):
        cells = rows.nth(i).locator("td").all_inner_texts()
        assert float(cells[0]) == c["temperature"] and float(cells[1]) == pytest.approx(c["off_top_mass"], abs=5e-4)
        assert cells[-1] == c["status"]
    expect(table.locator("tr.winner")).to_have_count(1)
    expect(table.locator("tr.winner td").first).to_have_text(f"{search['chosen']:g}")
    expect(section.locator("[data-cost]")).to_contain_text("1.00 × one run")


def test_new_job_form_shows_422_beside_the_field_then_the_job_runs_live(session, client, seeded):
    s = session()
    page = s.goto("/ui/jobs/new")
    form = page.get_by_role("form", name="New job")
    form.get_by_label(re.compile(f"^{re.escape(seeded['teacher']['name'])}")).check()
    form.get_by_label("Transfer set", exact=True).select_option(seeded["digits"]["id"])
    form.get_by_label("Hidden sizes").fill("32")
    expect(form.get_by_label("Temperature", exact=True)).to_have_value("2")  # defaults are shown
    epochs = form.get_by_label("Epochs", exact=True)
    expect(epochs).to_have_value("30")
    epochs.fill("0")
    form.get_by_role("button", name="Submit job").click()
    expect(epochs).to_have_attribute("aria-invalid", "true")
    expect(epochs).to_have_accessible_description(re.compile("greater than 0"))
    error = form.locator(".field", has=page.get_by_label("Epochs", exact=True)).locator(".field-error")
    expect(error).to_contain_text("greater than 0")
    check_layout(page, "new job with errors")
    shot(page, "new-job-422")

    epochs.fill("40")
    form.get_by_label("Batch size", exact=True).fill("4")  # some 0.13 s an epoch here: time to watch it move
    # Requests as the browser sends them: a resource-timing entry would come only once the stream has ended,
    # which can be after the page has polled the job's end.
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    form.get_by_role("button", name="Submit job").click()
    expect(page).to_have_url(re.compile(r"/ui/jobs/job_"))
    job_id = page.url.rsplit("/", 1)[1]
    page.evaluate("window.__notReloaded = true")
    progress = page.locator("[data-progress]")
    expect(progress).to_have_text(re.compile(r"epoch ([1-9]|[1-3][0-9]) of 40"), timeout=120_000)
    first = progress.inner_text()
    expect(progress).not_to_have_text(first, timeout=60_000)  # it moves on while we watch
    expect(page.locator("[data-status]")).to_have_text("succeeded", timeout=180_000)
    expect(progress).to_have_text(re.compile("epoch 40 of 40"))
    assert page.evaluate("window.__notReloaded") is True, "the page was reloaded"
    assert any(u.endswith(f"/v1/jobs/{job_id}/events/stream") for u in requested), "the page did not follow the events"
    job = client.get(f"/v1/jobs/{job_id}").json()
    assert job["status"] in TERMINAL and job["hyperparameters"]["epochs"] == 40
    data = page.locator("figure[data-metric=val_accuracy]").evaluate("f => f.chartData")
    assert [len(line["points"]) for line in data["lines"]] == [40]
    expect(page.get_by_role("table", name="Teacher, baseline and student")).to_be_visible()


def test_the_job_form_shows_each_methods_own_parameters_and_submits_them(session, client, seeded):
    page = session().goto("/ui/jobs/new")
    form = page.get_by_role("form", name="New job")
    method = form.get_by_label("Method (loss)")
    expect(method).to_have_value("kd")
    expect(form.get_by_label("Beta", exact=True)).to_have_count(0)
    method.select_option("dkd")  # its own parameters, with its own defaults
    expect(form.get_by_label("Beta", exact=True)).to_have_value("8")
    expect(form.get_by_label("Temperature", exact=True)).to_have_value("4")
    method.select_option("dist")
    expect(form.get_by_label("Beta", exact=True)).to_have_count(0)
    expect(form.get_by_label("Inter weight", exact=True)).to_have_value("1")
    method.select_option("dkd")
    form.get_by_label(re.compile(f"^{re.escape(seeded['teacher']['name'])}")).check()
    form.get_by_label("Transfer set", exact=True).select_option(seeded["digits"]["id"])
    form.get_by_label("Hidden sizes").fill("32")
    form.get_by_label("Beta", exact=True).fill("2")
    form.get_by_label("Soft weight", exact=True).fill("auto")
    form.get_by_label("Epochs", exact=True).fill("2")
    form.get_by_role("button", name="Submit job").click()
    expect(page).to_have_url(re.compile(r"/ui/jobs/job_"))
    job = client.get(f"/v1/jobs/{page.url.rsplit('/', 1)[1]}").json()
    assert {k: job["hyperparameters"][k] for k in ("loss", "beta", "soft_weight", "temperature")} == {
        "loss": "dkd", "beta": 2, "soft_weight": "auto", "temperature": 4}


def test_cancel_button_stops_a_job(session, client, seeded):
    body = {"teacher_ids": [seeded["teacher"]["id"]], "transfer_set_id": seeded["digits"]["id"],
            "student": {"arch": "mlp", "hidden_sizes": [32]}, "hyperparameters": {"epochs": 500, "batch_size": 8}}
    r = client.post("/v1/jobs", json=body)
    assert r.status_code == 202, r.text
    s = session()
    page = s.goto(f"/ui/jobs/{r.json()['id']}")
    page.on("dialog", lambda d: d.accept())
    page.get_by_role("button", name="Cancel job").click()
    expect(page.locator("[data-status]")).to_have_text("cancelled", timeout=60_000)
    expect(page.get_by_role("button", name="Cancel job")).to_be_disabled()


def test_compare_overlays_runs_of_several_jobs(session, client, seeded):
    a, b = seeded["job"]["id"], seeded["sweep"]["id"]
    s = session()
    page = s.goto(f"/ui/compare?jobs={a}")
    page.get_by_label(re.compile(f"^{b} ·")).check()
    expect(page).to_have_url(re.compile(f"jobs={a},{b}"))
    runs = {f"{j}/{r['name']}": r for j in (a, b) for r in client.get(f"/v1/jobs/{j}/metrics").json()["runs"]}
    table = page.get_by_role("table", name="Compared runs")
    expect(table.locator("tbody tr")).to_have_count(len(runs))
    for key, run in runs.items():
        row = table.locator(f"tr[data-run='{key}']")
        expect(row.locator("td").nth(3)).to_have_text(str(run["result"]["test_errors"]))
    data = page.locator("figure[data-metric=val_accuracy]").evaluate("f => f.chartData")
    assert sorted(line["label"] for line in data["lines"]) == sorted(runs)
    page.get_by_label(f"{a}/baseline").uncheck()
    data = page.locator("figure[data-metric=val_accuracy]").evaluate("f => f.chartData")
    assert f"{a}/baseline" not in [line["label"] for line in data["lines"]]
    shot(page, "compare")


def test_teachers_and_transfer_sets_upload_and_delete(session, client, seeded, teacher_file, tmp_path):
    s = session()
    page = s.goto("/ui/teachers")
    form = page.get_by_role("form", name="Upload a teacher")
    form.get_by_label("Teacher file").set_input_files(str(teacher_file))
    form.get_by_label("Name").fill("uploaded in the browser")
    form.get_by_label("Format").select_option("torchscript")
    form.get_by_label("Input shape").fill("[65]")
    form.get_by_role("button", name="Upload teacher").click()
    # the server loads and runs the file (in its sandbox) before answering: that takes a few seconds
    expect(form.get_by_role("alert").first).to_contain_text("422", timeout=UPLOAD_S * 1000)  # the shape is wrong
    form.get_by_label("Input shape").fill("[64]")
    form.get_by_role("button", name="Upload teacher").click()
    table = page.get_by_role("table", name="Teachers")
    expect(table.get_by_role("link", name="uploaded in the browser")).to_be_visible(timeout=UPLOAD_S * 1000)
    shot(page, "teachers")

    # a teacher a job uses cannot go: the API's 409 is shown
    used = seeded["teacher"]
    page.on("dialog", lambda d: d.accept())
    row = table.locator(f"tr[data-teacher={used['id']}]")
    row.get_by_role("button", name=f"Delete {used['name']}").click()
    expect(row.get_by_role("alert")).to_contain_text("409")
    table.get_by_role("link", name="uploaded in the browser").click()
    expect(page.get_by_role("heading", name="Teacher uploaded in the browser")).to_be_visible()
    shot(page, "teacher")
    page.get_by_role("button", name="Delete uploaded in the browser").click()
    expect(page.get_by_role("heading", name="Teachers")).to_be_visible()
    table = page.get_by_role("table", name="Teachers")
    expect(table.get_by_role("link", name="uploaded in the browser")).to_have_count(0)

    rng = np.random.default_rng(0)
    buf = io.BytesIO()
    np.savez(buf, x=rng.random((40, 64), dtype=np.float32), y=rng.integers(0, 10, 40))
    (tmp_path / "set.npz").write_bytes(buf.getvalue())
    page = s.goto("/ui/transfer-sets")
    form = page.get_by_role("form", name="Upload a transfer set")
    form.get_by_label("Transfer set file").set_input_files(str(tmp_path / "set.npz"))
    form.get_by_label("Name of the upload").fill("random npz")
    form.get_by_role("button", name="Upload transfer set").click()
    table = page.get_by_role("table", name="Transfer sets")
    expect(table.get_by_role("link", name="random npz")).to_be_visible(timeout=UPLOAD_S * 1000)
    shot(page, "transfer-sets")
    digits_row = table.locator(f"tr[data-transfer-set={seeded['digits']['id']}]")
    digits_row.get_by_role("button", name="Delete digits").click()
    expect(digits_row.get_by_role("alert")).to_contain_text("409")
    table.get_by_role("link", name="random npz").click()
    expect(page.get_by_role("heading", name="Transfer set random npz")).to_be_visible()
    shot(page, "transfer-set")
    page.get_by_role("button", name="Delete random npz").click()
    expect(page.get_by_role("heading", name="Transfer sets")).to_be_visible()
    expect(page.get_by_role("table", name="Transfer sets").get_by_role("link", name="random npz")).to_have_count(0)
    assert all(t["name"] != "random npz" for t in client.get("/v1/transfer-sets").json()["data"])

    # an image archive of class folders, with its preprocessing
    archive = zip_folder(write_image_folder(tmp_path / "pngs", limit=30), tmp_path / "digits.zip")
    form = page.get_by_role("form", name="Upload a transfer set")
    form.get_by_label("Transfer set file").set_input_files(str(archive))
    form.get_by_label("Name of the upload").fill("png digits")
    expect(form.get_by_label("Labelled (image archives)")).to_be_checked()
    form.get_by_label("Preprocessing, JSON (image archives)").fill('{"color": "grayscale"}')
    form.get_by_role("button", name="Upload transfer set").click()
    table = page.get_by_role("table", name="Transfer sets")
    expect(table.get_by_role("link", name="png digits")).to_be_visible(timeout=UPLOAD_S * 1000)
    made = next(t for t in client.get("/v1/transfer-sets").json()["data"] if t["name"] == "png digits")
    assert made["kind"] == "image_archive" and made["sample_shape"] == [1, 8, 8] and len(made["class_names"]) == 10


def test_a_text_set_uploads_in_the_browser_and_its_page_shows_examples(session, client, tmp_path):
    hostile = '<img src=x onerror="document.title=1">'
    rows = [{"text": f"the cat sat {i}", "label": "positive" if i % 2 else "negative"} for i in range(9)]
    rows.insert(1, {"text": hostile + " " + "long " * 100, "label": "negative"})
    (tmp_path / "texts.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    (tmp_path / "texts.csv").write_text("sentence\nhello there\nbye now\n")
    page = session().goto("/ui/transfer-sets")
    form = page.get_by_role("form", name="Upload a transfer set")
    form.get_by_label("Transfer set file").set_input_files(str(tmp_path / "texts.jsonl"))
    form.get_by_label("Name of the upload").fill("reviews")
    form.get_by_role("button", name="Upload transfer set").click()
    table = page.get_by_role("table", name="Transfer sets")
    expect(table.get_by_role("link", name="reviews")).to_be_visible(timeout=UPLOAD_S * 1000)
    # a CSV becomes a set of texts when its text column is named
    form.get_by_label("Transfer set file").set_input_files(str(tmp_path / "texts.csv"))
    form.get_by_label("Name of the upload").fill("greetings")
    form.get_by_label("Text column (texts)").fill("sentence")
    form.get_by_role("button", name="Upload transfer set").click()
    expect(table.get_by_role("link", name="greetings")).to_be_visible(timeout=UPLOAD_S * 1000)
    made = {t["name"]: t for t in client.get("/v1/transfer-sets").json()["data"]}
    assert made["greetings"]["kind"] == "text" and not made["greetings"]["labelled"]

    table.get_by_role("link", name="reviews").click()
    examples = page.get_by_role("table").filter(has_text="Label")
    expect(examples.locator("tbody tr")).to_have_count(5)
    expected = made["reviews"]["spec"]["examples"]
    assert [e["text"] for e in expected][0] == "the cat sat 0" and len(expected[1]["text"]) == 200
    cells = examples.locator("tbody tr").nth(1).locator("td")
    expect(cells.nth(0)).to_have_text(expected[1]["text"])  # shown as text, not markup
    expect(cells.nth(1)).to_have_text("negative")
    assert page.title() != "1" and page.locator("main img").count() == 0
    shot(page, "text-set")


def test_jobs_list_filters_and_pages(session, seeded):
    s = session()
    page = s.goto("/ui/jobs")
    table = page.get_by_role("table", name="Jobs")
    expect(table.get_by_role("link", name=seeded["job"]["id"])).to_be_visible()
    row = table.locator(f"tr[data-job={seeded['job']['id']}]")
    expect(row).to_contain_text("succeeded")
    expect(row).to_contain_text("digits mlp")
    expect(row.get_by_role("progressbar")).to_have_attribute("value", str(2 * EPOCHS))
    page.get_by_label("Status").select_option("failed")
    expect(page).to_have_url(re.compile("status=failed"))
    expect(table).to_contain_text("No failed jobs.")
    page.get_by_label("Status").select_option("succeeded")
    expect(table.get_by_role("link", name=seeded["sweep"]["id"])).to_be_visible()


@pytest.mark.parametrize("width", WIDTHS)
def test_every_page_fits_and_labels_its_controls(session, seeded, width):
    s = session(width=width)
    pages = {
        "jobs": ("/ui/jobs", "Jobs"),
        "job": (f"/ui/jobs/{seeded['job']['id']}", "Job"),
        "sweep": (f"/ui/jobs/{seeded['sweep']['id']}", "Job"),
        "budget": (f"/ui/jobs/{seeded['budget']['id']}", "Job"),
        "new-job": ("/ui/jobs/new", "New job"),
        "compare": (f"/ui/compare?jobs={seeded['job']['id']},{seeded['sweep']['id']}", "Compare runs"),
        "teachers": ("/ui/teachers", "Teachers"),
        "teacher": (f"/ui/teachers/{seeded['teacher']['id']}", "Teacher"),
        "transfer-sets": ("/ui/transfer-sets", "Transfer sets"),
        "transfer-set": (f"/ui/transfer-sets/{seeded['digits']['id']}", "Transfer set"),
    }
    for name, (path, heading) in pages.items():
        page = s.goto(path)
        expect(page.get_by_role("heading", level=1, name=re.compile(f"^{heading}"))).to_be_visible()
        if name in ("job", "sweep", "budget", "compare"):
            expect(page.locator("figure.chart canvas").first).to_be_visible()
        check_layout(page, f"{name} at {width} px")
        shot(page, f"{name}-{width}")
