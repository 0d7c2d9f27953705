"""The upload page in headless Chromium: three files uploaded, the progress bar reaches 100%."""

import shutil

import pytest
from playwright.async_api import async_playwright

from tests.conftest import ROOT

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = ROOT / "artifacts"


@pytest.fixture
async def page():
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )
        try:
            yield await browser.new_page(viewport={"width": 1100, "height": 900})
        finally:
            await browser.close()


async def test_three_files_uploaded_through_the_page_reach_100_percent(running_system, page, tmp_path):
    files = []
    for number in range(3):
        path = tmp_path / f"page-upload-{number}.txt"
        path.write_text(f"Uploaded through the browser {number} {tmp_path}. " * 20)
        files.append(str(path))
    mapping = tmp_path / "mapping.json"
    mapping.write_text("{" + ",".join(f'"page-upload-{n}.txt": {{"author": "Browser"}}' for n in range(3)) + "}")

    await page.goto(running_system.base_url + "/")
    await page.fill("#api-key", "dev-key")
    await page.dispatch_event("#api-key", "change")
    await page.set_input_files("#files", files)
    await page.set_input_files("#mapping", str(mapping))
    await page.click("#send")

    batch = page.locator(".batch").first
    await batch.wait_for(timeout=15_000)
    await page.wait_for_selector('.batch[data-status="completed"] .bar[aria-valuenow="100"]', timeout=60_000)
    assert "3 ingested, 0 unchanged, 0 failed of 3" in await batch.locator(".counts").inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "upload-page.png"), full_page=True)
    assert (ARTIFACTS / "upload-page.png").stat().st_size > 0
