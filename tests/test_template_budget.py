"""Outcome texts run on a budget: a hostile text fails fast, with one line naming the
outcome and the limit, through the real console script (and the stepper keeps the last
vote); the texts people really write render exactly as before.

Each hostile walk runs in a child process with a time limit and an address-space cap, so
a text that escapes the budget fails the test instead of taking the machine down.
"""

from __future__ import annotations

import json
import resource
import subprocess
import time
from pathlib import Path

import jinja2
import pytest
from jinja2.sandbox import ImmutableSandboxedEnvironment

from decision_map.check.checks import check_map
from decision_map.io.loader import load_map, load_text
from decision_map.model.format import ChoiceQuestion, NumberQuestion, Outcome, TextQuestion
from decision_map.templating import TemplateError, render_text, template_limits

ROOT = Path(__file__).resolve().parent.parent
MEMORY = 1 << 30  # bytes of address space a child may use
SECONDS = 30  # far above what a refusal takes (well under a second of work)

# A number question's total (`n`, 10**9 or 10**12 below) and the group's size (`k`, 2)
# feed the texts, so no limit can be seen before the walk: the budget must catch them.
HEAD = "{% set n = answers.q|int %}{% set k = group|length %}"
# (case, text, the limit the refusal must name)
HOSTILE = [
    ("loops over strings, three deep",
     "{% set s = 'x' * (k * 5000) %}{% for a in s %}{% for b in s %}{% for c in s %}"
     "{% endfor %}{% endfor %}{% endfor %}", "max_operations"),
    ("loops over lists, three deep",
     "{% set l = [0] * (k * 5000) %}{% for a in l %}{% for b in l %}{% for c in l %}"
     "{% endfor %}{% endfor %}{% endfor %}", "max_operations"),
    ("loops over map() and select()",
     "{% set l = [0] * (k * 5000) %}{% for a in l|map('abs') %}{% for b in l|select %}"
     "{% endfor %}{% endfor %}", "max_operations"),
    ("slice(10**12)", "{{ [1, 2]|slice(n)|list }}", "max_value"),
    ("batch(10**12, fill)", "{{ [1, 2]|batch(n, 'x')|list }}", "max_value"),
    ("chains of **64", "{% set a = k ** 64 %}{% set b = a ** 64 %}{{ b ** 64 }}",
     "max_int_bits"),
    ("chains of *", "{% set a = k ** 64 %}{% set b = a * a * a * a %}{% set c = b * b * b * b %}"
     "{{ c * c * c * c }}", "max_int_bits"),
    ("ljust", "{{ 'x'.ljust(n) }}", "max_value"),
    ("rjust", "{{ 'x'.rjust(n) }}", "max_value"),
    ("center", "{{ 'x'.center(n) }}", "max_value"),
    ("zfill", "{{ '1'.zfill(n) }}", "max_value"),
    ("expandtabs", "{{ ('\t' * 1000).expandtabs(n) }}", "max_value"),
    ("replace", "{% set s = 'x' * (k * 5000) %}{{ s.replace('x', s) }}", "max_value"),
    ("replace of nothing", "{% set s = 'x' * (k * 5000) %}{{ s.replace('', s) }}",
     "max_value"),
    ("str.join", "{% set s = 'x' * (k * 5000) %}{{ s.join(s) }}", "max_value"),
    ("join filter", "{% set s = 'x' * (k * 5000) %}{{ s|join(s) }}", "max_value"),
    ("format width", "{{ '{:>{}}'.format('x', n) }}", "max_value"),
    ("format precision", "{{ '{:.{}f}'.format(1.5, n) }}", "max_value"),
    ("format_map width", "{{ '{a:>{w}}'.format_map({'a': 'x', 'w': n}) }}", "max_value"),
    ("% width", "{{ ('%' ~ n ~ 's') % 'x' }}", "max_value"),
    ("% precision", "{{ ('%.' ~ n ~ 'f') % 1.5 }}", "max_value"),
    ("~ doubling", "{% set a = 'x' * (k * 5000) %}{% set b = a ~ a ~ a ~ a %}"
     "{% set c = b ~ b ~ b ~ b %}{{ c ~ c }}", "max_value"),
    ("* on a string", "{{ 'x' * n }}", "max_value"),
    ("* on a list", "{{ group * n }}", "max_value"),
    ("+ doubling", "{% set a = [0] * (k * 5000) %}{% set b = a + a + a %}"
     "{% set c = b + b + b + b %}{{ c|length }}", "max_value"),
    ("a list of lists printed", "{% set row = [0] * (k * 5000) %}{% set t = [row] * (k * 5000) %}"
     "{{ t }}", "max_value"),
    ("a list of strings joined", "{% set s = 'x' * (k * 5000) %}{{ ([s] * (k * 5000))|join }}",
     "max_value"),
    ("sum of lists", "{% set row = [0] * (k * 500) %}{{ ([row] * (k * 500))|sum(start=[]) }}",
     "max_value"),
    ("captured blocks", "{% for i in range(k * 50) %}{% set s %}{{ 'x' * (k * 5000) }}"
     "{{ 'x' * (k * 5000) }}{{ 'x' * (k * 5000) }}{% endset %}{% set t = s ~ s %}{% endfor %}",
     "max_operations"),
    ("comparisons of big strings in loops",
     "{% set s = 'x' * (k * 40000) %}{% set l = [0] * (k * 500) %}{% for a in l %}"
     "{% for b in l %}{% if s == s ~ '' %}{% endif %}{% endfor %}{% endfor %}", "max_operations"),
    ("output", "{% for i in range(k * 5000) %}{{ 'x' * 5000 }}{% endfor %}", "max_output"),
]


