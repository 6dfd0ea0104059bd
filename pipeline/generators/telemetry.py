"""The demo's GPU telemetry: a Prometheus range-query answer (DCGM utilisation and power) per day
and metric, one series per GPU, MIG slice or time-sliced pod, labelled with its holder's pod."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from pipeline.generators.plan import (
    NODE3,
    STEP,
    WATTS_BUSY,
    WATTS_IDLE,
    Estate,
    holders,
    node3_holders,
    pod_labels,
    training,
)


def write_telemetry(estate: Estate, days: list[date]) -> None:
    hosts = {
        "gpu-node-1": "NVIDIA A10G",
        "gpu-node-2": "NVIDIA A10G",
        NODE3: "NVIDIA A100-SXM4-80GB",
        "dc1-gpu-01": "NVIDIA L40S",
        "dc1-gpu-02": "NVIDIA L40S",
    }
    for day in days:
        base = int(datetime.combine(day, datetime.min.time(), tzinfo=UTC).timestamp())
        for metric, suffix in (("DCGM_FI_DEV_GPU_UTIL", "gpu_util"), ("DCGM_FI_DEV_POWER_USAGE", "power")):
            series: dict[tuple, list] = {}
            for host, product in hosts.items():
                for gpu in range(4):
                    for slot in range(288):
                        # one series per MIG slice and per time-sliced pod (dcgm-exporter's labels)
                        sharing = (
                            [(mig, h) for mig, h, _, _ in node3_holders(gpu, slot)]
                            if host == NODE3
                            else [({}, holders(host, gpu, day, slot))]
                        )
                        for mig, holder in sharing:
                            labels = {
                                "__name__": metric,
                                "gpu": str(gpu),
                                "UUID": f"GPU-{host}-{gpu}",
                                "Hostname": host,
                                "modelName": product,
                            } | mig
                            if holder is not None:
                                labels |= pod_labels(holder, gpu, train=training(host, gpu, day))
                            if metric == "DCGM_FI_DEV_GPU_UTIL":
                                value = "0" if holder is None else str(35 + (slot * 7 + gpu * 13) % 60)
                                if holder == "embeddings":  # planted: busy 10-34%, a smaller GPU would do
                                    value = str(10 + (slot * 7 + gpu * 13) % 25)
                            else:
                                value = str(WATTS_IDLE if holder is None else WATTS_BUSY)
                            series.setdefault(tuple(sorted(labels.items())), []).append([base + slot * STEP, value])
            document = {
                "status": "success",
                "data": {
                    "resultType": "matrix",
                    "result": [{"metric": dict(key), "values": values} for key, values in series.items()],
                },
            }
            path = estate.root / "inbox" / "telemetry" / day.strftime("%Y-%m") / f"{day}_{suffix}.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(document, separators=(",", ":")))
