"""The benchmark suite: `make bench` (`python -m bench.run [--smoke] [--out DIR]`).

Generates its inputs (seeded), measures every figure beside its floor in the same run
(medians over repeated runs), checks the floor agrees with the engine on every group,
and writes RESULTS.md and results.json (into bench/, or --out)."""

from __future__ import annotations

import argparse
import datetime
import gc
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import yaml

from bench import floor, gen

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
SHIPPED = sorted((ROOT / "maps").glob("*.yaml"))
COALITION = ROOT / "maps" / "coalition-formation.yaml"

FULL = {"maps": [100, 1000, 10_000], "responses": [(1000, 3), (10_000, 12), (100_000, 7)],
        "decide": (100_000, 7), "dot_map": 1000, "reps": 5, "load_reps": 3, "decide_reps": 3,
        "proc_runs": 10, "layout_reps": 3, "step_reps": 30, "engine_sample": 2000,
        "paths_maps": [1000, 2000, 3000, 10_000], "paths_reps": 3,
        "batch_proc": (100_000, 7), "batch_big": (300_000, 7), "batch_proc_runs": 3}
SMOKE = {"maps": [40, 100, 200], "responses": [(30, 3), (40, 12), (60, 7)],
         "decide": (60, 7), "dot_map": 100, "reps": 1, "load_reps": 1, "decide_reps": 1,
         "proc_runs": 1, "layout_reps": 1, "step_reps": 1, "engine_sample": None,
         "paths_maps": [40, 100, 200], "paths_reps": 1,
         "batch_proc": (60, 7), "batch_big": (120, 7), "batch_proc_runs": 1}

FIGURES = [
    ("load_check", "load, validate, build the graph and run every check on the {big}-node map",
     "`yaml.load` (CSafeLoader) of the same file", "<= 1.5x"),
    ("second_load", "loading the same map a second time (in-process cache)",
     "the first load", "<= 0.1x"),
    ("decide", "deciding {groups} groups of {members} through coalition-formation.yaml "
     "from a responses CSV", "hand-written plain-dict walk (bench/floor.py)", "<= 2x"),
    ("step", "one step in the terminal (preview + submit + current), p99 over the "
     "shipped maps' scenario walks", "none (absolute)", "< 50 ms"),
    ("check_process", "`decision-map check maps/coalition-formation.yaml` as a process",
     '`python -c "import networkx, pydantic, yaml"`', "<= 1.3x"),
    ("dot", "DOT built for the {dot}-node map with a trace",
     "Graphviz laying out that DOT (pygraphviz, dot)", "< 0.1x"),
    ("focus_draw", "drawing the path through the {big}-node map (focus mode, SVG)",
     "none (absolute)", "< 2 s"),
    ("paths", "`decision-map paths MAP --json > /dev/null` on the generated {paths}-node map",
     "none (absolute); growth from the smallest map in the next table",
     "< 5 s CPU; <= 12x"),
    ("watch_save", "`decision-map watch` on the {watch}-node map: from a save to the "
     "answer's last line", "`decision-map check` of that map as a process",
     "< 1 s CPU"),
]


def median_time(fn: Callable[[], object], reps: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(reps):
        gc.collect()
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), times


def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
            "platform": platform.platform(), "date": datetime.date.today().isoformat(),
            "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
                                / 2**30, 1)}


# ---------------------------------------------------------------- inputs


def make_inputs(cfg: dict, data: Path) -> dict:
    from decision_map.check.checks import check_map
    from decision_map.io.loader import load_map

    t = time.perf_counter()
    maps = gen.write_maps(str(data), cfg["maps"])
    checks = {}
    for n, p in maps.items():
        diags = check_map(load_map(p))
        checks[n] = {"errors": sum(d.severity == "error" for d in diags),
                     "warnings": sum(d.severity == "warning" for d in diags)}
        assert checks[n]["errors"] == 0, f"generated map {p} has check errors: {diags[:3]}"
    dm = load_map(str(COALITION))
    csvs = {}
    for groups, members in {*cfg["responses"], cfg["batch_proc"], cfg["batch_big"]}:
        p = data / f"responses-{groups}x{members}.csv"
        if not p.exists():
            gen.write_responses(str(p), dm, groups, members, seed=groups * 100 + members)
        csvs[(groups, members)] = str(p)
    return {"maps": maps, "checks": checks, "csvs": csvs,
            "seconds": round(time.perf_counter() - t, 2)}


# ---------------------------------------------------------------- figures


