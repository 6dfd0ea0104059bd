"""The report page in a real browser: headless Chromium (Debian's `chromium`) opens index.html
with the network disabled, takes a screenshot; the charts must have rendered (their colours fill
real areas of the page) and no request may have left the page (Chromium's NetLog shows none).
Both languages: the Chinese page is opened too."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from pipeline import run

pytestmark = pytest.mark.slow
WIDTH, HEIGHT = 1400, 16000
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
    # the network is off: every host name fails to resolve, every proxied connection is refused
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--proxy-server=http://127.0.0.1:9",
    "--proxy-bypass-list=<-loopback>",
]
# Chart colours (matplotlib fills are exact colours): the category bars (Okabe-Ito hardware blue,
# labor pink) and the first two model colours (pipeline.report.MODEL_COLOURS: trend and unit-cost lines).
HARDWARE_BLUE, LABOR_PINK = (0x00, 0x72, 0xB2), (0xCC, 0x79, 0xA7)
LINE_BLUE, LINE_ORANGE = (0x1F, 0x77, 0xB4), (0xFF, 0x7F, 0x0E)


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's chromium; installed with apt-get when missing (the test set-up), skipped with the
    reason only when it cannot be installed."""
    found = shutil.which("chromium")
    if found:
        return found
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        pytest.skip("chromium is not installed and cannot be installed here (needs root and apt-get)")
    env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "chromium"]):
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900, check=False)
        if done.returncode != 0:
            pytest.skip(f"installing chromium failed: {' '.join(command)}: {done.stderr.strip()[-300:]}")
    found = shutil.which("chromium")
    if found is None:
        pytest.skip("apt-get installed chromium but it is not on PATH")
    return found


def _open(chromium: str, url: str, out: Path, size: tuple[int, int]) -> tuple[Path, Path]:
    """Open `url` in a fresh profile; return (screenshot, NetLog)."""
    out.mkdir(parents=True, exist_ok=True)
    shot, netlog = out / "screenshot.png", out / "netlog.json"
    command = [
        chromium,
        *FLAGS,
        f"--user-data-dir={out / 'profile'}",
        f"--log-net-log={netlog}",
        f"--window-size={size[0]},{size[1]}",
        f"--screenshot={shot}",
        url,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0 and shot.exists(), done.stderr[-2000:]
    return shot, netlog


def page_requests(netlog: Path) -> list[str]:
    """URLs the page asked for. Chromium's own background requests (update checks, time sync)
    have no initiator ('not an origin'); anything a document asks for has one (a file:// page's
    is 'null') and is keyed to the page in its network isolation key."""
    log = json.loads(netlog.read_text(encoding="utf-8"))
    start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    urls = []
    for event in log["events"]:
        params = event.get("params") or {}
        if event["type"] == start_job and "url" in params and params.get("initiator") != "not an origin":
            urls.append(params["url"])
    return urls


@pytest.fixture(scope="module", params=["en", "zh"])
def page(
    demo_estate, chromium: str, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> tuple[Path, Path, Path]:
    """The February report's page in each language (index.en.html, index.zh.html, both written by
    one report) opened in Chromium: (page, screenshot, NetLog). The page is self-contained, so a
    copy of it is opened on its own; the screenshot is kept beside the report
    (reports/2026-02/screenshot.png, screenshot-zh.png) for a person to look at."""
    lang = request.param
    report = run.report(demo_estate.root, "2026-02").parent / f"index.{lang}.html"
    out = tmp_path_factory.mktemp(f"browser-{lang}")
    index = out / "index.html"
    shutil.copyfile(report, index)
    shot, netlog = _open(chromium, index.as_uri(), out / "chromium", (WIDTH, HEIGHT))
    kept = report.parent / ("screenshot.png" if lang == "en" else f"screenshot-{lang}.png")
    shutil.copyfile(shot, kept)
    return index, kept, netlog


def _pixels(path: Path) -> tuple[tuple[int, int], dict[tuple[int, int, int], int]]:
    from PIL import Image  # matplotlib's own dependency

    with Image.open(path) as image:
        rgb = image.convert("RGB")
        counts = {colour: n for n, colour in rgb.getcolors(maxcolors=1 << 24)}
        return rgb.size, counts


def test_the_charts_rendered(page: tuple[Path, Path, Path]) -> None:
    _, shot, _ = page
    size, counts = _pixels(shot)
    assert size == (WIDTH, HEIGHT)
    total = WIDTH * HEIGHT
    white = counts.get((255, 255, 255), 0)
    assert white < total * 0.97  # not a blank page
    # The legend swatches in the tables are 13 x 13 px; a rendered stacked bar chart fills
    # thousands of pixels with the hardware blue and the labor pink.
    assert counts.get(HARDWARE_BLUE, 0) > 3000
    assert counts.get(LABOR_PINK, 0) > 3000
    # the daily trend and unit-cost line charts: their first two line colours
    assert counts.get(LINE_BLUE, 0) > 500 and counts.get(LINE_ORANGE, 0) > 500


def test_no_request_left_the_page(page: tuple[Path, Path, Path]) -> None:
    index, _, netlog = page
    assert page_requests(netlog) == []
    text = index.read_text(encoding="utf-8")
    assert not re.search(r"(src|href)\s*=\s*[\"']?(https?:)?//", text)


def test_the_request_check_sees_a_page_that_does_reach_out(chromium: str, tmp_path: Path) -> None:
    # control: the same check on a page with an external image and stylesheet must catch both
    leaky = tmp_path / "leaky.html"
    leaky.write_text(
        '<!DOCTYPE html><p>x</p><img src="http://example.invalid/x.png">'
        '<link rel="stylesheet" href="https://fonts.example.invalid/a.css">',
        encoding="utf-8",
    )
    _, netlog = _open(chromium, leaky.as_uri(), tmp_path / "run", (400, 300))
    assert sorted(page_requests(netlog)) == ["http://example.invalid/x.png", "https://fonts.example.invalid/a.css"]
