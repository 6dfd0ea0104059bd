"""A notifier for the DAG tests: appends its rendered `text` and the anomalies it was sent to a file."""

from __future__ import annotations

import json
from pathlib import Path

from airflow.sdk import BaseNotifier


class RecordingNotifier(BaseNotifier):
    template_fields = ("text",)

    def __init__(self, path: str, text: str = "{{ anomaly_text }}") -> None:
        super().__init__()
        self.path = path
        self.text = text

    def notify(self, context) -> None:
        sent = [
            {
                "day": str(a["charge_date"]),
                "model": a["model_id"],
                "category": a["category"],
                "excess": str(a["excess"]),
            }
            for a in context["anomalies"]
        ]
        with Path(self.path).open("a", encoding="utf-8") as handle:
            handle.write(json.dumps({"text": self.text, "anomalies": sent, "task": context["ti"].task_id}) + "\n")
