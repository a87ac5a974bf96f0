"""Render an `augment evaluate --report` page in a real headless browser and check what it shows.

Chromium is not a dependency; on Debian: ``apt-get install chromium``. The script opens
``REPORT/index.html``, takes a screenshot (``REPORT.png`` beside the folder, or ``--screenshot``),
and reads back the DOM the browser built: the verdicts list, the plots (SVG with their bars) and
every picture must be there, and every picture must have loaded (its natural width is not 0).

    .venv/bin/augment synth samples/digits --per-class 4 --out /tmp/d.h5
    .venv/bin/augment evaluate /tmp/d.h5 --real samples/digits --holdout HELD_OUT --report /tmp/report
    .venv/bin/python tools/render_report.py /tmp/report

Exit code 0 when everything rendered, 1 with the reason otherwise.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

# run in the page after it loads: what the browser made of it
PROBE = """
<script>
window.addEventListener('load', () => {
  const images = [...document.images].map(i => ({src: i.getAttribute('src'), width: i.naturalWidth}));
  const result = {
    verdicts: [...document.querySelectorAll('ul.verdicts li')].map(li => li.textContent),
    svgs: [...document.querySelectorAll('svg')].map(s => s.querySelectorAll('rect').length),
    images: images,
  };
  const out = document.createElement('pre');
  out.id = 'render-probe';
  out.textContent = JSON.stringify(result);
  document.body.appendChild(out);
});
</script>
"""


def browser() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return name
    sys.exit("no headless browser: apt-get install chromium")


def render(report: pathlib.Path, screenshot: pathlib.Path) -> dict:
    """Screenshot the page, and return what the probe read from the browser's DOM."""
    command = [browser(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"]
    subprocess.run(
        [*command, f"--screenshot={screenshot}", "--window-size=1200,2400", (report / "index.html").as_uri()],
        check=True,
        capture_output=True,
        timeout=120,
    )
    with tempfile.TemporaryDirectory(dir=report.parent) as scratch:
        copy = pathlib.Path(scratch) / "report"
        shutil.copytree(report, copy)
        page = (copy / "index.html").read_text().replace("</body>", PROBE + "</body>")
        (copy / "index.html").write_text(page)
        dom = subprocess.run(
            [*command, "--virtual-time-budget=5000", "--dump-dom", (copy / "index.html").as_uri()],
            check=True,
            capture_output=True,
            text=True,
            timeout=120,
        ).stdout
    found = re.search(r'<pre id="render-probe">(.*?)</pre>', dom, re.S)
    if not found:
        sys.exit("the page did not finish loading in the browser")
    return json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", type=pathlib.Path, help="the folder written by augment evaluate --report")
    parser.add_argument("--screenshot", type=pathlib.Path)
    args = parser.parse_args()
    report = args.report.resolve()
    screenshot = args.screenshot or report.with_suffix(".png")
    seen = render(report, screenshot.resolve())
    problems = []
    if not seen["verdicts"]:
        problems.append("no verdicts")
    if not seen["svgs"] or min(seen["svgs"]) == 0:
        problems.append(f"plots missing or empty (bars per plot: {seen['svgs']})")
    broken = [i["src"] for i in seen["images"] if i["width"] == 0]
    if not seen["images"] or broken:
        problems.append(f"pictures that did not load: {broken or 'none on the page'}")
    print(f"screenshot: {screenshot}")
    for verdict in seen["verdicts"]:
        print(f"verdict: {verdict}")
    print(f"plots: {len(seen['svgs'])} (bars {seen['svgs']}); pictures: {len(seen['images'])}, all loaded")
    if problems:
        sys.exit("; ".join(problems))


if __name__ == "__main__":
    main()
