"""From text to settings: each variable's parser, `.env` files, the App's private key.

Every parser takes the variable's name and its text, and returns the value or raises a one-line
ConfigError that starts with the name, so a bad setting stops startup saying which it is.
"""

from __future__ import annotations

from pathlib import Path


class ConfigError(Exception):
    """A setting is missing or malformed; the message names the variable."""


def whole_number(name: str, text: str, minimum: int = 0) -> int:
    """An integer, at least `minimum`."""
    try:
        value = int(text)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {text!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    return value


def seconds(name: str, text: str) -> float:
    """A duration in seconds, more than 0."""
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"{name} must be a number of seconds, got {text!r}") from None
    if not value > 0:
        raise ConfigError(f"{name} must be more than 0 seconds, got {text!r}")
    return value


def seconds_or_off(name: str, text: str) -> float:
    """A duration in seconds, or 0 for a feature turned off."""
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"{name} must be a number of seconds (0 turns it off), got {text!r}") from None
    if value < 0:
        raise ConfigError(f"{name} must be 0 (off) or more, got {text!r}")
    return value


def retention_days(name: str, text: str) -> int:
    """Days to keep deliveries and done jobs: 0 (forever) or at least 3."""
    value = whole_number(name, text)
    # Pruning a delivery GitHub still lists as failed would let recovery redeliver it (3-day window).
    if 0 < value < 3:
        raise ConfigError(f"{name} must be 0 (keep everything) or at least 3, the days GitHub keeps "
                          f"deliveries, got {value}")
    return value


def boolean(name: str, text: str) -> bool:
    """1/true/yes/on or 0/false/no/off."""
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be 1 or 0, got {text!r}")


def name_list(name: str, text: str) -> tuple[str, ...]:
    """A comma-separated list of one or more names."""
    values = tuple(v.strip() for v in text.split(",") if v.strip())
    if not values:
        raise ConfigError(f"{name} must be a comma-separated list, got {text!r}")
    return values


def choice(*allowed: str):
    """A parser accepting one of `allowed`, in any case."""
    def one_of(name: str, text: str) -> str:
        value = text.strip().lower()
        if value not in allowed:
            raise ConfigError(f"{name} must be one of {', '.join(allowed)}, got {text!r}")
        return value

    return one_of


def log_level(name: str, text: str) -> str:
    """A logging level's name, as `logging` spells it."""
    return choice("debug", "info", "warning", "error", "critical")(name, text).upper()


def log_format(name: str, text: str) -> str:
    """`json` or `text` (`pretty` is Probot's name for text)."""
    value = choice("json", "text", "pretty")(name, text)
    return "text" if value == "pretty" else value


def url_path(name: str, text: str) -> str:
    """A path on this server, such as the webhook's."""
    if not text.startswith("/"):
        raise ConfigError(f"{name} must start with '/', got {text!r}")
    return text


def http_url(name: str, text: str) -> str:
    """An http(s) URL without its trailing slash."""
    if not text.startswith(("http://", "https://")):
        raise ConfigError(f"{name} must be an http(s) URL, got {text!r}")
    return text.rstrip("/")


def secret_keys(name: str, text: str) -> tuple[str, ...]:
    """Comma-separated keys, newest first (older ones still read what they protected): 32+ characters each."""
    keys = tuple(k.strip() for k in text.split(",") if k.strip())
    for key in keys:
        if len(key) < 32:
            raise ConfigError(f"{name} must be at least 32 characters (each, if several), for example the "
                              f"output of `python -c 'import secrets; print(secrets.token_urlsafe(32))'`")
    if not keys:
        raise ConfigError(f"{name} must be a key of at least 32 characters")
    return keys


def admin_token(name: str, text: str) -> str:
    """A bearer token for the JSON API without sign-in: 32+ characters, so it cannot be guessed."""
    if len(text.strip()) < 32:
        raise ConfigError(f"{name} must be at least 32 characters, got {len(text.strip())}")
    return text.strip()


def database_url(name: str, text: str) -> str:
    """A SQLAlchemy URL: SQLite, or PostgreSQL through psycopg whichever way it is spelled."""
    if text.startswith("postgres://"):  # Heroku-style spelling
        text = "postgresql://" + text[len("postgres://"):]
    if text.startswith("postgresql://"):
        return "postgresql+psycopg://" + text[len("postgresql://"):]
    if text.startswith(("sqlite:///", "postgresql+psycopg://")):
        return text
    raise ConfigError(f"{name} must be sqlite:///path or postgresql://…, got {text.split('@')[-1]!r}")


def read_dotenv(path: Path) -> dict[str, str]:
    """Parse KEY=VALUE lines (optionally `export`ed, quoted, with # comments)."""
    values: dict[str, str] = {}
    for number, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export "):]
        key, sep, value = line.partition("=")
        if not sep or not key.strip().isidentifier():
            raise ConfigError(f"{path}:{number} is not KEY=VALUE")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        values[key.strip()] = value
    return values


def private_key(env: dict[str, str]) -> str | None:
    """The App's PEM from PRIVATE_KEY or the file PRIVATE_KEY_PATH names; None when neither is set."""
    text = env.get("PRIVATE_KEY", "").strip()
    key_path = env.get("PRIVATE_KEY_PATH", "").strip()
    if text and key_path:
        raise ConfigError("set PRIVATE_KEY or PRIVATE_KEY_PATH, not both")
    if key_path:
        try:
            text = Path(key_path).read_text()
        except OSError as exc:
            raise ConfigError(f"PRIVATE_KEY_PATH cannot be read: {exc.strerror} ({key_path})") from None
        name = "PRIVATE_KEY_PATH"
    else:
        name = "PRIVATE_KEY"
    if not text:
        return None
    # .env files and dashboards often hold the PEM on one line with literal \n.
    text = text.replace("\\n", "\n").strip() + "\n"
    if not (text.startswith("-----BEGIN") and "PRIVATE KEY-----" in text):
        raise ConfigError(f"{name} is not a PEM private key (it should start with -----BEGIN RSA PRIVATE KEY-----)")
    return text
