"""The local stand-ins for API Gateway's routes and CloudFront's behaviours, read from the template."""

from __future__ import annotations

from lambdas import local

TEMPLATE = local.template()


def test_a_greedy_route_takes_the_rest_of_the_path_and_a_plain_one_a_single_segment():
    api = local.Api(local.routes(TEMPLATE))
    assert api.match("POST", "/s/zhejiang-cyberspace/wechat/pro/law/submit") == (
        "POST /s/{proxy+}", {"proxy": "zhejiang-cyberspace/wechat/pro/law/submit"})
    assert api.match("GET", "/s/zhejiang-cyberspace/wechat/ai/submit") is None  # POST only
    assert api.match("POST", "/s/") is None  # a greedy parameter takes at least one character
    assert api.match("GET", "/api/assign") == ("GET /api/assign", {})
    assert local.route_pattern("GET /a/{x}/b").match("GET /a/1/2/b") is None


def test_the_edge_sends_each_path_where_the_distributions_first_matching_behaviour_says():
    edge = local.behaviours(TEMPLATE)
    where = {path: local.behaviour_of(edge, path).origin for path in (
        "/api/counts", "/api/counts/sponsors/x", "/api/assign", "/s/x/web/ai/submit", "/s/x/web/ai/", "/", "/submit",
        "/sponsors/x/submit")}
    assert where == {"/api/counts": "api", "/api/counts/sponsors/x": "api", "/api/assign": "api",
                     "/s/x/web/ai/submit": "api", "/s/x/web/ai/": "site", "/": "site", "/submit": "site",
                     "/sponsors/x/submit": "site"}
    # /api/counts* is cached per query; /api/assign falls to /api/*, never cached
    counts, assign = local.behaviour_of(edge, "/api/counts"), local.behaviour_of(edge, "/api/assign")
    assert counts != assign and "POST" in assign.methods and "POST" not in counts.methods
    assert local.behaviour_of(edge, "/").methods == {"GET", "HEAD"}
