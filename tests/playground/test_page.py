"""The playground in a real browser: ``python -m bot --playground`` driven by headless Chromium (Playwright).

It runs /animate with a sample picture and follows the card to its video, cancels a second job, has a
picture that breaks the API's rules refused in Korean, and stops everything with Ctrl-C. Set
``PLAYGROUND_SCREENSHOT=docs/playground.png`` to refresh the README's screenshot.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import ConsoleMessage, Locator, Page, Response, expect, sync_playwright

from bot.i18n import catalog

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
REPO_ROOT = Path(__file__).resolve().parents[2]
STEP_MS = 30_000
EN, KO = catalog("en"), catalog("ko")
# Every title a card shows, recorded as it appears, so the test can check the order afterwards.
RECORD_TITLES = """
window.cardTitles = {};
new MutationObserver(() => {
  for (const card of document.querySelectorAll("article.message")) {
    const title = card.querySelector(".embed-title");
    if (!title) continue;
    const seen = (window.cardTitles[card.dataset.messageId] ||= []);
    if (seen[seen.length - 1] !== title.textContent) seen.push(title.textContent);
  }
}).observe(document, { childList: true, subtree: true, characterData: true });
"""

# Resolves once the video can play (readyState 2 is HAVE_CURRENT_DATA), rejects if it cannot be decoded.
PLAYABLE = """
v => v.readyState >= 2 || new Promise((ok, fail) => {
  v.addEventListener("canplay", ok);
  v.addEventListener("error", () => fail(new Error("the video cannot be played: " + v.error?.message)));
})
"""

pytestmark = [
    pytest.mark.timeout(180),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (apt-get install chromium)"),
]


@pytest.fixture
def browser_page() -> Iterator[Page]:
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield browser.new_page(viewport={"width": 1440, "height": 1200})
        browser.close()


@pytest.fixture
def playground(tmp_path: Path, browser_page: Page) -> Iterator[tuple[str, Path]]:
    """The playground exactly as a visitor starts it; yields its address and data folder, then Ctrl-C
    (while the page is still open and listening: the browser is set up before it and closed after)."""
    data = tmp_path / "data"
    command = [sys.executable, "-m", "bot", "--playground", "--port", "0", "--data", str(data)]
    command += ["--queue-s", "3", "--run-s", "3"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "RUNCOMFY_", "DATABASE_"))}
    process = subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
        command, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert process.stdout is not None
    printed: list[str] = []
    address = None
    while address is None:
        line = process.stdout.readline()
        if not line:
            process.wait()
            pytest.fail("the playground stopped before serving:\n" + "".join(printed))
        printed.append(line)
        found = re.search(r"open (http://\S+)", line)
        address = found.group(1) if found else None
    try:
        yield address, data
    finally:
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=30)
    rest = process.stdout.read()
    assert code == 0, "".join(printed) + rest
    bot_log = (data / "bot-stderr.log").read_text() + (data / "bot-stdout.log").read_text()
    assert "stopped" in bot_log, f"the bot did not stop cleanly:\n{bot_log}"


def job_card(page: Page, prompt: str) -> Locator:
    """The public reply whose card shows ``prompt``."""
    return page.locator("article.message:not(.ephemeral)").filter(has=page.locator(".embed", has_text=prompt))


def run_animate(page: Page, prompt: str, sample: str) -> None:
    page.locator(f'.picker[data-option="image"] button[data-sample="{sample}"]').click()
    page.locator('textarea[name="prompt"]').fill(prompt)
    page.locator("#send").click()
    expect(page.locator("#composer-note")).to_have_text("", timeout=STEP_MS)


def set_slider(page: Page, slider_id: str, seconds: float) -> None:
    page.locator(f"#{slider_id}").evaluate(
        "(input, value) => { input.value = value; input.dispatchEvent(new Event('change')); }", str(seconds)
    )


def test_the_page_runs_cancels_refuses_and_plays(browser_page: Page, playground: tuple[str, Path]) -> None:
    address, data = playground
    page = browser_page
    screenshot = Path(os.environ.get("PLAYGROUND_SCREENSHOT", data / "playground.png"))
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("console", lambda m: _record_console_error(m, problems))
    page.on("response", lambda r: _record_http_error(r, problems))
    page.add_init_script(RECORD_TITLES)
    page.goto(address)
    expect(page.locator("body")).to_have_attribute("data-bot", "online", timeout=STEP_MS)
    expect(page.locator("#command")).to_have_value("animate", timeout=STEP_MS)

    # Mina animates the sunset; her card goes through the queue, generation and delivery.
    run_animate(page, "the sun sinks behind the hills", "sunset")
    first_card = job_card(page, "the sun sinks behind the hills")
    expect(first_card).to_have_count(1, timeout=STEP_MS)
    first_id = first_card.get_attribute("data-message-id")
    expect(first_card.locator(".embed-title")).to_have_text(EN["card.title.in_progress"], timeout=STEP_MS)

    # Jun's job waits at RunComfy for a minute, long enough for him to cancel it there.
    set_slider(page, "queue-s", 60)
    page.locator('label[data-member="jun"]').click()
    run_animate(page, "ripples spread across the lake <img src=x>", "lake")
    second = job_card(page, "ripples spread across the lake")
    expect(second.locator(".embed")).to_contain_text("<img src=x>", timeout=STEP_MS)
    expect(second.locator(".embed img:not(.embed-thumbnail)")).to_have_count(0)
    expect(second.locator(".embed-title")).to_have_text(EN["card.title.in_queue"], timeout=STEP_MS)
    cancel = second.locator("button", has_text=EN["card.cancel"])
    expect(cancel).to_be_enabled(timeout=STEP_MS)
    cancel.click()
    expect(second.locator(".embed-title")).to_have_text(EN["card.title.cancelled"], timeout=STEP_MS)

    # A picture far too wide is refused privately, in the member's language.
    page.locator('label[data-member="mina"]').click()
    page.locator('input[name="locale"][value="ko"]').check(force=True)
    run_animate(page, "the banner waves", "banner")
    refusal = page.locator("article.message.ephemeral").filter(has_text="1500×400")
    expect(refusal).to_have_count(1, timeout=STEP_MS)
    expect(refusal).to_contain_text("Only you can see this")
    assert re.search("[\uac00-\ud7a3]", refusal.inner_text()), refusal.inner_text()
    page.locator('label[data-member="jun"]').click()
    expect(refusal).to_have_count(0)
    page.locator('label[data-member="mina"]').click()

    # Mina's video arrives and plays inline.
    expect(first_card.locator(".embed-title")).to_have_text(EN["card.title.delivered"], timeout=STEP_MS)
    video = first_card.locator("video")
    expect(video).to_have_count(1, timeout=STEP_MS)
    video.evaluate(PLAYABLE)
    assert video.evaluate("v => v.readyState") >= 2
    titles: list[str] = page.evaluate("ids => window.cardTitles[ids]", first_id)
    waiting = titles.index(EN["card.title.in_queue"])
    assert waiting < titles.index(EN["card.title.in_progress"]) < titles.index(EN["card.title.delivered"])

    expect(page.locator("body")).to_have_attribute("data-bot", "online")
    page.locator('input[name="locale"][value="en-US"]').check(force=True)
    first_card.evaluate("card => card.scrollIntoView({ block: 'start' })")
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(screenshot))
    assert not problems, problems


def _record_http_error(response: Response, problems: list[str]) -> None:
    if response.status >= 400:
        problems.append(f"HTTP {response.status} for {response.url}")


def _record_console_error(message: ConsoleMessage, problems: list[str]) -> None:
    if message.type == "error":
        problems.append(f"console error: {message.text}")
