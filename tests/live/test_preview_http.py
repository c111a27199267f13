"""The preview page over HTTP: map text is untrusted, so everything it says reaches the
page escaped and the page runs only its own script; the server answers only on and to
this machine; the event stream is the live room's."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

pytest.importorskip("starlette", reason="the live room's extra is not installed: "
                    "pip install -e '.[live]'")
httpx = pytest.importorskip("httpx", reason="httpx is missing: pip install -e '.[test,live]'")

from decision_map_live.preview import start  # noqa: E402

from decision_map.check.checks import check_file_with_deps  # noqa: E402
from decision_map.errors import InputError  # noqa: E402
from decision_map.io.loader import load_map  # noqa: E402

WAIT_S = 10.0  # the longest the page may take to show a published save
HOSTILE = """\
id: demo
title: "<script>alert('title')</script> & co"
version: "1"
start: q
nodes:
  q:
    ask: "Go? \\"><img src=x onerror=alert(1)>"
    choices: {yes: done, no: dnoe}
    otherwise: done
  done: {outcome: "Done </svg><script>alert(2)</script>", next_steps: ["<b>bold</b>"]}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def publish(page, path: Path) -> None:
    """What `watch` hands the page after a save of `path`."""
    dm = load_map(str(path))
    diags, _ = check_file_with_deps(str(path))
    page.publish(dm=dm, diagnostics=diags, cases=None, uncovered=[], total_routes=0,
                 note="the map has errors", summary="= 1 error(s), 0 warning(s)")


def shown(client: httpx.Client, picture: int) -> None:
    """Wait until the page has drawn its `picture`th picture."""
    deadline = time.monotonic() + WAIT_S
    while client.get("/state").json()["picture"] < picture:
        assert time.monotonic() < deadline, "the page did not show the save"
        time.sleep(0.05)


@pytest.fixture
def preview(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text(HOSTILE, encoding="utf-8")
    page = start(str(path), free_port())
    client = httpx.Client(base_url=page.url.rstrip("/"), timeout=WAIT_S)
    yield page, path, client
    client.close()
    page.stop()
    assert not page.thread.is_alive(), "the preview server did not stop"


def test_map_text_reaches_the_page_escaped_and_the_page_runs_only_its_own_script(preview):
    page, path, client = preview
    assert page.url.startswith("http://127.0.0.1:")
    publish(page, path)
    shown(client, 1)
    r = client.get("/")
    html = r.text
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("style-src")[0]
    assert html.count("<script") == 1 and '<script src="/static/preview.js" defer>' in html
    for raw in ("<script>alert", "<img src=x", "</svg><script>", "<b>bold</b>"):
        assert raw not in html, raw
    assert "&lt;script&gt;alert(&#39;title&#39;)&lt;/script&gt; &amp; co" in html  # the h1
    assert "Done &lt;/svg&gt;&lt;script&gt;alert(2)&lt;/script&gt;" in html  # the picture
    assert 'class="node problem"' in html and "DM101" in html  # q's route to `dnoe`
    assert 'data-node="q"' in html


def test_the_page_answers_only_to_this_machine_s_names(preview):
    page, _, client = preview
    assert client.get("/", headers={"host": "evil.example"}).status_code == 400
    assert client.get("/", headers={"host": f"localhost:{page.url.split(':')[2][:-1]}"}
                      ).status_code == 200


def test_the_event_stream_sends_a_frame_for_each_save(preview):
    page, path, client = preview
    with client.stream("GET", "/events") as s:
        assert s.headers["content-type"].startswith("text/event-stream")
        lines = s.iter_lines()
        assert next(lines).startswith("retry:")
        first = None
        for line in lines:
            if line.startswith("id: "):
                first = int(line[4:])
                break
        publish(page, path)
        for line in lines:
            if line.startswith("id: ") and int(line[4:]) > first:
                break


def test_a_port_in_use_is_one_clear_line(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text(HOSTILE, encoding="utf-8")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        with pytest.raises(InputError, match=rf"--port {port}: cannot listen on "
                                             rf"127\.0\.0\.1:{port} .*choose another port"):
            start(str(path), port)


def test_a_map_with_more_problems_than_the_page_lists_says_how_many_more(tmp_path):
    from decision_map_live.preview import MAX_SHOWN

    orphans = MAX_SHOWN + 5
    path = tmp_path / "many.yaml"
    path.write_text(HOSTILE.replace("nodes:\n", "nodes:\n" + "".join(
        f"  orphan{i}: {{outcome: Orphan {i}, next_steps: [Nothing]}}\n"
        for i in range(orphans)), 1), encoding="utf-8")
    page = start(str(path), free_port())
    try:
        with httpx.Client(base_url=page.url.rstrip("/"), timeout=WAIT_S) as client:
            publish(page, path)
            shown(client, 1)
            html = client.get("/").text
    finally:
        page.stop()
    total = orphans + 1  # every orphan is unreachable, and q routes to `dnoe`
    assert f"Problems ({total})" in html
    assert html.count('<li class="problem') == MAX_SHOWN
    assert f"... and {total - MAX_SHOWN} more (decision-map check lists them all)." in html


def test_a_problem_in_a_hand_off_map_marks_the_node_that_hands_off_to_it(tmp_path):
    import shutil

    root = Path(__file__).resolve().parents[2] / "maps"
    for name in ("coalition-formation.yaml", "working-through-dissent.yaml",
                 "common-ground.yaml"):
        shutil.copy(root / name, tmp_path / name)
    sub = tmp_path / "common-ground.yaml"
    text = sub.read_text(encoding="utf-8")
    assert "    next: topic\n" in text, "the common-ground map changed: break another next"
    sub.write_text(text.replace("    next: topic\n", "    next: tpoic\n", 1), encoding="utf-8")
    path = tmp_path / "coalition-formation.yaml"
    page = start(str(path), free_port())
    try:
        with httpx.Client(base_url=page.url.rstrip("/"), timeout=WAIT_S) as client:
            publish(page, path)
            shown(client, 1)
            html = client.get("/").text
    finally:
        page.stop()
    assert "next node &#39;tpoic&#39; does not exist" in html
    assert "common-ground.yaml:24:" in html
    assert 'data-node="find-common-ground"' in html
    assert html.count('class="node problem"') == 1
