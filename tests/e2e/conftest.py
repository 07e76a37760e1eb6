"""Browser fixtures: a real HTTP server on loopback and Debian's Chromium driven by Playwright.

``live_server`` serves a fresh app (SQLite file, schema created, rate limits off) with the four
demo contenders on a streaming demo endpoint; tests add or replace contenders and seed any other
rows through ``live_server.session()``. ``page`` is a fresh browser context per test that fails
the test on any JavaScript error. Missing Chromium fails the run: these tests are never skipped.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, Request, sync_playwright
from sqlalchemy import update
from sqlalchemy.orm import Session
from werkzeug.serving import BaseWSGIServer, make_server

from arena import create_app
from arena import db as arena_db
from arena.db import engine_for, make_engine
from arena.models import Base, Contender

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SECRET = "e2e-secret-key-0123456789abcdef"
VIEWPORT = {"width": 1280, "height": 900}
# Seconds between streamed chunks: fast, yet slow enough that a person (and a test) sees text
# arrive piece by piece before the rendered answer replaces it.
STREAM_DELAY_S = 0.01

# Names chosen so that none of their words can occur in a demo answer or in the page chrome:
# a test that scans the page for them before the vote cannot pass by accident.
DEMO_CONTENDERS: tuple[tuple[str, str, str], ...] = (
    ("Quokka-7B", "Marsupial Labs", "demo-brief"),
    ("Pelican-Chat", "Seabird AI", "demo-verbose"),
    ("Narwhal-Instruct", "Arctic Compute", "demo-markdown"),
    ("Okapi-Research", "Forest Models", "demo-scholar"),
)


@dataclass
class LiveServer:
    """A running app: ``url`` (no trailing slash), ``app``, and helpers to arrange its data."""

    url: str
    app: Flask
    endpoint_url: str
    _server: BaseWSGIServer = field(repr=False)
    _thread: threading.Thread = field(repr=False)

    def session(self) -> AbstractContextManager[Session]:
        """A database session on the server's database (commit it yourself)."""
        return arena_db.new_session(self.app)

    def add_contender(self, name: str, organization: str = "Test Org",
                      model: str = "demo-brief", **fields: Any) -> Contender:
        """A contender served by the streaming demo endpoint (``model`` picks style or fault)."""
        values: dict[str, Any] = {
            "name": name, "organization": organization, "license": "MIT",
            "base_url": self.endpoint_url, "upstream_model": model,
            "connect_timeout": 2.0, "read_timeout": 5.0, "total_timeout": 20.0,
        }
        values.update(fields)
        with self.session() as db:
            contender = Contender(**values)
            db.add(contender)
            db.commit()
            return contender

    def deactivate_contenders(self) -> None:
        """Take every contender out of sampling, e.g. before adding a faulty pair."""
        with self.session() as db:
            db.execute(update(Contender).values(active=False))
            db.commit()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        engine_for(self.app).dispose()


@pytest.fixture(scope="session")
def streaming_endpoint() -> Iterator[Any]:
    """The demo inference server with fault models, streaming at a visible pace."""
    from arena import demo_endpoint as demo
    with demo.start(port=0, delay=STREAM_DELAY_S, faults=True) as server:
        yield server


@pytest.fixture
def live_server_config(tmp_path: Path) -> dict[str, Any]:
    """The app's test mapping; tweak it in a test before ``live_server`` is first used."""
    return {
        "TESTING": True,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'e2e.sqlite3'}",
        "SECRET_KEY": SECRET,
        "RATELIMIT_ENABLED": False,
        "RELEASES_DIR": str(tmp_path / "releases"),
    }


@pytest.fixture
def live_server(live_server_config: dict[str, Any], tmp_path: Path,
                streaming_endpoint: Any) -> Iterator[LiveServer]:
    """The app on a real threaded HTTP server at 127.0.0.1:<free port>, demo contenders seeded."""
    schema_engine = make_engine(live_server_config["DATABASE_URL"])
    Base.metadata.create_all(schema_engine)
    schema_engine.dispose()

    app = create_app(live_server_config, instance_path=str(tmp_path / "instance"))
    # Threaded: the page's event stream and its other requests run at the same time. Werkzeug's
    # handler threads are daemons, so an open stream never keeps the test process alive.
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                              name="e2e-live-server", daemon=True)
    thread.start()
    live = LiveServer(url=f"http://127.0.0.1:{server.server_port}", app=app,
                      endpoint_url=streaming_endpoint.url, _server=server, _thread=thread)
    try:
        for name, organization, model in DEMO_CONTENDERS:
            live.add_contender(name, organization, model)
        yield live
    finally:
        live.stop()