def _map(tmp_path: Path, text: str) -> Path:
    body = json.dumps(HEAD + text)  # JSON is YAML: the text arrives exactly
    path = tmp_path / "m.yaml"
    path.write_text(
        "id: m\ntitle: T\nversion: '1'\nstart: q\nnodes:\n"
        "  q: {ask: How many?, number: {min: 0, max: 1000000000000, aggregate: sum}, "
        "otherwise: o}\n"
        f"  o: {{outcome: Done, next_steps: [rest], text: {body}}}\n")
    return path


def _child(exe: str, home: Path, args: list[str], stdin: str | None = None, **env: str
           ) -> tuple[int, str, str, float]:
    """Run the console script capped in time and memory: (code, stdout, stderr, seconds)."""
    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))

    start = time.monotonic()
    r = subprocess.run([exe, *args], input=stdin, capture_output=True, text=True,
                       timeout=SECONDS, preexec_fn=cap, cwd=str(ROOT),
                       env={"PATH": "/usr/bin:/bin", "NO_COLOR": "1", "COLUMNS": "100",
                            "HOME": str(home), "XDG_DATA_HOME": str(home / "data"), **env})
    return r.returncode, r.stdout, r.stderr, time.monotonic() - start


def _refusal(err: str, limit: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("decision-map: ") and "outcome 'o'" in lines[0], err
    assert f"the limit {limit}=" in lines[0] and "Traceback" not in err, err


@pytest.mark.parametrize("text,limit", [(t, lim) for _, t, lim in HOSTILE],
                         ids=[case for case, _, _ in HOSTILE])
def test_hostile_text_fails_fast_at_run_naming_the_outcome_and_limit(exe, tmp_path, text, limit):
    answers = tmp_path / "a.yaml"
    total = 10**12 if "slice" in text or "batch" in text else 10**9
    answers.write_text(f"group: [Ana, Ben]\nanswers:\n  q: {{Ana: {total}, Ben: 0}}\n")
    code, _, err, _ = _child(exe, tmp_path, ["run", str(_map(tmp_path, text)), str(answers)])
    assert code == 1, err
    _refusal(err, limit)


@pytest.mark.parametrize("case", ["loops over strings, three deep", "ljust", "~ doubling"])
def test_the_stepper_keeps_the_last_vote_when_the_text_fails(exe, tmp_path, case):
    text, limit = next((t, lim) for c, t, lim in HOSTILE if c == case)
    session = tmp_path / "s.json"
    code, out, err, _ = _child(exe, tmp_path,
        ["step", str(_map(tmp_path, text)), "--group", "Ana, Ben", "--session", str(session)],
        "1000000000\n0\n\n")
    assert code == 1, out + err
    _refusal(err, limit)
    saved = json.loads(session.read_text())
    (sub,) = saved["submissions"]
    assert sub["node"] == "q" and len(sub["ballots"]) == 2, saved


def test_a_session_stopped_by_a_text_resumes_once_the_limit_is_raised(exe, tmp_path):
    text, _ = next((t, lim) for c, t, lim in HOSTILE if c == "~ doubling")
    session = tmp_path / "s.json"
    path = _map(tmp_path, text)
    code, out, err, _ = _child(
        exe, tmp_path, ["step", str(path), "--group", "Ana, Ben", "--session", str(session)],
        "1000000000\n0\n\n")
    assert code == 1, out + err
    code, out, err, _ = _child(exe, tmp_path, ["step", "--resume", str(session)], "n\n")
    assert code == 1
    _refusal(err, "max_value")
    raised = {"DECISION_MAP_TEMPLATE_LIMITS": "max_value=400000,max_output=400000"}
    code, out, err, _ = _child(exe, tmp_path, ["step", "--resume", str(session)], "n\n", **raised)
    assert code == 0, out + err
    assert "Done." in out and "Done. Thank you all." in out


def test_constant_excess_is_refused_by_check(tmp_path):
    """What is past a limit whatever the answers is a DM119 before any walk."""
    for text, fragment in [
        ("{% for a in 'x'*10000 %}{% for b in 'x'*10000 %}{% for c in 'x'*10000 %}"
         "{% endfor %}{% endfor %}{% endfor %}", "loops nested here run"),
        ("{{ [1]|slice(10**12) }}", "slice(1000000000000)"),
        ("{{ 2**64**64 }}", "the limit max_int_bits"),
        ("{{ 'x'.ljust(10**9) }}", "ljust(1000000000)"),
        ("{{ '%1000000000s' % 'x' }}", "the limit max_value"),
        ("{{ " + "1" * 5000 + " }}", "Exceeds the limit (4300 digits)"),
    ]:
        dm = load_text(_map(tmp_path, text).read_text(), "m.yaml")
        (d,) = [d for d in check_map(dm) if d.severity == "error"]
        assert d.code == "DM119" and fragment in d.message, (text, d.message)


def test_a_limit_can_be_raised_for_a_run():
    text = "{% for a in range(3000) %}{% for b in 'xxxx' %}{% endfor %}{% endfor %}"
    with template_limits(max_operations=1000), pytest.raises(TemplateError) as e:
        render_text(text, {}, "m.yaml: outcome 'o'")
    assert "the limit max_operations=1000; raise it with " \
        "DECISION_MAP_TEMPLATE_LIMITS=max_operations=N" in str(e.value)
    with template_limits(max_operations=100_000):
        assert render_text(text, {}, "m.yaml: outcome 'o'") == ""


def test_the_command_line_raises_and_lowers_limits_through_the_environment(exe, tmp_path):
    answers = tmp_path / "a.yaml"
    answers.write_text("group: [Ana, Ben]\nanswers:\n  q: {Ana: 1, Ben: 2}\n")
    path = _map(tmp_path, "{% for i in range(300) %}{% endfor %}{{ n }}")
    code, out, err, _ = _child(exe, tmp_path, ["run", str(path), str(answers)])
    assert code == 0 and "3" in out, err
    lowered = {"DECISION_MAP_TEMPLATE_LIMITS": "max_operations=100"}
    code, out, err, _ = _child(exe, tmp_path, ["run", str(path), str(answers)], **lowered)
    assert code == 1
    _refusal(err, "max_operations")
    code, out, err, _ = _child(exe, tmp_path, ["run", str(path), str(answers)],
                               DECISION_MAP_TEMPLATE_LIMITS="max_opps=5")
    assert code == 1 and err.strip().splitlines() == [
        "decision-map: DECISION_MAP_TEMPLATE_LIMITS: 'max_opps' is not a limit (the limits: "
        "max_exponent, max_int_bits, max_operations, max_output, max_range_items, "
        "max_value)"], err


def test_a_raised_limit_is_not_hidden_by_the_check_cache(exe, tmp_path):
    path = _map(tmp_path, "{{ 'x'.ljust(200000) }}")
    cache = {"DECISION_MAP_CACHE": str(tmp_path / "cache")}
    code, out, err, _ = _child(exe, tmp_path, ["check", str(path)], **cache)
    assert code == 1 and "DM119" in out + err and "ljust(200000)" in out + err
    raised = {**cache, "DECISION_MAP_TEMPLATE_LIMITS": "max_value=300000"}
    code, out, err, _ = _child(exe, tmp_path, ["check", str(path)], **raised)
    assert "DM119" not in out + err, out + err


# ---------------------------------------------------------------- normal texts unchanged

PLAIN = ImmutableSandboxedEnvironment(undefined=jinja2.StrictUndefined)


class _AskedOrEmpty(dict):
    """As outcome texts read answers, statuses and texts: a question not asked on this
    path is empty (jinja2's plain Undefined), not an error."""

    def __missing__(self, key: object) -> jinja2.Undefined:
        return jinja2.Undefined(name=str(key))
MAPS = sorted(ROOT.glob("maps/*.yaml")) + sorted(ROOT.glob("tests/fixtures/**/*.yaml"))


def _contexts(dm) -> list[dict]:
    """Every question answered (each choice in turn), and some left unanswered."""
    questions = {k: n for k, n in dm.nodes.items()
                 if isinstance(n, (ChoiceQuestion, NumberQuestion, TextQuestion))}
    out = []
    for i in range(3):
        answers, texts = {}, {}
        for k, node in questions.items():
            if isinstance(node, ChoiceQuestion):
                choices = list(node.choices)
                answers[k] = choices[i % len(choices)]
            elif isinstance(node, NumberQuestion):
                answers[k] = 7 * i
            else:
                texts[k] = [["Ana", f"words {i}"], ["Ben", "more <words> & {{ x }}"]]
                answers[k] = None
        if i == 2:
            answers = {}
        out.append({"answers": answers, "statuses": {k: "decided" for k in answers},
                    "texts": texts, "group": ["Ana", "Ben", "Cy"],
                    "map": {"id": dm.id, "title": dm.model.title, "version": dm.version},
                    "outcome": {"title": "T", "verdict": None}})
    return out


@pytest.mark.parametrize("path", MAPS, ids=[p.name for p in MAPS])
def test_shipped_texts_render_as_plain_jinja_renders_them(path):
    try:
        dm = load_map(str(path))
    except Exception:  # fixtures that are not maps, or hostile on purpose
        pytest.skip("not a loadable map")
    texts = [n.text for n in dm.nodes.values() if isinstance(n, Outcome) and n.text]
    for text in texts:
        for context in _contexts(dm):
            try:
                plain = {**context, **{k: _AskedOrEmpty(context[k])
                                       for k in ("answers", "statuses", "texts")}}
                want = PLAIN.from_string(text).render(**plain, range=range)
            except jinja2.UndefinedError:
                with pytest.raises(TemplateError):
                    render_text(text, context, "w")
                continue
            assert render_text(text, context, "w") == want


@pytest.mark.parametrize("case", ["loops over strings, three deep", "ljust"])
def test_hostile_text_fails_fast_in_a_batch(exe, tmp_path, case):
    text, limit = next((t, lim) for c, t, lim in HOSTILE if c == case)
    responses = tmp_path / "r.csv"
    responses.write_text("member,team,q\nAna,t1,1000000000\nBen,t1,0\nCy,t2,1\n")
    code, _, err, _ = _child(exe, tmp_path, ["run", str(_map(tmp_path, text)), "--responses",
                                        str(responses), "--group-by", "team",
                                        "--member-column", "member"])
    assert code == 1, err
    _refusal(err, limit)