def fig_load_check(cfg, inp) -> dict:
    from decision_map.check.checks import check_map
    from decision_map.io import loader
    from decision_map.io.loader import load_map

    big = max(cfg["maps"])
    path = inp["maps"][big]
    cold, warm, warm_check, floors, firsts, paused_floors = [], [], [], [], [], []
    errors = 0
    for _ in range(cfg["load_reps"]):
        dm = diags = None  # each side starts from the same small heap
        gc.collect()
        t = time.perf_counter()
        with open(path, encoding="utf-8") as f:
            yaml.load(f.read(), Loader=yaml.CSafeLoader)
        floors.append(time.perf_counter() - t)
        gc.collect()
        gc.disable()  # the floor again with the collector paused, as the loader pauses it
        try:
            t = time.perf_counter()
            with open(path, encoding="utf-8") as f:
                yaml.load(f.read(), Loader=yaml.CSafeLoader)
            paused_floors.append(time.perf_counter() - t)
        finally:
            gc.enable()
        loader.clear_cache()
        gc.collect()
        t = time.perf_counter()
        dm = load_map(path)
        t1 = time.perf_counter()
        diags = check_map(dm)
        cold.append(time.perf_counter() - t)
        firsts.append(t1 - t)
        errors = sum(d.severity == "error" for d in diags)
        t = time.perf_counter()
        load_map(path)
        warm.append(time.perf_counter() - t)
        if not warm_check:  # once: it costs as much as a cold check
            t = time.perf_counter()
            check_map(load_map(path))
            warm_check.append(time.perf_counter() - t)
    dm = diags = None
    # peak memory of one cold load + check, traced apart from the timings
    loader.clear_cache()
    gc.collect()
    tracemalloc.start()
    check_map(load_map(path))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    fl = statistics.median(floors)
    pfl = statistics.median(paused_floors)
    med = statistics.median(cold)
    first = statistics.median(firsts)
    return {
        "load_check": {"floor_s": fl, "measured_s": med, "ratio": med / fl, "target": 1.5,
                       "met": med / fl <= 1.5, "runs_s": cold, "floor_runs_s": floors,
                       "floor_gc_paused_s": pfl, "ratio_to_gc_paused_floor": med / pfl,
                       "load_only_s": first, "check_only_s": med - first,
                       "check_errors": errors, "peak_tracemalloc_mib": peak / 2**20,
                       "maxrss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024},
        "second_load": {"floor_s": first, "measured_s": statistics.median(warm),
                        "ratio": statistics.median(warm) / first, "target": 0.1,
                        "met": statistics.median(warm) / first <= 0.1, "runs_s": warm,
                        "second_load_and_check_s": statistics.median(warm_check),
                        "second_load_and_check_ratio": statistics.median(warm_check) / med},
    }


def _agree(fast, floor_out: dict) -> list[str]:
    bad = []
    for r in fast.results:
        mine = (r.outcome, r.verdict, r.steps, r.decided_at, bool(r.stopped))
        if floor_out.get(r.group) != mine:
            bad.append(f"{r.group}: engine {mine}, floor {floor_out.get(r.group)}")
    if len(floor_out) != len(fast.results):
        bad.append(f"{len(floor_out)} groups in the floor, {len(fast.results)} in the engine")
    return bad


def fig_decide(cfg, inp) -> dict:
    from decision_map.io.loader import load_map
    from decision_map.io.responses import read_responses
    from decision_map.walk.batch import run_batch, run_batch_engine

    dm = load_map(str(COALITION))
    floor.load(str(COALITION))
    out = {}
    for (groups, members), csv_path in inp["csvs"].items():
        main = (groups, members) == tuple(cfg["decide"])
        reps = cfg["decide_reps"] if main else 1
        f_times, e_times, p_times = [], [], []
        for _ in range(reps):
            f_out = rows = report = None  # each side starts from the same small heap
            gc.collect()
            t = time.perf_counter()
            f_out = floor.run(str(COALITION), csv_path)
            f_times.append(time.perf_counter() - t)
            if main:  # the floor again with the collector paused, as the batch pauses it
                f_out = None
                gc.collect()
                gc.disable()
                try:
                    t = time.perf_counter()
                    f_out = floor.run(str(COALITION), csv_path)
                    p_times.append(time.perf_counter() - t)
                finally:
                    gc.enable()
            gc.collect()
            t = time.perf_counter()
            rows = read_responses(csv_path, dm, "group", "member")
            report = run_batch(dm, rows, csv_path)
            e_times.append(time.perf_counter() - t)
        bad = _agree(report, f_out)
        # the fast batch against the engine walking every group (or a sample, for time)
        sample = cfg["engine_sample"]
        by = rows.by_group()
        sub = by if sample is None else dict(list(by.items())[:sample])
        t = time.perf_counter()
        ref = run_batch_engine(dm, sub, csv_path)
        engine_s = time.perf_counter() - t
        mismatch = sum(a != b for a, b in zip(report.results[:len(ref.results)], ref.results,
                                              strict=True))
        fl, me = statistics.median(f_times), statistics.median(e_times)
        out[f"{groups}x{members}"] = {
            "groups": groups, "members": members, "floor_s": fl, "measured_s": me,
            "ratio": me / fl, "target": 2.0, "met": me / fl <= 2.0,
            "groups_per_s": groups / me, "floor_groups_per_s": groups / fl,
            "runs_s": e_times, "floor_runs_s": f_times,
            "floor_gc_paused_s": statistics.median(p_times) if p_times else None,
            "floor_agrees_on_every_group": not bad, "disagreements": bad[:5],
            "engine_groups_checked": len(ref.results), "engine_mismatches": mismatch,
            "engine_per_group_ms": 1000 * engine_s / max(1, len(ref.results)),
            "outcomes": dict(report.summary().most_common()),
        }
    return out


def fig_step(cfg) -> dict:
    from decision_map.io.answers import answers_from_data
    from decision_map.io.loader import load_map
    from decision_map.io.yaml_source import parse_yaml, read_text
    from decision_map.walk.engine import Walk
    from decision_map.walk.scenarios import _SubPositions, default_scenarios

    times: list[float] = []
    per_map = {}
    for mp in SHIPPED:
        dm = load_map(str(mp))
        spath = default_scenarios(str(mp))
        if not os.path.exists(spath):
            continue
        data, pos = parse_yaml(read_text(spath), spath)
        cases = []
        for i, case in enumerate(data["cases"]):
            try:
                cases.append(answers_from_data(
                    {k: v for k, v in case.items() if k in ("group", "answers")},
                    _SubPositions(pos, ("cases", i)), dm))
            except Exception:  # a case that cannot run is the scenario test's business
                continue
        mine = []
        for _ in range(cfg["step_reps"]):
            for a in cases:
                walk = Walk(dm, a.group)
                source = a.source(dm.id)
                for _ in range(10_000):
                    p = walk.current()
                    if p is None:
                        break
                    ballots = source(p)
                    if ballots is None:
                        break
                    t = time.perf_counter()
                    walk.preview(ballots)
                    walk.submit(ballots)
                    walk.current()
                    mine.append(time.perf_counter() - t)
        times += mine
        q = statistics.quantiles(mine, n=100)
        per_map[mp.name] = {"steps": len(mine), "p50_ms": 1000 * q[49], "p99_ms": 1000 * q[98]}
    q = statistics.quantiles(times, n=100)
    p99 = q[98]
    return {"floor_s": None, "measured_s": p99, "ratio": None, "target": 0.05,
            "met": p99 < 0.05, "steps_timed": len(times), "p50_ms": 1000 * q[49],
            "p99_ms": 1000 * p99, "max_ms": 1000 * max(times), "per_map": per_map,
            "step_process": "no `decision-map step` command module "
                            "(decision_map/cli/step_cmd.py) was present: not timed"
            if not (ROOT / "decision_map" / "cli" / "step_cmd.py").exists() else "see notes"}


def fig_check_process(cfg) -> dict:
    exe = str(Path(sys.executable).parent / "decision-map")
    cmd = [exe, "check", str(COALITION)]
    base = [sys.executable, "-c", "import networkx, pydantic, yaml"]
    env = {**os.environ, "NO_COLOR": "1"}

    def once(c):
        t = time.perf_counter()
        p = subprocess.run(c, capture_output=True, env=env, cwd=ROOT)
        dt = time.perf_counter() - t
        assert p.returncode == 0, p.stderr.decode()[-500:]
        return dt

    once(cmd), once(base)  # warm the file cache (and check's own result cache)
    a, b, c = [], [], []
    for _ in range(cfg["proc_runs"]):
        a.append(once(cmd))
        b.append(once(base))
        c.append(once(cmd + ["--no-cache"]))
    ma, mb, mc = statistics.median(a), statistics.median(b), statistics.median(c)
    return {"floor_s": mb, "measured_s": ma, "ratio": ma / mb, "target": 1.3,
            "met": ma / mb <= 1.3, "runs_s": a, "floor_runs_s": b,
            "no_cache_s": mc, "no_cache_ratio": mc / mb, "no_cache_runs_s": c}


WATCH_WAIT_S = 60  # the longest any line of `watch` is waited for
WATCH_SETTLE_S = 1.0  # after the first answer, the watcher is up within this long


def _watch_size(cfg) -> int:
    return 1000 if 1000 in cfg["maps"] else max(n for n in cfg["maps"] if n <= 1000)


def fig_watch(cfg, inp) -> dict:
    """`watch` as a process on a copy of the generated map and a one-case scenario file:
    each save rewrites the map with a changed title, and the time runs from the end of
    the write to the summary line (`= ...`) the watch prints for that save."""
    import queue
    import shutil
    import tempfile
    import threading

    n = _watch_size(cfg)
    exe = str(Path(sys.executable).parent / "decision-map")
    work = Path(tempfile.mkdtemp(prefix="bench-watch-"))
    src = Path(inp["maps"][n])
    shutil.copy(src.parent / "sub.yaml", work / "sub.yaml")
    map_file = work / src.name
    text = src.read_text(encoding="utf-8")
    map_file.write_text(text, encoding="utf-8")
    (work / "cases.yaml").write_text(
        "cases:\n  - name: the first question stops a group with no answers\n"
        "    group: [Ana, Ben, Cy]\n    answers: {}\n    expect: {stopped: true}\n",
        encoding="utf-8")
    env = {**os.environ, "NO_COLOR": "1", "PYTHONUNBUFFERED": "1",
           "DECISION_MAP_CACHE": str(work / "cache")}
    lines: queue.Queue[str] = queue.Queue()
    proc = subprocess.Popen([exe, "watch", map_file.name, "cases.yaml"], cwd=work, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    threading.Thread(target=lambda: [lines.put(x) for x in proc.stdout], daemon=True).start()

    def summary() -> str:
        deadline = time.perf_counter() + WATCH_WAIT_S
        while True:
            line = lines.get(timeout=max(0.01, deadline - time.perf_counter()))
            if line.startswith("= "):
                return line.strip()

    def check_once() -> float:
        t = time.perf_counter()
        p = subprocess.run([exe, "check", "--no-cache", map_file.name], cwd=work, env=env,
                           capture_output=True)
        assert p.returncode == 0, p.stdout.decode()[-500:]
        return time.perf_counter() - t

    def cpu_s() -> float | None:
        """CPU seconds the watch process has used (Linux): on a shared machine the wall
        time of a save also counts the time other processes held both cores."""
        try:
            fields = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            return None

    times, said, cpus = [], [], []
    try:
        first = summary()
        assert "1 of 1 case(s) pass" in first, first
        time.sleep(WATCH_SETTLE_S)
        for i in range(max(3, cfg["proc_runs"])):
            new = text.replace(f"title: Generated map of {n} nodes",
                               f"title: Generated map of {n} nodes, save {i}", 1)
            c = cpu_s()
            with open(map_file, "w", encoding="utf-8") as fh:
                fh.write(new)
            t = time.perf_counter()
            line = summary()
            times.append(time.perf_counter() - t)
            c2 = cpu_s()
            if c is not None and c2 is not None:
                cpus.append(c2 - c)
            said.append(line)
            assert "1 of 1 case(s) pass" in line, line
            time.sleep(0.2)
        floor_runs = [check_once() for _ in range(max(1, cfg["proc_runs"] // 2))]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)
    m, floor_s = statistics.median(times), statistics.median(floor_runs)
    cpu = statistics.median(cpus) if cpus else None
    # judged on the watch's CPU time, as the paths figure is: on a shared machine the wall
    # clock also counts the time other processes held both cores (both are reported)
    return {"watch_save": {"floor_s": floor_s, "measured_s": m, "ratio": m / floor_s,
                           "target": 1.0, "met": (cpu if cpu is not None else m) < 1.0,
                           "runs_s": times, "nodes": n, "cpu_s": cpu,
                           "cpu_runs_s": cpus, "load_average": os.getloadavg()[0],
                           "answers": said[:3]}}


# Runs a command and reports its wall time and peak RSS; a small launcher, as a child
# forked from this (large) bench process would count the bench's pages in its peak.
_LAUNCH = ("import os, resource, subprocess, sys, time\n"
           "t = time.perf_counter()\n"
           "p = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)\n"
           "dt = time.perf_counter() - t\n"
           "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
           "cpu = u.ru_utime + u.ru_stime\n"
           "print(f'@@ {dt} {u.ru_maxrss} {cpu} {p.returncode}', file=sys.stderr)\n")


def _proc(cmd: list[str], cwd: Path = ROOT, ok: tuple[int, ...] = (0,)
          ) -> tuple[float, int, float]:
    """(wall seconds, peak RSS in KiB, CPU seconds: user + system) of one command run as a
    process; it must exit with a code in `ok`. CPU time is what a shared machine distorts
    least."""
    env = {**os.environ, "NO_COLOR": "1"}
    p = subprocess.run([sys.executable, "-c", _LAUNCH, *cmd], cwd=cwd, env=env,
                       capture_output=True, text=True)
    lines = p.stderr.strip().splitlines()
    last = lines[-1].split() if lines else []
    if len(last) != 5 or last[0] != "@@" or int(last[4]) not in ok:
        raise RuntimeError(f"{' '.join(cmd)}: {p.stderr[-300:]}")
    return float(last[1]), int(last[2]), float(last[3])


def _side_by_side(cmds: dict[str, list[str]], runs: int, ok: tuple[int, ...] = (0,)
                  ) -> dict[str, dict]:
    """Each command run `runs` times, interleaved: median wall and CPU time, peak RSS."""
    got: dict[str, list[tuple[float, int, float]]] = {k: [] for k in cmds}
    for _ in range(runs):
        for k, c in cmds.items():
            got[k].append(_proc(c, ok=ok))
    return {k: {"s": statistics.median(x[0] for x in v),
                "cpu_s": statistics.median(x[2] for x in v),
                "peak_mib": max(x[1] for x in v) / 1024, "runs_s": [x[0] for x in v],
                "cpu_runs_s": [x[2] for x in v]}
            for k, v in got.items()}


def fig_processes(cfg, inp, data: Path) -> dict:
    """The commands as users type them, each beside its floor run as a process in the
    same loop: the batch with -o, check with and without its cache, --help."""
    exe = str(Path(sys.executable).parent / "decision-map")
    py = sys.executable
    out: dict = {}
    groups, members = cfg["batch_proc"]
    csv_path = inp["csvs"][(groups, members)]
    ours_csv = data / "batch-out.csv"
    batch = [exe, "run", str(COALITION), "--responses", csv_path, "--group-by", "group",
             "--member-column", "member", "-o", str(ours_csv)]
    vec = [py, "-m", "bench.floor_vec", str(COALITION), csv_path, str(data / "vec-out.csv")]
    plain = [py, "-m", "bench.floor", str(COALITION), csv_path, str(data / "floor-out.csv")]
    r = _side_by_side({"batch": batch, "vec": vec, "plain": plain}, cfg["batch_proc_runs"])
    agree = _agree_files(ours_csv, data / "vec-out.csv")
    out["batch_process"] = {
        "groups": groups, "members": members,
        "floor_s": r["vec"]["s"], "measured_s": r["batch"]["s"],
        "ratio": r["batch"]["s"] / r["vec"]["s"], "target": 1.5,
        "cpu_ratio": r["batch"]["cpu_s"] / r["vec"]["cpu_s"],
        "mem_ratio": r["batch"]["peak_mib"] / r["vec"]["peak_mib"], "mem_target": 1.2,
        "met": r["batch"]["s"] / r["vec"]["s"] <= 1.5
        and r["batch"]["peak_mib"] / r["vec"]["peak_mib"] <= 1.2,
        "peak_mib": r["batch"]["peak_mib"], "floor_peak_mib": r["vec"]["peak_mib"],
        "plain_floor_s": r["plain"]["s"], "plain_floor_peak_mib": r["plain"]["peak_mib"],
        "plain_ratio": r["batch"]["s"] / r["plain"]["s"],
        "floor_agrees_on_every_group": not agree, "disagreements": agree[:5],
        "runs": r}
    bg, bm = cfg["batch_big"]
    big_csv = inp["csvs"][(bg, bm)]
    dt, rss, _ = _proc([exe, "run", str(COALITION), "--responses", big_csv, "--group-by",
                        "group", "--member-column", "member", "-o", str(data / "big-out.csv")])
    out["batch_big"] = {"groups": bg, "members": bm, "floor_s": None, "measured_s": dt,
                        "ratio": None, "peak_mib": rss / 1024, "target": "< 1.5 GB",
                        "met": rss * 1024 < 1.5e9}
    big_map = inp["maps"][max(cfg["maps"])]
    load = [py, "-c", "import sys, yaml; yaml.load(open(sys.argv[1], 'rb'), "
            "yaml.CSafeLoader)", big_map]
    nocache = [exe, "check", "--no-cache", big_map]
    r = _side_by_side({"check": nocache, "yaml": load}, cfg["proc_runs"])
    out["check_nocache_process"] = {
        "floor_s": r["yaml"]["s"], "measured_s": r["check"]["s"],
        "ratio": r["check"]["s"] / r["yaml"]["s"], "target": 1.0,
        "cpu_ratio": r["check"]["cpu_s"] / r["yaml"]["cpu_s"],
        "met": r["check"]["s"] / r["yaml"]["s"] <= 1.0, "runs": r}
    cached = [exe, "check", str(COALITION)]
    _proc(cached)  # fill the cache
    r = _side_by_side({"cached": cached, "help": [exe, "--help"],
                       "pass": [py, "-c", "pass"]}, cfg["proc_runs"])
    out["check_cached_process"] = {
        "floor_s": r["pass"]["s"], "measured_s": r["cached"]["s"],
        "ratio": r["cached"]["s"] / r["pass"]["s"], "target": 3.0,
        "cpu_ratio": r["cached"]["cpu_s"] / r["pass"]["cpu_s"],
        "help_cpu_ratio": r["help"]["cpu_s"] / r["pass"]["cpu_s"],
        "met": r["cached"]["s"] / r["pass"]["s"] <= 3.0,
        "help_s": r["help"]["s"], "help_ratio": r["help"]["s"] / r["pass"]["s"], "runs": r}
    out["render_process"] = _render_process(cfg, exe, py, data)
    out["bomb_process"] = _bomb_process(cfg, exe, py, data)
    return out


# A billion-laughs file: ten aliases, each ten of the one before (10**9 nodes expanded).
BOMB = ("id: b\ntitle: T\nversion: '1'\nstart: q\nnodes:\n"
        "  a: &a [x, x, x, x, x, x, x, x, x, x]\n") + "".join(
    f"  {c}: &{c} [{', '.join(['*' + p] * 10)}]\n"
    for p, c in zip("abcdefgh", "bcdefghi", strict=True))


def _bomb_process(cfg, exe: str, py: str, data: Path) -> dict:
    """`check --no-cache` of an alias bomb as a process, beside `python -c pass`: the node
    budget refuses it before it expands (tests/test_hostile.py holds the refusal itself)."""
    bomb = data / "bomb.yaml"
    bomb.write_text(BOMB, encoding="utf-8")
    ours = [exe, "check", "--no-cache", str(bomb)]
    r = _side_by_side({"bomb": ours, "pass": [py, "-c", "pass"]}, cfg["proc_runs"],
                      ok=(0, 1))
    return {"floor_s": r["pass"]["s"], "measured_s": r["bomb"]["s"],
            "ratio": r["bomb"]["s"] / r["pass"]["s"], "cpu_s": r["bomb"]["cpu_s"],
            "target": 1.0, "met": r["bomb"]["s"] < 1.0, "runs": r}


def _render_process(cfg, exe: str, py: str, data: Path) -> dict:
    """`render` of the coalition map with a trace to SVG, beside pygraphviz laying out and
    drawing the DOT that command draws, as a bare process."""
    from decision_map.io.loader import load_map

    trace = gen.guided_trace(load_map(str(COALITION)))
    tpath = data / "coalition-trace.json"
    tpath.write_text(trace.dumps() + "\n", encoding="utf-8")
    dot = data / "coalition-trace.dot"
    _proc([exe, "render", str(COALITION), "--trace", str(tpath), "-o", str(dot)])
    bare = [py, "-c", "import sys, pygraphviz; pygraphviz.AGraph(string=open(sys.argv[1])"
            ".read()).draw(sys.argv[2], prog='dot')", str(dot), str(data / "bare.svg")]
    ours = [exe, "render", str(COALITION), "--trace", str(tpath), "-o",
            str(data / "coalition-trace.svg")]
    r = _side_by_side({"render": ours, "bare": bare}, cfg["proc_runs"])
    ratio = r["render"]["s"] / r["bare"]["s"]
    return {"floor_s": r["bare"]["s"], "measured_s": r["render"]["s"], "ratio": ratio,
            "cpu_ratio": r["render"]["cpu_s"] / r["bare"]["cpu_s"],
            "target": 3.0, "met": ratio <= 3.0, "trace_steps": len(trace.steps), "runs": r}


def _agree_files(ours: Path, floor_csv: Path) -> list[str]:
    """Groups whose (outcome, verdict, steps, decided_at, stopped?) differ between the
    batch's -o file and a floor's."""
    import csv as _csv

    with open(ours, encoding="utf-8", newline="") as fh:
        mine = {r["group"].removeprefix("'"): (r["outcome"], r["verdict"], r["steps"],
                                               r["decided_at"], "yes" if r["stopped"] else "")
                for r in _csv.DictReader(fh)}
    with open(floor_csv, encoding="utf-8", newline="") as fh:
        theirs = {r["group"]: (r["outcome"], r["verdict"], r["steps"], r["decided_at"],
                               r["stopped"]) for r in _csv.DictReader(fh)}
    bad = [f"{g}: batch {v}, floor {theirs.get(g)}" for g, v in mine.items()
           if theirs.get(g) != v]
    if len(mine) != len(theirs):
        bad.append(f"{len(theirs)} groups in the floor, {len(mine)} in the batch")
    return bad


def fig_render(cfg, inp) -> dict:
    import pygraphviz
    from decision_map_render.dot import to_dot
    from decision_map_render.draw import draw

    from decision_map.io.loader import load_map

    out = {}
    dm = load_map(inp["maps"][cfg["dot_map"]])
    trace = gen.guided_trace(dm)
    dot_s, _ = median_time(lambda: to_dot(dm, trace), cfg["layout_reps"])
    dot = to_dot(dm, trace)
    lay_s, _ = median_time(lambda: pygraphviz.AGraph(string=dot).layout("dot"),
                           cfg["layout_reps"])
    out["dot"] = {"floor_s": lay_s, "measured_s": dot_s, "ratio": dot_s / lay_s,
                  "target": 0.1, "met": dot_s / lay_s < 0.1, "trace_steps": len(trace.steps),
                  "dot_bytes": len(dot)}
    big = load_map(inp["maps"][max(cfg["maps"])])
    btrace = gen.guided_trace(big)
    box: dict = {}

    def focus():
        d = to_dot(big, btrace, focus=True)
        box["svg"] = draw(d, "svg")
        box["dot"] = d

    f_s, runs = median_time(focus, cfg["layout_reps"])
    t = time.perf_counter()
    to_dot(big, btrace, focus=True)
    build_s = time.perf_counter() - t
    out["focus_draw"] = {"floor_s": None, "measured_s": f_s, "ratio": None, "target": 2.0,
                         "met": f_s < 2.0, "runs_s": runs, "dot_build_s": build_s,
                         "trace_steps": len(btrace.steps),
                         "drawn_nodes": box["dot"].count("tooltip=") if box else None,
                         "svg_bytes": len(box.get("svg", b""))}
    return out


def fig_paths(cfg, data: Path) -> dict:
    """`paths` on generated maps of every size: in-process (wall and CPU, map loaded
    beforehand) and as the process writing its JSON, with the growth from the smallest."""
    from decision_map.io.loader import load_map
    from decision_map.walk.routes import find_paths

    exe = str(Path(sys.executable).parent / "decision-map")
    env = {**os.environ, "NO_COLOR": "1"}
    maps = gen.write_maps(str(data), cfg["paths_maps"])
    sizes: dict = {}
    for n, path in maps.items():
        dm = load_map(path)
        cpu: list[float] = []

        def once(dm=dm, cpu=cpu):
            """One search, its CPU time kept beside the wall time `median_time` takes."""
            t = time.process_time()
            rep = find_paths(dm)
            cpu.append(time.process_time() - t)
            return rep

        wall, _ = median_time(once, cfg["paths_reps"])
        rep = once()
        del dm
        runs, cpus = [], []
        for _ in range(cfg["paths_reps"]):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t = time.perf_counter()
            with open(os.devnull, "wb") as sink:
                p = subprocess.run([exe, "paths", path, "--json"], stdout=sink,
                                   stderr=subprocess.PIPE, env=env, cwd=ROOT)
            runs.append(time.perf_counter() - t)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
            assert p.returncode == 0, p.stderr.decode()[-500:]
        sizes[n] = {"in_process_s": wall, "in_process_cpu_s": statistics.median(cpu),
                    "process_s": statistics.median(runs), "process_cpu_s": statistics.median(cpus),
                    "routes": sum(len(r) for r in rep.routes.values()),
                    "route_steps": sum(len(r) for rs in rep.routes.values() for r in rs),
                    "outcomes": len(rep.routes), "search_steps": rep.work,
                    "capped_by": rep.capped_by}
        print(f"paths {n}: {sizes[n]}", flush=True)
    small, big = sizes[min(sizes)], sizes[max(sizes)]
    growth = {k: big[k] / small[k] for k in ("in_process_s", "in_process_cpu_s", "process_s",
                                             "process_cpu_s")}
    # judged on CPU time: on a shared machine the wall clock also counts waiting for a core
    met = big["process_cpu_s"] < 5.0 and growth["in_process_cpu_s"] <= 12
    return {"floor_s": None, "measured_s": big["process_s"], "ratio": None, "target": 5.0,
            "met": met, "sizes": sizes, "growth": growth, "size_ratio": max(sizes) / min(sizes)}


# ---------------------------------------------------------------- report


def _fmt_s(x: float | None) -> str:
    if x is None:
        return "—"
    return f"{x * 1000:.1f} ms" if x < 1 else f"{x:.2f} s"


def _cpu(fig: dict, key: str = "cpu_ratio") -> str:
    """The ratio in CPU time (user + system) beside the wall-clock one, when measured."""
    return f" ({fig[key]:.2f}x CPU)" if fig.get(key) is not None else ""


def _process_section(pr: dict | None) -> list[str]:
    """The commands as users run them, each against its floor as a process."""
    lines = ["", "## As the commands users run: whole processes, side by side in one loop", ""]
    if not pr or "error" in pr:
        return lines + [f"Not measured: {(pr or {}).get('error', 'not run')}."]
    yn = {True: "yes", False: "**no**"}
    lines += ["Ratios are of median wall-clock times (CPU time, user + system, in brackets).", "",
              "| command | floor (as a process) | measured | ratio | target | met? |",
              "|---|---|---|---|---|---|"]
    b = pr["batch_process"]
    lines.append(
        f"| `run coalition-formation.yaml --responses {b['groups']:,}x{b['members']}.csv "
        f"--group-by group --member-column member -o out.csv` | vectorised floor "
        f"(bench/floor_vec.py, polars + numpy): {_fmt_s(b['floor_s'])}, peak "
        f"{b['floor_peak_mib']:.0f} MiB; plain floor (bench/floor.py): "
        f"{_fmt_s(b['plain_floor_s'])}, peak {b['plain_floor_peak_mib']:.0f} MiB | "
        f"{_fmt_s(b['measured_s'])}, peak {b['peak_mib']:.0f} MiB; floors agree on every "
        f"group: {'yes' if b['floor_agrees_on_every_group'] else 'NO'} | "
        f"{b['ratio']:.2f}x time, {b['mem_ratio']:.2f}x memory ({b['plain_ratio']:.2f}x the "
        f"plain floor) | <= 1.5x time, <= 1.2x memory | {yn[b['met']]} |")
    g = pr["batch_big"]
    lines.append(f"| the same, {g['groups']:,} groups of {g['members']} | none (absolute) | "
                 f"{_fmt_s(g['measured_s'])}, peak {g['peak_mib']:.0f} MiB | — | < 1.5 GB "
                 f"peak | {yn[g['met']]} |")
    c = pr["check_nocache_process"]
    lines.append(f"| `check --no-cache` of the 10,000-node map | `python -c` `yaml.load` "
                 f"(CSafeLoader) of it: {_fmt_s(c['floor_s'])} | {_fmt_s(c['measured_s'])} | "
                 f"{c['ratio']:.2f}x{_cpu(c)} | <= 1.0x | {yn[c['met']]} |")
    c = pr["check_cached_process"]
    lines.append(f"| `check maps/coalition-formation.yaml` (cached) | `python -c pass`: "
                 f"{_fmt_s(c['floor_s'])} | {_fmt_s(c['measured_s'])} (`--help`: "
                 f"{_fmt_s(c['help_s'])}, {c['help_ratio']:.1f}x{_cpu(c, 'help_cpu_ratio')}) | "
                 f"{c['ratio']:.2f}x{_cpu(c)} | "
                 f"<= 3x | {yn[c['met']]} |")
    c = pr.get("render_process")
    if c:
        lines.append(f"| `render coalition-formation.yaml --trace T.json -o out.svg` "
                     f"({c['trace_steps']} steps) | pygraphviz laying out and drawing the "
                     f"same DOT, as a process: {_fmt_s(c['floor_s'])} | "
                     f"{_fmt_s(c['measured_s'])} | {c['ratio']:.2f}x{_cpu(c)} | <= 3x | "
                     f"{yn[c['met']]} |")
    c = pr.get("bomb_process")
    if c:
        lines.append(f"| `check --no-cache bomb.yaml` (an alias bomb of 10^9 nodes, refused) | "
                     f"`python -c pass`: {_fmt_s(c['floor_s'])} | {_fmt_s(c['measured_s'])} "
                     f"({c['cpu_s']:.2f} s CPU) | {c['ratio']:.1f}x | < 1 s | {yn[c['met']]} |")
    return lines


def write_report(res: dict, out: Path, smoke: bool) -> None:
    cfg = res["config"]
    big, dotn = max(cfg["maps"]), cfg["dot_map"]
    groups, members = cfg["decide"]
    figs = res["figures"]
    lines = ["# Benchmark results", ""]
    m = res["machine"]
    lines += [f"Ran {m['date']} on {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, "
              f"Python {m['python']} ({m['platform']}). "
              + ("**Smoke run (tiny sizes): timings mean nothing.**" if smoke else
                 "Medians over repeated runs; the floor is measured in the same run."),
              "", "Regenerate with `make bench` (inputs are generated, seeded, under "
              "`bench/out/data/`).", "",
              "| figure | floor | measured | ratio | target | met? |",
              "|---|---|---|---|---|---|"]
    for key, title, floor_name, target in FIGURES:
        f = figs.get(key)
        t = title.format(big=f"{big:,}", dot=f"{dotn:,}", groups=f"{groups:,}",
                         members=members, paths=f"{max(cfg.get('paths_maps', [0])):,}",
                         watch=f"{_watch_size(cfg):,}")
        if f is None or "error" in (f or {}):
            lines.append(f"| {t} | {floor_name} | not measured: {(f or {}).get('error')} "
                         f"| — | {target} | no |")
            continue
        fl = f"{floor_name}: {_fmt_s(f['floor_s'])}" if f["floor_s"] is not None \
            else floor_name
        meas = _fmt_s(f["measured_s"])
        if key == "decide":
            meas += f" ({f['groups_per_s']:,.0f} groups/s; floor " \
                    f"{f['floor_groups_per_s']:,.0f}/s)"
            if f.get("floor_gc_paused_s"):
                fl += (f" ({_fmt_s(f['floor_gc_paused_s'])} with the garbage collector "
                       f"paused, as the batch pauses it: "
                       f"{f['measured_s'] / f['floor_gc_paused_s']:.2f}x that)")
        if key == "load_check":
            meas += f"; peak {f['peak_tracemalloc_mib']:.0f} MiB (tracemalloc)"
            fl += (f" ({_fmt_s(f['floor_gc_paused_s'])} with the garbage collector paused, "
                   f"as our loader pauses it: {f['ratio_to_gc_paused_floor']:.2f}x that)")
        if key == "second_load":
            meas += f"; with the checks re-run {_fmt_s(f['second_load_and_check_s'])}"
        if key == "check_process":
            meas += f" from its result cache; {_fmt_s(f['no_cache_s'])} with --no-cache " \
                    f"({f['no_cache_ratio']:.2f}x)"
        if key == "watch_save" and f.get("cpu_s") is not None:
            meas += (f" ({_fmt_s(f['cpu_s'])} of the watch's CPU time; load average "
                     f"{f['load_average']:.1f} on {m['cores']} cores)")
        if key == "step":
            meas = f"p99 {f['p99_ms']:.2f} ms (p50 {f['p50_ms']:.2f}, {f['steps_timed']:,} steps)"
        if key == "paths":
            g = f["growth"]
            meas += (f" ({_fmt_s(f['sizes'][max(f['sizes'], key=int)]['process_cpu_s'])} CPU); "
                     f"growth over {f['size_ratio']:.0f}x the nodes: "
                     f"{g['in_process_cpu_s']:.1f}x in-process CPU, {g['process_s']:.1f}x "
                     "as the process")
        ratio = f"{f['ratio']:.2f}x" if f["ratio"] is not None else "—"
        lines.append(f"| {t} | {fl} | {meas} | {ratio} | {target} | "
                     f"{'yes' if f['met'] else '**no**'} |")
    lines += ["", "## Deciding many groups, every size", "",
              "| groups x members | floor | batch (read_responses + run_batch) | ratio | "
              "groups/s | floor agrees on every group | engine check |",
              "|---|---|---|---|---|---|---|"]
    for _k, d in res["decide_all"].items():
        lines.append(f"| {d['groups']:,} x {d['members']} | {_fmt_s(d['floor_s'])} | "
                     f"{_fmt_s(d['measured_s'])} | {d['ratio']:.2f}x | "
                     f"{d['groups_per_s']:,.0f} | "
                     f"{'yes' if d['floor_agrees_on_every_group'] else 'NO'}"
                     f" | {d['engine_groups_checked']:,} groups walked by the engine, "
                     f"{d['engine_mismatches']} differ ({d['engine_per_group_ms']:.2f} ms/group) |")
    lines += _process_section(figs.get("processes"))
    fp = figs.get("paths")
    if fp and "sizes" in fp:
        lines += ["", "## `paths` on generated maps, every size", "",
                  "| nodes | outcomes | routes (steps in all) | search steps | capped by | "
                  "in-process (CPU) | `paths --json > /dev/null` (CPU) |",
                  "|---|---|---|---|---|---|---|"]
        for n, d in fp["sizes"].items():
            lines.append(f"| {int(n):,} | {d['outcomes']:,} | {d['routes']:,} "
                         f"({d['route_steps']:,}) | {d['search_steps']:,} | {d['capped_by']} | "
                         f"{_fmt_s(d['in_process_s'])} ({_fmt_s(d['in_process_cpu_s'])}) | "
                         f"{_fmt_s(d['process_s'])} ({_fmt_s(d['process_cpu_s'])}) |")
        g = fp["growth"]
        lines.append(f"| growth over {fp['size_ratio']:.0f}x the nodes | | | | | "
                     f"{g['in_process_s']:.1f}x ({g['in_process_cpu_s']:.1f}x) | "
                     f"{g['process_s']:.1f}x ({g['process_cpu_s']:.1f}x) |")
    lines += ["", "Generated maps checked with `check_map`: " + ", ".join(
        f"{n:,} nodes: {c['errors']} errors, {c['warnings']} warnings"
        for n, c in res["inputs"]["checks"].items()) + ".", ""]
    notes = HERE / "notes.md"
    if notes.exists() and not smoke:
        lines += [notes.read_text(encoding="utf-8").rstrip(), ""]
    (out / "RESULTS.md").write_text("\n".join(lines), encoding="utf-8")


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    ap.add_argument("--smoke", action="store_true", help="tiny sizes, one run each")
    ap.add_argument("--out", default=str(HERE), help="where RESULTS.md and results.json go")
    ap.add_argument("--only", nargs="*", help="figures to run (default: all)")
    args = ap.parse_args(argv)
    cfg = dict(SMOKE if args.smoke else FULL)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    data = (out / "data") if args.smoke else (HERE / "out" / "data")
    t0 = time.perf_counter()
    inp = make_inputs(cfg, data)
    print(f"inputs ready in {inp['seconds']} s", flush=True)
    figs: dict = {}
    decide_all: dict = {}
    only = set(args.only or [])

    def step(name, fn):
        if only and name not in only:
            return None
        t = time.perf_counter()
        try:
            r = fn()
        except Exception as e:  # one broken figure must not hide the others
            r = {"error": f"{type(e).__name__}: {e}"}
            print(f"{name}: FAILED {r['error']}", flush=True)
        print(f"{name}: done in {time.perf_counter() - t:.1f} s", flush=True)
        return r

    r = step("load_check", lambda: fig_load_check(cfg, inp))
    if r:
        figs.update(r if "error" not in r else {"load_check": r, "second_load": r})
    r = step("decide", lambda: fig_decide(cfg, inp))
    if r:
        if "error" in r:
            figs["decide"] = r
        else:
            decide_all = r
            g, mm = cfg["decide"]
            figs["decide"] = r[f"{g}x{mm}"]
    r = step("step", lambda: fig_step(cfg))
    if r:
        figs["step"] = r
    r = step("check_process", lambda: fig_check_process(cfg))
    if r:
        figs["check_process"] = r
    r = step("processes", lambda: fig_processes(cfg, inp, data))
    if r:
        figs["processes"] = r
    r = step("render", lambda: fig_render(cfg, inp))
    if r:
        figs.update(r if "error" not in r else {"dot": r, "focus_draw": r})
    r = step("paths", lambda: fig_paths(cfg, data))
    if r:
        figs["paths"] = r
    r = step("watch", lambda: fig_watch(cfg, inp))
    if r:
        figs.update(r if "error" not in r else {"watch_save": r})
    res = {"machine": machine(), "smoke": args.smoke,
           "config": {k: v for k, v in cfg.items()},
           "inputs": {"checks": {str(k): v for k, v in inp["checks"].items()},
                      "seconds": inp["seconds"]},
           "figures": figs, "decide_all": decide_all,
           "total_s": round(time.perf_counter() - t0, 1)}
    res["inputs"]["checks"] = {int(k): v for k, v in res["inputs"]["checks"].items()}
    (out / "results.json").write_text(json.dumps(res, indent=2, default=str) + "\n",
                                      encoding="utf-8")
    write_report(res, out, args.smoke)
    print(f"wrote {out / 'RESULTS.md'} and results.json in {res['total_s']} s", flush=True)
    return res


if __name__ == "__main__":
    main()
