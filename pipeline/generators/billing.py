"""The demo's cloud bills: AWS and Azure charges per day and month, planned as FOCUS rows and
written in the chosen provider format (pipeline.generators.formats); each charge's cost is added
to the truth as it is planned, the GPU nodes' hours split by who held the GPUs."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from decimal import Decimal

from pipeline.generators import truth
from pipeline.generators.formats import FOCUS_HEADER, write_billing
from pipeline.generators.plan import (
    COMMITMENT_HOURLY,
    COVERED_LIST,
    EUR_RATES,
    NODE3,
    NODE3_HOURLY,
    POOL_NODE_HOURLY,
    SPIKE_DAY,
    SPIKE_EXTRA,
    SUPPORT_WEIGHTS,
    D,
    Estate,
    Q,
    split_quanta,
)


def _ts(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def write_bills(estate: Estate, days: list[date], billing_format: str = "focus") -> None:
    for month in estate.months:
        start = datetime.fromisoformat(month + "-01")
        end = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
        month_days = [d for d in days if d.strftime("%Y-%m") == month]
        aws, azure = [], []

        def row(
            provider: str,
            charge_start: datetime,
            charge_end: datetime,
            category: str,
            description: str,
            billed: Decimal,
            effective: Decimal,
            service_category: str,
            service_name: str,
            tags: dict | None = None,
            *,
            resource: str = "",
            frequency: str = "Usage-Based",
            publisher: str | None = None,
            commitment: str = "",
            sub_account: str = "",
            list_cost: Decimal | None = None,
            status: str = "",
        ) -> list:
            aws_side = provider == "AWS"
            issuer = "Amazon Web Services, Inc." if aws_side else "Microsoft"
            return [
                "111111111111" if aws_side else "ea-0001",
                "Retail Prod" if aws_side else "Retail EA",
                sub_account or ("222222222222" if aws_side else "acct-shared"),
                "ml-serving" if aws_side else "shared",
                # B023: row() is only called within this month's iteration, so start and end are this month's
                _ts(start),  # noqa: B023
                _ts(end),  # noqa: B023
                _ts(charge_start),
                _ts(charge_end),
                category,
                "",
                description,
                frequency,
                str(billed),
                str(effective),
                str(billed if list_cost is None else list_cost),
                str(billed if list_cost is None else list_cost),
                "USD" if aws_side else "EUR",
                "USD" if aws_side else "EUR",
                "1",
                "Hours",
                provider,
                publisher or issuer,
                issuer,
                "",
                "us-east-1" if aws_side else "westeurope",
                f"{resource or 'r'}-{service_name[:8]}",
                resource,
                "",
                service_category,
                service_name,
                "SKU1",
                "SKU1-P1"
                if category in ("Usage", "Purchase")
                else "",  # FOCUS: a price id on usage and purchases, none on tax
                commitment,
                "Savings Plan" if commitment else "",
                json.dumps(tags) if tags else "",
                status or ("Used" if commitment and category == "Usage" else ""),
            ]

        for day in month_days:
            d0 = datetime.combine(day, datetime.min.time())
            d1 = d0 + timedelta(days=1)
            for hour in range(24):
                h0 = d0 + timedelta(hours=hour)
                for node, covered in (("gpu-node-1", False), ("gpu-node-2", True), (NODE3, True)):
                    hourly = NODE3_HOURLY if node == NODE3 else POOL_NODE_HOURLY
                    billed = D("0.00") if covered else hourly
                    aws.append(
                        row(
                            "AWS",
                            h0,
                            h0 + timedelta(hours=1),
                            "Usage",
                            "p4de GPU instance hour" if node == NODE3 else "g5.12xlarge GPU instance hour",
                            billed,
                            hourly,
                            "Compute",
                            "Amazon Elastic Compute Cloud",
                            resource=node,
                            commitment="sp-1" if covered else "",
                            list_cost=COVERED_LIST.get(node) if covered else None,
                        )
                    )
                    truth.pool_hour(estate, node, h0, billed)
            for model, cost in (
                ("search-ranker", "120.00"),
                ("query-rewrite-llm", "40.00"),
                ("rec-retrieval", "95.50"),
                ("rec-ranker-llm", "60.25"),
                ("embeddings", "30.00"),
            ):
                key = " Model " if model == "embeddings" else "model"  # tag keys arrive with odd case and spaces
                aws.append(
                    row(
                        "AWS",
                        d0,
                        d1,
                        "Usage",
                        "c6i.4xlarge instance hours",
                        D(cost),
                        D(cost),
                        "Compute",
                        "Amazon Elastic Compute Cloud",
                        {key: model},
                        resource=f"cpu-{model}",
                    )
                )
                estate.add(day, model, "hardware", D(cost), D(cost))
            aws.append(
                row(
                    "AWS",
                    d0,
                    d1,
                    "Usage",
                    "S3 standard storage",
                    D("12.34"),
                    D("12.34"),
                    "Storage",
                    "Amazon Simple Storage Service",
                    {"model": "embeddings"},
                )
            )
            estate.add(day, "embeddings", "hardware", D("12.34"), D("12.34"))
            aws.append(
                row(
                    "AWS",
                    d0,
                    d1,
                    "Usage",
                    "S3 training data",
                    D("20.00"),
                    D("20.00"),
                    "Storage",
                    "Amazon Simple Storage Service",
                    {"model": "rec-ranker-llm", "cost_category": "data"},
                )
            )
            estate.add(day, "rec-ranker-llm", "data", D("20.00"), D("20.00"))
            aws.append(
                row(
                    "AWS",
                    d0,
                    d1,
                    "Usage",
                    "Data transfer out",
                    D("15.00"),
                    D("15.00"),
                    "Networking",
                    "AWS Data Transfer",
                    {"model": "search-ranker"},
                )
            )
            estate.add(day, "search-ranker", "operational", D("15.00"), D("15.00"))
            if day == SPIKE_DAY:  # planted: a crawler burst, one day
                aws.append(
                    row(
                        "AWS",
                        d0,
                        d1,
                        "Usage",
                        "Data transfer out (crawler burst)",
                        SPIKE_EXTRA,
                        SPIKE_EXTRA,
                        "Networking",
                        "AWS Data Transfer",
                        {"model": "search-ranker"},
                    )
                )
                estate.add(day, "search-ranker", "operational", SPIKE_EXTRA, SPIKE_EXTRA)
            # the savings plan's unused commitment of the day: 24 h x (11.00 - 4.80 - 5.60) = 14.40
            unused = (COMMITMENT_HOURLY - POOL_NODE_HOURLY - NODE3_HOURLY) * 24
            aws.append(
                row(
                    "AWS",
                    d0,
                    d1,
                    "Usage",
                    "Unused savings plan commitment",
                    D("0.00"),
                    unused,
                    "Compute",
                    "Savings Plans for AWS Compute usage",
                    commitment="sp-1",
                    list_cost=D("0.00"),
                    status="Unused",
                )
            )
            estate.add(day, "__shared__", "hardware", D("0.00"), unused)
            aws.append(
                row(
                    "AWS",
                    d0,
                    d1,
                    "Usage",
                    "CloudWatch metrics",
                    D("5.00"),
                    D("5.00"),
                    "Management and Governance",
                    "Amazon CloudWatch",
                )
            )
            estate.add(day, "__unallocated__", "operational", D("5.00"), D("5.00"))
            aws.append(
                row(
                    "AWS",
                    d0,
                    d1,
                    "Usage",
                    "Legacy ranker instance",
                    D("2.00"),
                    D("2.00"),
                    "Compute",
                    "Amazon Elastic Compute Cloud",
                    {"model": "legacy-ranker"},
                )
            )
            estate.add(day, "__unallocated__", "hardware", D("2.00"), D("2.00"))
            eur_rate = EUR_RATES[day.month]
            azure.append(
                row(
                    "Microsoft",
                    d0,
                    d1,
                    "Usage",
                    "NC A100 v4 GPU VM",
                    D("96.00"),
                    D("96.00"),
                    "Compute",
                    "Virtual Machines",
                    sub_account="acct-exp",
                )
            )
            estate.add(day, "exp-moe", "hardware", D("96.00") * eur_rate, D("96.00") * eur_rate)
            azure.append(
                row(
                    "Microsoft",
                    d0,
                    d1,
                    "Usage",
                    "Blob storage",
                    D("8.00"),
                    D("8.00"),
                    "Storage",
                    "Storage",
                    {"app": "exp-moe"},
                )
            )
            estate.add(day, "exp-moe", "hardware", D("8.00") * eur_rate, D("8.00") * eur_rate)
        first_day = month_days[0]
        aws.append(
            row(
                "AWS",
                start,
                end,
                "Usage",
                "Business support",
                D("900.00"),
                D("900.00"),
                "Management and Governance",
                "AWS Support (Business)",
                frequency="Recurring",
            )
        )
        for model, amount in split_quanta(int(D("900.00") / Q), SUPPORT_WEIGHTS).items():
            estate.add(first_day, model, "software", D(amount) * Q, D(amount) * Q)
        aws.append(
            row(
                "AWS",
                start,
                end,
                "Usage",
                "Vector DB licence",
                D("1500.00"),
                D("1500.00"),
                "Databases",
                "Acme Vector DB",
                {"model": "rec-retrieval"},
                frequency="Recurring",
                publisher="Acme Vector DB Inc.",
            )
        )
        estate.add(first_day, "rec-retrieval", "software", D("1500.00"), D("1500.00"))
        aws.append(
            row("AWS", start, end, "Tax", "Sales tax", D("250.00"), D("250.00"), "", "Tax", frequency="Recurring")
        )
        estate.add(first_day, "__shared__", "operational", D("250.00"), D("250.00"))
        fee = COMMITMENT_HOURLY * 24 * len(month_days)  # the commitment: 11.00 an hour, every hour of the month
        aws.append(
            row(
                "AWS",
                start,
                start,
                "Purchase",
                "Compute savings plan, monthly fee",
                fee,
                D("0.00"),
                "Compute",
                "Savings Plans for AWS Compute usage",
                frequency="Recurring",
                commitment="sp-1",
            )
        )
        estate.add(first_day, "__shared__", "hardware", fee, D("0.00"))
        truth.plant_commitment(estate, month, len(month_days))
        credit_day = datetime.combine(month_days[9], datetime.min.time())
        aws.append(
            row(
                "AWS",
                credit_day,
                credit_day + timedelta(days=1),
                "Credit",
                "Promotional credit",
                D("-100.00"),
                D("-100.00"),
                "Compute",
                "Amazon Elastic Compute Cloud",
                {"model": "search-ranker"},
                frequency="One-Time",
            )
        )
        estate.add(month_days[9], "search-ranker", "hardware", D("-100.00"), D("-100.00"))
        # the same charges as FOCUS, CUR 2.0, legacy CUR, Azure or GCP exports (pipeline.generators.formats)
        write_billing(estate.root / "inbox" / "billing" / "aws" / month, FOCUS_HEADER, aws, billing_format)
        write_billing(estate.root / "inbox" / "billing" / "azure" / month, FOCUS_HEADER, azure, billing_format)
