"""Retake docs/screenshot.png: the real UI (default local model) over an index of the bundled seeds,
"Which papers skip warmup?" answered and its first citation opened.

    PAPERCHAT_HOME=/tmp/seeds paperchat ingest
    python docs/take_screenshot.py /tmp/seeds docs/screenshot.png 7860

Needs Debian's chromium at /usr/bin/chromium and the playwright package (never `playwright install`).
"""
import os
import subprocess
import sys
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

home, out, port = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
env = {k: v for k, v in os.environ.items() if not k.startswith(("PAPERCHAT_", "OPENAI_", "CHROMA_"))}
env.update(PAPERCHAT_HOME=str(home), GRADIO_ANALYTICS_ENABLED="False", PYTHONUNBUFFERED="1")
log_path = home / "screenshot-server.log"
log = log_path.open("w")
proc = subprocess.Popen([sys.executable, "-m", "ui", "--port", str(port)], env=env, stdout=log,
                        stderr=subprocess.STDOUT, cwd=str(home))
try:
    deadline = time.monotonic() + 400
    while "index and model ready" not in log_path.read_text() and time.monotonic() < deadline:
        assert proc.poll() is None, log_path.read_text()[-3000:]
        time.sleep(0.5)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=["--no-sandbox", "--disable-gpu"])
        pg = b.new_page(viewport={"width": 1400, "height": 1000})
        pg.goto(f"http://127.0.0.1:{port}/")
        pg.wait_for_selector("#pc-stats .pc-stats[data-papers]:not([data-papers='0'])", timeout=60000)
        pg.fill("#pc-question textarea", "Which papers skip warmup?")
        pg.click("#pc-ask")
        pg.wait_for_function("""() => { const a = document.querySelectorAll('#pc-chat .pc-answer');
            return a.length && !a[a.length - 1].querySelector('.pc-typing'); }""", timeout=240000)
        pg.locator("#pc-chat .pc-answer a.pc-cite").first.click()
        time.sleep(2.0)  # the card's flash animation ends
        pg.mouse.move(5, 5)
        print(pg.locator("#pc-chat .pc-answer").last.inner_text())
        print("STATS", pg.locator("#pc-stats").inner_text())
        pg.screenshot(path=str(out))
        b.close()
finally:
    proc.terminate()
    proc.wait(timeout=30)
