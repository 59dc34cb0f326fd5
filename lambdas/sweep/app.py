"""The sweeper: every minute, counts submissions that were stored but not counted (a process died in between,
or DynamoDB throttled the counting transaction). Counting is conditional on the pending marker, so the sweeper,
a client's retry and the original request can never count one submission twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import boto3
from aws_lambda_powertools import Logger

from lambdas.survey.catalog import utc_iso
from lambdas.survey.settings import Settings
from lambdas.survey.store import Store

GRACE = timedelta(seconds=30)  # leave the submit function time to count what it has just stored
logger = Logger(service="sweep")
_store: Store | None = None


def sweep(store: Store, now: datetime) -> int:
    return store.sweep(utc_iso(now - GRACE, "milliseconds"))


def handler(event: dict, context: object) -> dict:
    global _store
    if _store is None:
        settings = Settings.from_env()  # the table and shards only: counting needs no key
        _store = Store(boto3.client("dynamodb"), settings.table, settings.shards)
    counted = sweep(_store, datetime.now(timezone.utc))
    if counted:
        logger.info("swept", extra={"counted": counted})
    return {"counted": counted}
