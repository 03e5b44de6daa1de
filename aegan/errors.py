"""The one exception type for bad user input.

Everything a user can get wrong on the command line or in a config (an unknown model, prior or
dataset name, a missing file, an array without ``x``) raises :class:`ConfigError` with a message
that names the problem and the valid choices. ``train.py`` and ``aegan.evaluate`` print it as a
single line and exit non-zero; any other exception is a bug and keeps its traceback.
"""


class ConfigError(ValueError):
    """Bad user input: the message is one line that says what is wrong and what is valid."""


def unknown_choice(kind: str, name: object, choices) -> ConfigError:
    """``unknown prior 'foo'; valid choices: gaussian, uniform, ...``"""
    return ConfigError(f"unknown {kind} {name!r}; valid choices: {', '.join(sorted(choices))}")
