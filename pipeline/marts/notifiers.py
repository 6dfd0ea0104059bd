"""Airflow notifiers for cost anomalies. Imports Airflow: load it only where a notifier is sent."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from airflow.sdk import BaseNotifier

from pipeline.errors import ConfigError


class LogNotifier(BaseNotifier):
    """The default: the anomalies in the task log, as a warning."""

    template_fields = ("message",)

    def __init__(self, message: str = "{{ anomaly_text }}", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.message = message

    def notify(self, context: Mapping[str, Any]) -> None:
        self.log.warning("%s", self.message)


def build(class_path: str, kwargs: Mapping[str, Any], *, key: str) -> BaseNotifier:
    """The notifier `class_path` (a BaseNotifier subclass) made with `kwargs`; `key` names the
    config entry in the error when it cannot be."""
    module_name, _, name = class_path.rpartition(".")
    try:
        found = getattr(importlib.import_module(module_name), name)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"{key}: cannot import notifier {class_path!r}: {exc}") from None
    if not (isinstance(found, type) and issubclass(found, BaseNotifier)):
        raise ConfigError(f"{key}: {class_path!r} is not an Airflow notifier (a subclass of airflow.sdk.BaseNotifier)")
    try:
        return found(**dict(kwargs))
    except TypeError as exc:
        raise ConfigError(f"{key}: {class_path}{tuple(kwargs)} does not take these arguments: {exc}") from None
