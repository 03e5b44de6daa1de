"""Tiny networks for any model class, read from its signature, so that a new model needs no entry
in a test's list: every width argument a class takes (by the names the models share) gets a tiny
value, a list where the class's default is a sequence, a number where it is a number."""

from __future__ import annotations

import importlib
import inspect

#: width (and cost) arguments, whichever class takes them, and their tiny values
TINY = {"hidden": [16], "disc_hidden": [8], "code_hidden": [8], "q_hidden": [8], "channels": [4, 8],
        "max_channels": [8], "iw_samples": [4]}


def model_class(class_path: str) -> type:
    module, name = class_path.rsplit(".", 1)
    return getattr(importlib.import_module(module), name)


def tiny_arguments(cls: type) -> dict:
    """``{argument: tiny value}`` for the width arguments ``cls.__init__`` takes."""
    parameters = inspect.signature(cls.__init__).parameters
    tiny = {}
    for name, value in TINY.items():
        if name in parameters:
            default = parameters[name].default
            number = isinstance(default, int) and not isinstance(default, bool)
            tiny[name] = value[0] if number else list(value)
    return tiny
