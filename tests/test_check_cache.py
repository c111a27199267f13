"""The check cache: a cached answer is cheap (no Jinja2 imported) and still keyed by the
outcome-text limits that can change it."""

from __future__ import annotations

import os
import subprocess

from decision_map import templating
from decision_map.check import cache


def test_the_cache_spells_the_limits_variable_as_the_sandbox_does():
    assert cache.LIMITS_VARIABLE == templating.LIMITS_VARIABLE


def test_a_cached_check_answers_without_importing_jinja2(tmp_path, exe, coalition_path):
    env = {**os.environ, "DECISION_MAP_CACHE": str(tmp_path), "NO_COLOR": "1"}
    first = subprocess.run([exe, "check", str(coalition_path)], env=env, capture_output=True,
                           text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    second = subprocess.run([exe, "check", str(coalition_path)], capture_output=True, text=True,
                            env={**env, "PYTHONPROFILEIMPORTTIME": "1"}, timeout=120)
    assert second.returncode == 0 and second.stdout == first.stdout
    imported = {line.rsplit("|", 1)[-1].strip() for line in second.stderr.splitlines()
                if line.startswith("import time:")}
    assert "decision_map.check.cache" in imported, "the cache was not what answered"
    assert "jinja2" not in imported


def test_raising_a_text_limit_is_a_different_cache_entry(monkeypatch):
    monkeypatch.delitem(__import__("sys").modules, "decision_map.templating", raising=False)
    before = cache._limits_key()
    monkeypatch.setenv(cache.LIMITS_VARIABLE, "max_operations=5000000")
    assert cache._limits_key() != before


def test_a_template_limits_block_is_a_different_cache_entry():
    before = cache._limits_key()
    with templating.template_limits(max_operations=5):
        assert cache._limits_key() != before
    assert cache._limits_key() == before

