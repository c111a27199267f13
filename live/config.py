"""Hosting settings, read from the environment (so every worker process started from `serve`
reads the same ones) with `serve` options that write the same variables. Each bad value is
refused in one line naming the variable; every bound is explicit here.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace

PREFIX = "DECISION_MAP_"
SECRET = PREFIX + "SECRET"  # the key that signs form tokens (all workers share it)
OLD_SECRET = "DM_SECRET_KEY"  # its name before hosting (still read; the new name wins)
HTTPS = PREFIX + "HTTPS"  # 1: the public address is https (Secure cookies, HSTS)
TRUSTED_PROXIES = PREFIX + "TRUSTED_PROXIES"  # proxies whose X-Forwarded-* are believed
PUBLIC_URL = PREFIX + "PUBLIC_URL"  # the address the printed links start with
LOG_LEVEL = PREFIX + "LOG_LEVEL"  # debug | info | warning | error
ROOM_TTL = PREFIX + "ROOM_TTL"  # an unfinished room is deleted this long after its last event
REPORT_TTL = PREFIX + "REPORT_TTL"  # a finished room (and its report) after this long
SWEEP_EVERY = PREFIX + "SWEEP_EVERY"  # how often the server deletes expired rooms
MAX_STREAMS = PREFIX + "MAX_STREAMS"  # open event streams one server process holds at most

MIN_SECRET = 32  # characters: a shorter key is refused (e.g. `openssl rand -hex 32`)
MAX_SECRET = 512
DAY = 86_400
MIN_TTL, MAX_TTL = 1, 3650 * DAY  # seconds (one second is for tests)
MIN_SWEEP, MAX_SWEEP = 1, DAY
STREAMS_DEFAULT, STREAMS_LOW, STREAMS_HIGH = 1000, 10, 20_000  # each stream ~ tens of KB
HSTS_SECONDS = 365 * DAY  # Strict-Transport-Security max-age when HTTPS is on
LEVELS = ("debug", "info", "warning", "error")
DURATION = re.compile(r"^\s*(\d{1,10})\s*([smhd]?)\s*$")
UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": DAY}
TRUE, FALSE = ("1", "true", "yes", "on"), ("", "0", "false", "no", "off")


class ConfigError(ValueError):
    """A setting that cannot be used, said in one line that names it."""


@dataclass(frozen=True)
class Settings:
    """Everything a hosted server is told by its operator; the defaults suit a laptop."""

    secret: bytes | None = None
    https: bool = False
    trusted_proxies: str = ""  # "" = believe no proxy headers
    public_url: str | None = None
    log_level: str = "warning"
    room_ttl: int = 30 * DAY
    report_ttl: int = 90 * DAY
    sweep_every: int = 3600
    max_streams: int = STREAMS_DEFAULT

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """The settings in `env` (default: this process's environment)."""
        env = os.environ if env is None else env
        s = cls()
        secret = env.get(SECRET) or env.get(OLD_SECRET)
        return replace(
            s,
            secret=parse_secret(secret, SECRET if env.get(SECRET) else OLD_SECRET)
            if secret else None,
            https=parse_bool(env.get(HTTPS, ""), HTTPS),
            trusted_proxies=parse_proxies(env.get(TRUSTED_PROXIES, ""), TRUSTED_PROXIES),
            public_url=parse_public_url(env.get(PUBLIC_URL) or None, PUBLIC_URL),
            log_level=parse_level(env.get(LOG_LEVEL) or s.log_level, LOG_LEVEL),
            room_ttl=parse_duration(env.get(ROOM_TTL), ROOM_TTL, s.room_ttl),
            report_ttl=parse_duration(env.get(REPORT_TTL), REPORT_TTL, s.report_ttl),
            sweep_every=parse_duration(env.get(SWEEP_EVERY), SWEEP_EVERY, s.sweep_every,
                                       MIN_SWEEP, MAX_SWEEP),
            max_streams=parse_count(env.get(MAX_STREAMS), MAX_STREAMS, s.max_streams,
                                    STREAMS_LOW, STREAMS_HIGH),
        )

    @property
    def proxy_headers(self) -> bool:
        """Whether uvicorn should believe X-Forwarded-For/-Proto at all."""
        return bool(self.trusted_proxies)


def parse_secret(value: str, name: str) -> bytes:
    """The signing key; a short one would let form tokens be guessed."""
    value = value.strip()
    if not MIN_SECRET <= len(value) <= MAX_SECRET:
        raise ConfigError(f"{name}: the key must be {MIN_SECRET} to {MAX_SECRET} characters "
                          f"(it has {len(value)}); make one with `openssl rand -hex 32`")
    return value.encode()


def parse_bool(value: str, name: str) -> bool:
    """Yes or no, as 1/0, true/false, yes/no or on/off (empty: no)."""
    v = value.strip().lower()
    if v in TRUE:
        return True
    if v in FALSE:
        return False
    raise ConfigError(f"{name}: {value!r} is not yes or no (use 1 or 0)")


def parse_proxies(value: str, name: str) -> str:
    """A comma-separated list of addresses or networks (or `*`), as uvicorn takes it."""
    items = [p.strip() for p in value.split(",") if p.strip()]
    if len(items) > 64:
        raise ConfigError(f"{name}: at most 64 addresses or networks")
    for p in items:
        if p == "*":
            continue
        try:
            ipaddress.ip_network(p, strict=False)
        except ValueError:
            raise ConfigError(f"{name}: {p!r} is not an IP address or network "
                              "(e.g. 127.0.0.1 or 10.0.0.0/8)") from None
    return ",".join(items)


def parse_public_url(value: str | None, name: str) -> str | None:
    """An http(s) address without query or fragment, its trailing slash dropped."""
    if value is None:
        return None
    v = value.strip().rstrip("/")
    if not re.match(r"^https?://[^\s/?#]+(/[^\s?#]*)?$", v) or len(v) > 300:
        raise ConfigError(f"{name}: {value!r} is not an address like https://rooms.example.org")
    return v


def parse_level(value: str, name: str) -> str:
    """One of the four log levels, in lower case."""
    v = value.strip().lower()
    if v not in LEVELS:
        raise ConfigError(f"{name}: {value!r} is not one of {', '.join(LEVELS)}")
    return v


def parse_duration(value: str | None, name: str, default: int, low: int = MIN_TTL,
                   high: int = MAX_TTL) -> int:
    """Seconds from `30d`, `12h`, `90m`, `45s` or a plain number of seconds.

    >>> parse_duration("30d", "X", 0), parse_duration("90", "X", 0)
    (2592000, 90)
    """
    if value is None or not value.strip():
        return default
    m = DURATION.match(value)
    if not m:
        raise ConfigError(f"{name}: {value!r} is not a duration (e.g. 30d, 12h, 90m, 45s)")
    seconds = int(m.group(1)) * UNITS[m.group(2)]
    if not low <= seconds <= high:
        raise ConfigError(f"{name}: {value!r} is outside {low} s to {high // DAY} days")
    return seconds


def parse_count(value: str | None, name: str, default: int, low: int, high: int) -> int:
    """A whole number within its bounds (empty: the default).

    >>> parse_count("1500", "X", 1000, 10, 20000), parse_count(None, "X", 1000, 10, 20000)
    (1500, 1000)
    """
    if value is None or not value.strip():
        return default
    v = value.strip()
    if not v.isdigit() or len(v) > 9 or not low <= int(v) <= high:
        raise ConfigError(f"{name}: {value!r} is not a whole number from {low} to {high}")
    return int(v)