@pytest.fixture(scope="session")
def playwright_driver() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright_driver: Playwright) -> Iterator[Browser]:
    """Headless Debian Chromium; its absence fails the run (e2e tests are never skipped)."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: the browser tests need it. Run `make deps` "
                    "or `apt-get install chromium`.", pytrace=False)
    chromium = playwright_driver.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                                 args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()


def _is_js_error(message: ConsoleMessage) -> bool:
    # Chromium logs every 4xx/5xx response as a console error; those are HTTP outcomes the
    # tests assert on themselves, not script errors.
    return message.type == "error" and not message.text.startswith("Failed to load resource")


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh context and page (1280x900). JavaScript errors fail the test at teardown.

    ``page.js_errors`` (uncaught exceptions and console errors) and ``page.failed_requests``
    (requests that got no response) are lists a test may inspect.
    """
    context = browser.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
    tab = context.new_page()
    js_errors: list[str] = []
    failed_requests: list[str] = []
    tab.js_errors = js_errors  # type: ignore[attr-defined]
    tab.failed_requests = failed_requests  # type: ignore[attr-defined]
    tab.on("pageerror", lambda exc: js_errors.append(f"uncaught: {exc}"))
    tab.on("console", lambda msg: js_errors.append(f"console: {msg.text}")
           if _is_js_error(msg) else None)
    tab.on("requestfailed", lambda req: failed_requests.append(_describe_failure(req)))
    yield tab
    tab.close()
    context.close()
    if js_errors:
        pytest.fail("JavaScript errors on the page:\n" + "\n".join(js_errors), pytrace=False)


def _describe_failure(request: Request) -> str:
    return f"{request.method} {request.url}: {request.failure}"


@pytest.fixture
def screenshot_dir() -> Path:
    """``artifacts/screenshots/`` under the repository (gitignored), created on demand."""
    path = REPO / "artifacts" / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def save_screenshot(page: Page, screenshot_dir: Path) -> Callable[..., Path]:
    """Save a full-page screenshot as ``<screenshot_dir>/<name>.png`` and return its path."""

    def save(name: str, full_page: bool = True) -> Path:
        path = screenshot_dir / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return save



# --- accessibility: axe-core, shared by every page's tests ---------------------------------
# axe-core comes from the npm registry (`make axe`, run by `make test`: a pinned npm install
# into tests/e2e/.axe); nothing is downloaded while the tests run. The script is evaluated
# through the DevTools protocol, so a Content-Security-Policy without inline scripts does not
# block it.

AXE_JS = Path(__file__).resolve().parent / ".axe" / "node_modules" / "axe-core" / "axe.min.js"
#: Impacts that fail a page; "moderate" and "minor" findings are reported by axe but allowed.
BLOCKING = ("serious", "critical")


@cache
def _axe_source() -> str:
    if not AXE_JS.exists():
        pytest.fail(f"{AXE_JS} is missing: run `make axe` (npm install of the pinned axe-core).",
                    pytrace=False)
    return AXE_JS.read_text(encoding="utf-8")


def axe_violations(page: Page, impacts: tuple[str, ...] = BLOCKING) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it is now, of the given impacts."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(_axe_source())
    result = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations")
    return [v for v in result if v.get("impact") in impacts]


def describe_violations(found: list[dict[str, Any]]) -> str:
    lines = []
    for v in found:
        targets = [", ".join(map(str, n.get("target", []))) for n in v.get("nodes", [])[:5]]
        lines.append(f"{v['impact']}: {v['id']} ({v['help']}) at {targets}")
    return "\n".join(lines)


@pytest.fixture
def assert_accessible(page: Page) -> Callable[..., None]:
    """``assert_accessible(where, on=page)``: axe-core finds no serious or critical violation
    on the page as it is now (``on``: another page, e.g. of a dark-mode context)."""

    def check(where: str, on: Page | None = None) -> None:
        found = axe_violations(on or page)
        assert not found, f"accessibility violations on {where}:\n{describe_violations(found)}"

    return check
