"""What every ``assistant`` command shares: one-line errors with an exit code, and the settings."""

from __future__ import annotations

from functools import wraps

import typer


def fail(message: str, code: int = 1):
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def friendly(fn):
    """Turn expected errors into one line on stderr and exit code 1 (2 for a bad question file)."""

    @wraps(fn)
    def wrapper(*args, **kwargs):
        from assistant import AssistantError, EvalError

        try:
            return fn(*args, **kwargs)
        except EvalError as err:
            fail(str(err), 2)
        except AssistantError as err:
            fail(str(err), 1)
        except KeyboardInterrupt:
            fail("interrupted", 130)

    return wrapper


def settings(**overrides):
    """The settings (environment + ``overrides``); a bad one exits 1 with one line naming it."""
    from assistant import ConfigError
    from assistant import load_settings

    try:
        return load_settings(**overrides)
    except ConfigError as err:
        fail(str(err))
