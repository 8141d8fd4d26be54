"""Browser test of the latent-space explorer (issue 7).

Serves a one-cell notebook that shows `cosmogan_nb.latent.InterpolationExplorer` with Voila on 127.0.0.1, opens it in
headless Chromium driven by Playwright, moves the t slider with the keyboard and checks that the displayed map changes
(its pixels, not only the image URL) and that t = 0 and the new t show different maps of the same explorer.

Needs: Debian's `chromium` (/usr/bin/chromium; Playwright's own browser download is not used) and the Python packages
`voila` and `playwright`. Skipped, with a message, only when Chromium is absent.
"""
import json, os, socket, subprocess, sys, time, urllib.error, urllib.request
from pathlib import Path
import pytest

CHROMIUM = '/usr/bin/chromium'
REPO = Path(__file__).resolve().parents[1]
ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
        '--disable-sync', '--no-first-run']
APP = '''import torch
from cosmogan_nb.model import Generator
from cosmogan_nb.latent import InterpolationExplorer
torch.manual_seed(0)
G = Generator(latent_dim=8, size=32, width=0.125)
G.train()
with torch.no_grad(): G(torch.randn(256, 8))   # BatchNorm statistics of an untrained generator, so the maps are not ~0
G.eval()
InterpolationExplorer(G, steps=9)'''

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"Chromium not found at {CHROMIUM}: apt-get install chromium")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]


def _wait_for_server(url: str, proc, timeout: float = 60.0):
    end = time.time() + timeout
    while time.time() < end:
        if proc.poll() is not None: raise RuntimeError(f"voila exited with code {proc.returncode}")
        try: urllib.request.urlopen(url, timeout=2); return
        except urllib.error.HTTPError: return                  # any HTTP answer means the server is up
        except OSError: time.sleep(0.2)
    raise TimeoutError(f"voila did not answer at {url} within {timeout} s")


@pytest.fixture
def voila_app(tmp_path):
    nb = {'cells': [{'cell_type': 'code', 'execution_count': None, 'id': 'explorer', 'metadata': {}, 'outputs': [], 'source': APP}],
          'metadata': {'kernelspec': {'display_name': 'Python 3', 'language': 'python', 'name': 'python3'}}, 'nbformat': 4, 'nbformat_minor': 5}
    (tmp_path / 'explorer.ipynb').write_text(json.dumps(nb))
    port, log = _free_port(), open(tmp_path / 'voila.log', 'w')
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get('PYTHONPATH', '')]), OMP_NUM_THREADS='1',
               JUPYTER_RUNTIME_DIR=str(tmp_path / 'runtime'), MPLBACKEND='Agg')
    proc = subprocess.Popen([sys.executable, '-m', 'voila', 'explorer.ipynb', '--no-browser', f'--port={port}', '--Voila.ip=127.0.0.1'],
                            cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_for_server(f'http://127.0.0.1:{port}/', proc)
        yield f'http://127.0.0.1:{port}/', tmp_path / 'voila.log'
    finally:
        proc.terminate()
        try: proc.wait(15)
        except subprocess.TimeoutExpired: proc.kill(); proc.wait()
        log.close()


def test_slider_changes_the_map(voila_app):
    from playwright.sync_api import sync_playwright
    url, log = voila_app
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page()
            page.goto(url, timeout=90_000)
            try: img = page.wait_for_selector('img.cosmogan-map', timeout=90_000)
            except Exception: raise AssertionError(f"the explorer did not render; voila log:\n{log.read_text()[-3000:]}")
            page.wait_for_function("() => { const i = document.querySelector('img.cosmogan-map'); return i.complete && i.naturalWidth > 0 }")
            readout = page.locator('.cosmogan-t .widget-readout')
            assert readout.inner_text().strip() == '0.000'
            src0, shot0 = img.get_attribute('src'), img.screenshot()

            page.locator('.cosmogan-t .noUi-handle').focus()
            for _ in range(4): page.keyboard.press('ArrowRight')   # 4 of the 8 steps: t = 0.5
            page.wait_for_function("s => document.querySelector('img.cosmogan-map').src !== s", arg=src0, timeout=30_000)
            page.wait_for_function("() => { const i = document.querySelector('img.cosmogan-map'); return i.complete && i.naturalWidth > 0 }")
            assert readout.inner_text().strip() == '0.500'
            src1, shot1 = img.get_attribute('src'), img.screenshot()
            assert shot1 != shot0, "the slider moved but the displayed map did not change"

            page.keyboard.press('Home')                             # back to t = 0: the first map again
            page.wait_for_function("() => document.querySelector('.cosmogan-t .widget-readout').innerText.trim() === '0.000'", timeout=30_000)
            page.wait_for_function("s => document.querySelector('img.cosmogan-map').src !== s", arg=src1, timeout=30_000)
            page.wait_for_function("() => { const i = document.querySelector('img.cosmogan-map'); return i.complete && i.naturalWidth > 0 }")
            assert img.screenshot() == shot0, "returning to t = 0 did not show the first map again"
        finally:
            browser.close()
