"""The HTML report, opened in a real browser (Debian's Chromium driven by Playwright)."""

import base64
import json
import os
import shutil

import numpy as np
import pytest
import torch

from aekit.cli.main import main
from aekit.errors import AekitError
from aekit.inference import decode
from aekit.models import ModelConfig, build_model
from aekit.report.html import write_report
from aekit.runs import Run, save_run

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Without these, Chromium tries to reach Google's services, which this closed network refuses.
FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing: .ci/run installs Debian's chromium package")
        pytest.skip("needs Chromium (apt-get install chromium)")
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield launched
        launched.close()


def open_page(browser, path):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems, requests = [], []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("request", lambda request: requests.append(request.url))
    page.goto(path.as_uri())
    page.wait_for_function("window.aekit !== undefined")
    return page, problems, requests


@pytest.fixture(scope="module")
def trained_report(tmp_path_factory, mnist_available):
    if not mnist_available:
        pytest.skip("needs AEKIT_DATA_DIR pointing at MNIST")
    folder = tmp_path_factory.mktemp("run")
    argv = ["train", "--epochs", "2", "--limit", "2000", "--lr-warmup", "0.1", "--adam-beta2", "0.99"]
    argv += ["--out", str(folder), "--force", "--report"]
    assert main(argv) == 0
    return folder / "report.html"


def test_report_is_one_small_file_with_every_figure(trained_report):
    text = trained_report.read_text()
    assert trained_report.stat().st_size < 5_000_000
    for caption in [
        "Loss per epoch",
        "reconstructions",
        "Codes of the test images",
        "Decoded grid",
        "Interpolations",
    ]:
        assert caption in text
    assert "<script src" not in text and "<link" not in text
    assert "0.0005 (constant, after a warm-up over 10% of the steps; Adam beta2 0.99)" in text


def test_explorer_decodes_under_the_pointer_and_shows_clicked_images(browser, trained_report, tmp_path):
    page, problems, requests = open_page(browser, trained_report)
    page.locator("#explorer").scroll_into_view_if_needed()
    scatter = page.locator("#scatter").bounding_box()
    decoded = page.locator("#decoded")

    page.mouse.move(scatter["x"] + 60, scatter["y"] + 60)
    first = decoded.evaluate("canvas => canvas.toDataURL()")
    page.mouse.move(scatter["x"] + 420, scatter["y"] + 400)
    second = decoded.evaluate("canvas => canvas.toDataURL()")
    assert first != second

    data = json.loads(page.locator("#aekit-data").text_content())
    x, y = page.evaluate("aekit.dotPosition(0)")
    page.mouse.click(scatter["x"] + x, scatter["y"] + y)
    assert page.locator("#picked").get_attribute("data-index") == str(data["indices"][0])
    # The original is drawn 5x (140 px for 28): its cell centres are the test image's pixels.
    shown = np.array(
        page.locator("#original").evaluate(
            "c => Array.from(c.getContext('2d').getImageData(0, 0, 140, 140).data)"
        ),
        dtype=np.uint8,
    ).reshape(140, 140, 4)[2::5, 2::5, 0]
    pixels = np.frombuffer(base64.b64decode(data["pixels"]), np.uint8)[:784].reshape(28, 28)
    np.testing.assert_array_equal(shown, pixels)

    page.screenshot(path=str(tmp_path / "explorer.png"), full_page=False)
    assert (tmp_path / "explorer.png").stat().st_size > 10_000
    assert problems == []
    assert all(url.startswith(("file://", "data:")) for url in requests), requests


@pytest.mark.parametrize("family", ["dense", "deep", "conv", "vae", "hybrid", "conv-resize"])
def test_in_page_decoder_matches_pytorch(browser, tmp_path, family, mnist_available):
    if not mnist_available:
        pytest.skip("needs AEKIT_DATA_DIR pointing at MNIST")
    family, _, upsample = family.partition("-")
    hidden = 32 if family == "deep" else 8
    model = build_model(ModelConfig(family, latent_dim=3, hidden=hidden, upsample=upsample or None), seed=1)
    if family == "hybrid":  # as prepare() would leave it: a mean image and directions, nonzero corrections
        model.prepare(np.random.default_rng(0).random((64, 1, 28, 28), dtype=np.float32))
        with torch.no_grad():
            model.decoder.correction[-1].weight.normal_(0, 0.1)
    save_run(Run(model=model), tmp_path)
    page, problems, _ = open_page(browser, write_report(tmp_path))
    codes = np.random.default_rng(0).standard_normal((3, 3)).astype(np.float32)
    for code in codes:
        in_page = np.array(page.evaluate("code => aekit.decode(code)", code.tolist()), np.float32)
        np.testing.assert_allclose(in_page, decode(model, code[None]).ravel(), atol=2e-5)
    assert problems == []


def test_a_model_the_page_cannot_run_still_gets_its_report(tmp_path, mnist_available, monkeypatch):
    if not mnist_available:
        pytest.skip("needs AEKIT_DATA_DIR pointing at MNIST")
    run = tmp_path / "hybrid"
    argv = ["train", "--model", "hybrid", "--hidden", "4", "--epochs", "1", "--limit", "256"]
    assert main([*argv, "--out", str(run)]) == 0

    def unknown_layer(decoder):
        raise AekitError("the report's in-page decoder cannot run a Tanh layer yet")

    monkeypatch.setattr("aekit.report.html.export_decoder", unknown_layer)
    text = write_report(run).read_text()
    assert "<h2>Latent explorer</h2><p>Not available for this model: the report&#x27;s in-page" in text
    assert "PCA, same code size" in text
