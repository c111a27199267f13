"""The preview page's save-to-page time: `python -m bench.preview` (part of `make bench`).

`decision-map watch --preview` runs as a process on a copy of the coalition map (with the
maps it hands off to and their scenarios). A follower reads the page's event stream as
preview.js does and, on each frame, fetches the page. Saves alternate between a typo'd
`next` and its fix; the figure is the time from the end of the write until the fetched
page shows that save whole: for the typo, the problem listed and its node marked in the
picture; for the fix, no problem and no mark. Issue 19 asks for 1 s (judged at p95; the
slowest save is reported beside it). Client, watch and server share this machine's
cores, so the numbers are as measured, not a capacity."""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
MAPS = ROOT / "maps"
NAMES = ("coalition-formation.yaml", "working-through-dissent.yaml", "common-ground.yaml")
TYPO = ("      no: power-map\n", "      no: powr-map\n")
WAIT = 20.0  # seconds any one save may take before the run fails
SETTLE_S = 1.0  # after the first page, the watcher is up within this long
TARGET_S = 1.0  # issue 19: the page refreshes within 1 s of a save


def _broken(html: str) -> bool:
    return "DM101" in html and 'class="node problem"' in html


def _mended(html: str) -> bool:
    return "No problems." in html and 'class="node problem"' not in html


class Follower:
    """The page as a browser holds it: the newest page fetched after each frame."""

    def __init__(self, base: str) -> None:
        self.client = httpx.Client(base_url=base, timeout=WAIT)
        self.cond = threading.Condition()
        self.page, self.at = "", 0.0
        self.stop = threading.Event()
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        with httpx.Client(base_url=str(self.client.base_url), timeout=None) as stream_client:
            with stream_client.stream("GET", "/events") as s:
                for line in s.iter_lines():
                    if self.stop.is_set():
                        return
                    if line.startswith("data: "):
                        page = self.client.get("/").text
                        with self.cond:
                            self.page, self.at = page, time.perf_counter()
                            self.cond.notify_all()

    def wait(self, ok, since: float) -> float:
        """Seconds from `since` until a page fetched after it passes `ok`."""
        deadline = time.monotonic() + WAIT
        with self.cond:
            while not (self.at >= since and ok(self.page)):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise SystemExit(f"the page did not show the save within {WAIT} s")
                self.cond.wait(left)
            return self.at - since


def _cpu_s(pid: int) -> float | None:
    """CPU seconds a process has used (Linux): on a shared machine the wall time of a save
    also counts the time other processes held the cores."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def run(saves: int) -> dict:
    own = Path(sys.executable).parent / "decision-map"  # this checkout's, not PATH's
    exe = str(own) if own.exists() else shutil.which("decision-map") or "decision-map"
    with tempfile.TemporaryDirectory(prefix="bench-preview-") as tmp:
        work = Path(tmp)
        (work / "scenarios").mkdir()
        for name in NAMES:
            shutil.copy(MAPS / name, work / name)
            shutil.copy(MAPS / "scenarios" / name, work / "scenarios" / name)
        map_file = work / NAMES[0]
        good = map_file.read_text(encoding="utf-8")
        typo = good.replace(*TYPO, 1)
        if typo == good:
            raise SystemExit("the coalition map changed: pick another `next` to break")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        env = {**os.environ, "NO_COLOR": "1", "PYTHONUNBUFFERED": "1",
               "DECISION_MAP_CACHE": str(work / "cache")}
        proc = subprocess.Popen([exe, "watch", map_file.name, "--preview", "--port", str(port)],
                                cwd=work, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        follower = None
        try:
            deadline = time.monotonic() + WAIT
            while True:
                try:
                    if _mended(httpx.get(base + "/", timeout=WAIT).text):
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise SystemExit("the preview page did not come up")
                time.sleep(0.1)
            follower = Follower(base)
            time.sleep(SETTLE_S)
            times, cpus = [], []
            for i in range(saves):
                text, ok = (typo, _broken) if i % 2 == 0 else (good, _mended)
                before = _cpu_s(proc.pid)
                with open(map_file, "w", encoding="utf-8") as fh:
                    fh.write(text)
                times.append(follower.wait(ok, time.perf_counter()))
                time.sleep(1.5)  # the scenarios of a clean save run after the page shows it
                after = _cpu_s(proc.pid)
                if before is not None and after is not None:
                    cpus.append(after - before)
        finally:
            if follower is not None:
                follower.stop.set()
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    return {"saves": saves, "p50_ms": round(statistics.median(times) * 1e3, 1),
            "p95_ms": round(p95 * 1e3, 1), "max_ms": round(times[-1] * 1e3, 1),
            "target_ms": TARGET_S * 1e3, "met": p95 < TARGET_S,  # an outlier is reported
            "watch_cpu_ms_p50": round(statistics.median(cpus) * 1e3, 1) if cpus else None,
            "load_average": round(os.getloadavg()[0], 2)}


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(prog="python -m bench.preview", description=__doc__)
    ap.add_argument("--saves", type=int, default=20)
    a = ap.parse_args(argv)
    out = run(max(2, a.saves))
    print(f"watch --preview, save to page showing it (coalition map, {out['saves']} saves, "
          f"typo'd next and fix): p50 {out['p50_ms']} ms, p95 {out['p95_ms']} ms, max "
          f"{out['max_ms']} ms (target {out['target_ms']:.0f} ms at p95: "
          f"{'met' if out['met'] else 'NOT met'}); the watch's CPU per save (answer, "
          f"scenarios, picture, page): p50 {out['watch_cpu_ms_p50']} ms; load average "
          f"{out['load_average']}")
    return out


if __name__ == "__main__":
    main()
