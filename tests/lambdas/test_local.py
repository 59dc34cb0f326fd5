"""The local stack's adapter: the template's routes and table, API Gateway v2 events, real HTTP to moto's server."""

from __future__ import annotations

import json
import threading

import boto3

from lambdas import local
from lambdas.submit import app
from tests.lambdas.conftest import counters, make_intake, payload, submissions


def test_the_local_table_has_the_templates_keys_and_index():
    definition = local.table_definition(local.template(), "t")
    assert [k["AttributeName"] for k in definition["KeySchema"]] == ["pk", "sk"]
    [index] = definition["GlobalSecondaryIndexes"]
    assert index["IndexName"] == "pending"
    assert [k["AttributeName"] for k in index["KeySchema"]] == ["pending", "received"]


def test_routes_come_from_the_template_and_resolve_to_handlers():
    table = local.routes(local.template())
    assert table["POST /api/submit"] == table["GET /api/challenge"] == "lambdas.submit.app.handler"
    assert table["GET /api/counts/sponsors/{slug}"] == "lambdas.counts.app.handler"
    api = local.Api(table)
    assert api.match("GET", "/api/counts/sponsors/zhejiang-cyberspace") == (
        "GET /api/counts/sponsors/{slug}", {"slug": "zhejiang-cyberspace"})
    assert api.match("GET", "/api/counts/sponsors/a/b") is None and api.match("POST", "/api/counts") is None
    assert callable(local._resolve(table["POST /api/submit"]))
    assert local._sweep_handler() == "lambdas.sweep.app.handler"


def test_concurrent_duplicates_through_the_local_adapter_store_and_count_once(open_catalog, survey):
    # The local stack's path: real HTTP to moto's server, handler calls serialized by the adapter.
    with local.database() as url:
        client = boto3.client("dynamodb", endpoint_url=url, region_name="us-east-1",
                              aws_access_key_id="local", aws_secret_access_key="local")
        client.create_table(**local.table_definition(local.template(), "survey-test"))
        it = make_intake(client, open_catalog, survey)
        app.configure(it)
        api = local.Api(local.routes(local.template()))
        body = json.dumps(payload(it)).encode()
        statuses = []

        def post() -> None:
            statuses.append(api.invoke("POST", "/api/submit", {"Content-Type": "application/json"}, body, "198.51.100.7")[0])

        threads = [threading.Thread(target=post) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert statuses == [200] * 8
        assert len(submissions(client)) == 1
        assert sum(r for r, _ in counters(client).values()) == 1


