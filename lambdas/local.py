"""The local stack: the site and the real Lambda handlers on one loopback port, with moto's DynamoDB server as an
embedded, in-memory database.

Requests the distribution's cache behaviours send to the API origin (`/api/*`, a form page's `…/submit`) become API
Gateway HTTP API (payload v2) events for the handler the template names for that route, their path kept, run with
exactly the environment the template gives that function; the table and the secrets are created from the template's
own definitions. The server stands in for CloudFront as well: it sends the template's security headers, and it sets
(never passes on) the viewer-address and origin-token headers the API believes. The same moto server is the S3 of
the buckets the functions use (the sponsors' upload bucket, with the template's CORS), and the security policy's
bucket origin names it, so a page posts its uploads there. Handler calls run one at a time, as in one Lambda
container (the resolver keeps the current event on itself), and the database answers one request at a time (see
`database`). It is a faithful stand-in, not a fast one: moto copies the whole table for each transaction, so the
submit path slows as the table grows (tests/bench/load_test.py measures it).
"""

from __future__ import annotations

import base64
import functools
import importlib
import os
import re
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "infra" / "template.yaml"
TABLE = "survey-local"
SWEEP_EVERY = 10.0  # seconds
MAX_REQUEST = 1024 * 1024  # what the adapter reads at most; the handler enforces the real cap
MAX_CONNECTIONS = 64  # connections served at once; more wait in the listen queue
SOCKET_TIMEOUT = 30  # seconds a connection may sit idle or trickle its request
EDGE_HEADERS = ("cloudfront-viewer-address", "x-origin-verify")  # what only the edge may set
REGION = "us-east-1"
# How the template names a bucket's regional origin (in an environment variable and the Content-Security-Policy).
S3_ORIGIN = re.compile(r"https://\$\{(\w+)\}\.s3\.\$\{AWS::Region\}\.\$\{AWS::URLSuffix\}")


class _TemplateLoader(yaml.SafeLoader):
    """Reads CloudFormation's short-form intrinsics as their long form: `!Ref X` is {"Ref": "X"}, `!GetAtt A.b` is
    {"Fn::GetAtt": ["A", "b"]}, any other `!Fn` is {"Fn::Fn": value}."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    value = (loader.construct_scalar(node) if isinstance(node, yaml.ScalarNode)
             else loader.construct_sequence(node, deep=True) if isinstance(node, yaml.SequenceNode)
             else loader.construct_mapping(node, deep=True))
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        return {"Fn::GetAtt": value.split(".", 1)}
    return {f"Fn::{suffix}": value}


_TemplateLoader.add_multi_constructor("!", _intrinsic)


def template(path: Path = TEMPLATE) -> dict[str, Any]:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_TemplateLoader)


def table_definition(tpl: dict[str, Any], name: str = TABLE) -> dict[str, Any]:
    """create_table arguments for the template's table: the same keys and indexes as the deployed one."""
    props = next(r["Properties"] for r in tpl["Resources"].values() if r["Type"] == "AWS::DynamoDB::Table")
    keep = ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "BillingMode")
    return {"TableName": name, **{k: props[k] for k in keep if k in props}}


def routes(tpl: dict[str, Any]) -> dict[str, str]:
    """"METHOD /path" -> "module.function" for every HTTP API route in the template."""
    table = {}
    for res in tpl["Resources"].values():
        if res["Type"] != "AWS::Serverless::Function":
            continue
        for event in res["Properties"].get("Events", {}).values():
            if event["Type"] == "HttpApi":
                table[f"{event['Properties']['Method'].upper()} {event['Properties']['Path']}"] = res["Properties"]["Handler"]
    return table


def functions(tpl: dict[str, Any]) -> dict[str, str]:
    """Handler ("module.function") -> the function's logical id in the template."""
    return {r["Properties"]["Handler"]: name for name, r in tpl["Resources"].items()
            if r["Type"] == "AWS::Serverless::Function"}


def function_environment(tpl: dict[str, Any], function: str, physical: dict[str, str],
                         parameters: dict[str, str] | None = None, s3_url: str = "") -> dict[str, str]:
    """The variables the template gives `function` (Globals and its own), with every !Ref resolved: a resource to
    its physical id in `physical`, a parameter to `parameters` or its default; in a !Sub, a bucket's regional
    origin becomes the bucket on `s3_url` (path style) where one is given. An unresolvable value is an error, so a
    variable the template cannot give is never made up here."""
    merged = {**tpl.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {}),
              **tpl["Resources"][function]["Properties"].get("Environment", {}).get("Variables", {})}
    params = {k: str(v.get("Default", "")) for k, v in tpl.get("Parameters", {}).items()} | (parameters or {})

    def resolve(name: str, value: Any) -> str:
        if isinstance(value, (str, int, float)):
            return str(value)
        if isinstance(value, dict) and isinstance(value.get("Fn::Sub"), str):
            try:
                return substitute(value["Fn::Sub"], {**params, **physical}, s3_url)
            except LookupError as exc:
                raise LookupError(f"{function}: cannot resolve {name} = {value!r} ({exc})") from exc
        ref = value.get("Ref") if isinstance(value, dict) else None
        if ref in physical:
            return physical[ref]
        if ref in params:
            return params[ref]
        raise LookupError(f"{function}: cannot resolve {name} = {value!r} (give its physical id)")

    return {name: resolve(name, value) for name, value in merged.items()}


def substitute(text: str, values: dict[str, str], s3_url: str = "") -> str:
    """A !Sub string with `values`: a bucket's regional origin is the bucket on `s3_url` locally (path style, as
    moto's server takes it) or the AWS one in REGION; any other ${Name} must be in `values`."""
    def bucket(m: re.Match[str]) -> str:
        name = values.get(m.group(1))
        if name is None:
            raise LookupError(f"no physical id for {m.group(1)}")
        return f"{s3_url}/{name}" if s3_url else f"https://{name}.s3.{REGION}.amazonaws.com"

    def other(m: re.Match[str]) -> str:
        if m.group(1) not in values:
            raise LookupError(f"no value for ${{{m.group(1)}}}")
        return values[m.group(1)]

    return re.sub(r"\$\{([\w:.]+)\}", other, S3_ORIGIN.sub(bucket, text))


def runtime_environment(database_url: str, function: str) -> dict[str, str]:
    """What Lambda itself gives every function (region, credentials, name), pointed at the local services."""
    return {
        "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION, "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local", "AWS_LAMBDA_FUNCTION_NAME": function,
        "AWS_ENDPOINT_URL_DYNAMODB": database_url, "AWS_ENDPOINT_URL_SECRETS_MANAGER": database_url,
        "AWS_ENDPOINT_URL_S3": database_url,
    }


@contextmanager
def environ(env: dict[str, str]) -> Iterator[None]:
    """Run with exactly `env` as the process environment, as a Lambda container would (callers hold the lock)."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _resolve(dotted: str) -> Callable[[dict, Any], dict]:
    module, _, func = dotted.rpartition(".")
    return getattr(importlib.import_module(module), func)


@dataclass
class Context:
    """The parts of a Lambda context object that Powertools reads."""

    function_name: str
    aws_request_id: str
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:local:000000000000:function:local"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 10_000


def route_pattern(route: str) -> re.Pattern[str]:
    """A route key as API Gateway matches it: "GET /api/counts/sponsors/{slug}" takes any one path segment in place
    of {slug}; "POST /s/{proxy+}" (a greedy parameter) any rest of the path, slashes included."""
    escaped = re.escape(route)
    escaped = re.sub(r"\\\{(\w+)\\\+\\\}", r"(?P<\1>.+)", escaped)
    return re.compile(re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", escaped) + r"\Z")


class Api:
    """API Gateway in miniature: route, build a v2 event, call the handler, return its response."""

    def __init__(self, route_table: dict[str, str], environments: dict[str, dict[str, str]] | None = None,
                 origin_token: str = "") -> None:
        self.route_table = route_table
        self.environments = environments or {}  # handler -> its function's environment; none: the process's own
        self.origin_token = origin_token  # what CloudFront would add to every request it forwards
        self.lock = threading.Lock()
        self._handlers: dict[str, Callable[[dict, Any], dict]] = {}
        self._patterns = [(route, route_pattern(route)) for route in route_table]

    def match(self, method: str, path: str) -> tuple[str, dict[str, str]] | None:
        for route, pattern in self._patterns:
            m = pattern.match(f"{method} {path}")
            if m:
                return route, m.groupdict()
        return None

    def invoke(self, method: str, target: str, headers: dict[str, str], body: bytes,
               source_ip: str, source_port: int = 0) -> tuple[int, dict[str, str], bytes]:
        url = urlsplit(target)
        found = self.match(method, url.path)
        if found is None:
            return 404, {"Content-Type": "application/json"}, b'{"message":"Not Found"}'
        route, params = found
        dotted = self.route_table[route]
        lower = {k.lower(): v for k, v in headers.items() if k.lower() not in EDGE_HEADERS}
        if self.origin_token:  # as CloudFront does: its own headers replace whatever the client sent
            lower["cloudfront-viewer-address"] = f"{source_ip}:{source_port}"
            lower["x-origin-verify"] = self.origin_token
        text = lower.get("content-type", "").startswith("application/json")
        now = time.time()
        event = {
            "version": "2.0", "routeKey": route, "rawPath": url.path, "rawQueryString": url.query,
            "headers": lower, "pathParameters": params,
            "queryStringParameters": {k: ",".join(v) for k, v in parse_qs(url.query).items()} or None,
            "requestContext": {
                "accountId": "000000000000", "apiId": "local", "domainName": lower.get("host", "127.0.0.1"),
                "domainPrefix": "local", "requestId": str(uuid.uuid4()), "routeKey": route, "stage": "$default",
                "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)), "timeEpoch": int(now * 1000),
                "http": {"method": method, "path": url.path, "protocol": "HTTP/1.1", "sourceIp": source_ip,
                         "userAgent": lower.get("user-agent", "")},
            },
            # API Gateway passes text bodies as they are and base64-encodes the rest, forms included.
            "body": body.decode("utf-8", "replace") if text else base64.b64encode(body).decode(),
            "isBase64Encoded": not text,
        }
        handler = self._handlers.get(dotted) or self._handlers.setdefault(dotted, _resolve(dotted))
        with self.lock:
            result = self.call(dotted, handler, event)
        out = result.get("body") or ""
        payload = base64.b64decode(out) if result.get("isBase64Encoded") else out.encode("utf-8")
        return int(result.get("statusCode", 200)), dict(result.get("headers") or {}), payload

    def call(self, dotted: str, handler: Callable[[dict, Any], dict], event: dict) -> dict:
        context = Context(dotted.split(".")[1], str(uuid.uuid4()))
        env = self.environments.get(dotted)
        if env is None:
            return handler(event, context)
        with environ(env):
            return handler(event, context)


@dataclass
class Stack:
    url: str
    database_url: str
    table: str
    api: Api
    secrets: dict[str, str] = field(default_factory=dict)  # the template's secret's logical id -> its local ARN
    site: str = ""  # the site it serves, whose sponsors.json the secretariat's commands read


@contextmanager
def database() -> Iterator[str]:
    """moto's server on a free loopback port, in this process, answering one request at a time; everything in it
    is lost at exit.

    One at a time because moto's transactions are not isolated: a transaction that fails restores a copy of the
    whole table taken when it began, undoing whatever ran meanwhile. Serializing the handlers is not enough: a
    client that times out retries while moto still runs the first attempt.
    """
    import logging

    from moto.server import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one access line per DynamoDB call is noise here
    backend = DomainDispatcherApplication(create_backend_app)
    lock = threading.Lock()

    def one_at_a_time(environ: dict, start_response: Callable) -> list[bytes]:
        with lock:
            return list(backend(environ, start_response))

    server = make_server("127.0.0.1", 0, one_at_a_time, threaded=True, request_handler=MotoRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
        _release_moto_copies()


def _release_moto_copies() -> None:
    """moto keeps every model instance it creates (for its dashboard), and each transaction deep-copies the table
    to roll back with, so a long local run would hold every copy ever made. Nothing reads them: let them go."""
    try:
        from moto.core.model_instances import model_data
    except ImportError:  # another moto layout: nothing to release
        return
    for model in model_data.get("dynamodb", {}).values():
        model.instances_tracked = []


def create_secrets(database_url: str, tpl: dict[str, Any]) -> tuple[dict[str, str], str]:
    """Every Secrets Manager secret of the template, with fresh random values, in the local database's Secrets
    Manager: logical id -> ARN, and the origin token's value (which the stand-in CloudFront sends)."""
    client = _client(database_url, "secretsmanager")
    arns, origin = {}, ""
    for name, res in tpl["Resources"].items():
        if res["Type"] != "AWS::SecretsManager::Secret":
            continue
        value = secrets.token_urlsafe(48)
        arns[name] = client.create_secret(Name=f"{TABLE}-{name}-{secrets.token_hex(4)}", SecretString=value)["ARN"]
        if name == "OriginTokenSecret":
            origin = value
    return arns, origin


def buckets(tpl: dict[str, Any]) -> dict[str, str]:
    """Logical id -> local name of every bucket a function's environment names (the site bucket is the local
    server's folder, not a bucket)."""
    named = {v.get("Ref") for r in tpl["Resources"].values() if r["Type"] == "AWS::Serverless::Function"
             for v in r["Properties"].get("Environment", {}).get("Variables", {}).values() if isinstance(v, dict)}
    return {name: f"{TABLE}-{name.lower()}" for name, r in tpl["Resources"].items()
            if r["Type"] == "AWS::S3::Bucket" and name in named}


def create_buckets(database_url: str, tpl: dict[str, Any], site_origin: str) -> dict[str, str]:
    """Those buckets in moto's S3, each with the template's CORS rules, the distribution's origin read as the
    local site's `site_origin`: logical id -> bucket name."""
    s3 = _client(database_url, "s3")
    made = buckets(tpl)
    for logical, name in made.items():
        s3.create_bucket(Bucket=name)
        rules = tpl["Resources"][logical]["Properties"].get("CorsConfiguration", {}).get("CorsRules", [])
        if rules:
            s3.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": [
                {CORS_NAMES.get(k, k): v for k, v in rule.items()} | {"AllowedOrigins": _origins(rule["AllowedOrigins"], site_origin)}
                for rule in rules]})
    return made


CORS_NAMES = {"MaxAge": "MaxAgeSeconds", "ExposedHeaders": "ExposeHeaders", "Id": "ID"}  # CloudFormation's -> S3's


def _origins(values: list[Any], site_origin: str) -> list[str]:
    """CORS origins as the local stack has them: the distribution's is the local site; an optional extra origin
    (a condition on an empty parameter) is absent, as it is by default."""
    out = []
    for value in values:
        if isinstance(value, str):
            out.append(value)
        elif "Distribution.DomainName" in str(value.get("Fn::Sub", "")):
            out.append(site_origin)
    return out


def _drop_buckets(database_url: str, names: list[str]) -> None:
    from botocore.exceptions import ClientError

    s3 = _client(database_url, "s3")
    for name in names:
        try:
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=name):
                for obj in page.get("Contents", []):
                    s3.delete_object(Bucket=name, Key=obj["Key"])
            s3.delete_bucket(Bucket=name)
        except ClientError:
            pass  # already gone


def environments(tpl: dict[str, Any], database_url: str, site_dir: Path, physical: dict[str, str],
                 table: str = TABLE) -> dict[str, dict[str, str]]:
    """Each handler's environment: the template's variables for its function, what Lambda adds, and the one
    local difference, where the build's catalog lies (in Lambda it is packaged beside the code)."""
    out = {}
    for dotted, function in functions(tpl).items():
        env = function_environment(tpl, function, {"SurveyTable": table, **buckets(tpl), **physical},
                                   s3_url=database_url)
        out[dotted] = {**env, **runtime_environment(database_url, function),
                       "SURVEY_CATALOG": str(site_dir / "sponsors.json")}
    return out


# moto's address while a stack runs (the latest, should stacks overlap): the local edge's policy names it as the
# upload bucket's origin, so whoever asks for the edge's headers then gets the ones the server sends.
_RUNNING_S3: list[str] = []


def security_headers(tpl: dict[str, Any], s3_url: str | None = None) -> dict[str, str]:
    """The response headers the distribution adds (its response-headers policy), as HTTP headers. A bucket's
    origin in the Content-Security-Policy is moto's `s3_url` locally, by default the running stack's (with no stack
    running, the local bucket's AWS origin)."""
    if s3_url is None:
        s3_url = _RUNNING_S3[-1] if _RUNNING_S3 else ""
    policy = next((r["Properties"]["ResponseHeadersPolicyConfig"] for r in tpl["Resources"].values()
                   if r["Type"] == "AWS::CloudFront::ResponseHeadersPolicy"), {})
    sec = policy.get("SecurityHeadersConfig", {})
    out = {}
    if "ContentSecurityPolicy" in sec:
        csp = sec["ContentSecurityPolicy"]["ContentSecurityPolicy"]
        if isinstance(csp, dict):  # !Sub [text, {name: the bucket's name}]: the only form the template uses
            text, names = csp["Fn::Sub"]
            local = {name: f"{TABLE}-{name.lower()}" for name in names}
            origin = urlsplit(s3_url)
            csp = S3_ORIGIN.sub(lambda m: f"{origin.scheme}://{origin.netloc}" if s3_url else
                                f"https://{local[m.group(1)]}.s3.{REGION}.amazonaws.com", text)
        out["Content-Security-Policy"] = csp
    if "StrictTransportSecurity" in sec:
        hsts = sec["StrictTransportSecurity"]
        out["Strict-Transport-Security"] = f"max-age={hsts['AccessControlMaxAgeSec']}" + (
            "; includeSubDomains" if hsts.get("IncludeSubdomains") else "")
    if "ContentTypeOptions" in sec:
        out["X-Content-Type-Options"] = "nosniff"
    if "FrameOptions" in sec:
        out["X-Frame-Options"] = sec["FrameOptions"]["FrameOption"]
    if "ReferrerPolicy" in sec:
        out["Referrer-Policy"] = sec["ReferrerPolicy"]["ReferrerPolicy"]
    return out


@dataclass(frozen=True)
class Behaviour:
    """One of the distribution's cache behaviours, as far as routing goes: which paths, which origin, which methods."""

    pattern: re.Pattern[str]
    origin: str
    methods: frozenset[str]


def behaviours(tpl: dict[str, Any]) -> list[Behaviour]:
    """The distribution's cache behaviours in the order CloudFront tries them, the default last. In a path pattern
    `*` stands for any characters, slashes included, and `?` for one (CloudFront's rule, case-sensitive)."""
    dist = next(r["Properties"]["DistributionConfig"] for r in tpl["Resources"].values()
                if r["Type"] == "AWS::CloudFront::Distribution")
    out = []
    for b in [*dist.get("CacheBehaviors", []), {**dist["DefaultCacheBehavior"], "PathPattern": "*"}]:
        regex = re.escape(b["PathPattern"]).replace(r"\*", ".*").replace(r"\?", ".")
        out.append(Behaviour(re.compile(regex + r"\Z"), b["TargetOriginId"], frozenset(b["AllowedMethods"])))
    return out


def behaviour_of(edge: list[Behaviour], path: str) -> Behaviour:
    """The behaviour that serves `path` (without its query): the first whose pattern matches."""
    return next(b for b in edge if b.pattern.match(path))


def error_pages(tpl: dict[str, Any]) -> dict[int, str]:
    """Status -> the site page the distribution answers it with (its custom error responses)."""
    dist = next((r["Properties"]["DistributionConfig"] for r in tpl["Resources"].values()
                 if r["Type"] == "AWS::CloudFront::Distribution"), {})
    return {int(r["ErrorCode"]): r["ResponsePagePath"] for r in dist.get("CustomErrorResponses", [])
            if r.get("ResponsePagePath")}


def _client(database_url: str, service: str = "dynamodb") -> Any:
    import boto3

    return boto3.client(service, endpoint_url=database_url, region_name=REGION,
                        aws_access_key_id="local", aws_secret_access_key="local")


def _drop_table(database_url: str, table: str = TABLE) -> None:
    """moto's data is process-wide: a stopped stack leaves no table behind for the next one in the process."""
    from botocore.exceptions import ClientError

    try:
        _client(database_url).delete_table(TableName=table)
    except ClientError:
        pass  # already gone


def create_table(database_url: str, tpl: dict[str, Any], table: str = TABLE) -> None:
    _client(database_url).create_table(**table_definition(tpl, table))


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # a burst of phones must queue, not be refused and retried a second later
    daemon_threads = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.slots = threading.BoundedSemaphore(MAX_CONNECTIONS)

    def process_request(self, request: Any, client_address: Any) -> None:
        # At most MAX_CONNECTIONS threads: the next connection waits here, and the kernel queues the ones after it.
        self.slots.acquire()
        try:
            super().process_request(request, client_address)
        except BaseException:
            self.slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()


class _Handler(SimpleHTTPRequestHandler):
    """The stand-in CloudFront: a request goes where the distribution's behaviour for its path sends it (the API
    origin, with the path kept as API Gateway receives it, or the site's files), and a method the behaviour does not
    allow is refused with 403, as CloudFront refuses it."""

    api: Api
    edge: list[Behaviour] = []  # the distribution's cache behaviours, in order
    headers_out: dict[str, str] = {}  # the edge's security headers, on every response
    error_pages: dict[int, str] = {}  # the edge's custom error responses: status -> site page
    timeout = SOCKET_TIMEOUT  # a slow or silent client cannot hold a thread for ever

    def end_headers(self) -> None:
        for k, v in self.headers_out.items():
            self.send_header(k, v)
        super().end_headers()

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        # A missing page gets the site's own page, as the distribution answers it, not Python's English one.
        page = self.error_pages.get(code)
        path = Path(self.directory) / page.lstrip("/") if page else None
        if path is None or not path.is_file() or self._to_api():
            super().send_error(code, message, explain)
            return
        self.log_error("code %d, message %s", code, message)
        body = path.read_bytes()
        self.send_response(code, message)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _behaviour(self) -> Behaviour:
        return behaviour_of(self.edge, urlsplit(self.path).path)

    def _to_api(self) -> bool:
        return self._behaviour().origin == "api"

    def do_POST(self) -> None:
        behaviour = self._behaviour()
        if "POST" in behaviour.methods and behaviour.origin == "api":
            self._api("POST")
        else:  # the site's files take no posts
            self.send_error(403, "this path takes no POST")

    def do_GET(self) -> None:
        if self._to_api():
            self._api("GET")
        else:
            super().do_GET()

    def _api(self, method: str) -> None:
        raw = (self.headers.get("Content-Length") or "0").strip()
        if not raw.isdigit() or not raw.isascii():
            self.send_error(400, "Content-Length must be a whole number of bytes")
            return
        length = int(raw)
        if length > MAX_REQUEST:
            self.send_error(413)
            return
        body = self.rfile.read(length) if length else b""
        status, headers, payload = self.api.invoke(method, self.path, dict(self.headers), body,
                                                   self.client_address[0], self.client_address[1])
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        # The request line and status, never the client's address: no raw IP is logged, here as on AWS.
        if not hasattr(self, "path") or self._to_api():
            print(f"[{self.log_date_time_string()}] {format % args}", flush=True)


@contextmanager
def stack(site_dir: Path, port: int = 8000, sweep_every: float = SWEEP_EVERY) -> Iterator[tuple[Stack, ThreadingHTTPServer]]:
    """Start the database, the table, the API and the static site; yield them; stop everything on exit."""
    tpl = template()
    with database() as db_url:
        create_table(db_url, tpl)
        arns, origin_token = create_secrets(db_url, tpl)
        api = Api(routes(tpl), environments(tpl, db_url, site_dir, arns), origin_token)
        handler = functools.partial(type("Handler", (_Handler,), {"api": api, "edge": behaviours(tpl),
                                                                  "headers_out": security_headers(tpl, db_url),
                                                                  "error_pages": error_pages(tpl)}),
                                    directory=str(site_dir))
        server = _Server(("127.0.0.1", port), handler)
        made = create_buckets(db_url, tpl, f"http://127.0.0.1:{server.server_address[1]}")
        _RUNNING_S3.append(db_url)
        stop = threading.Event()
        sweeper = threading.Thread(target=_sweep_loop, args=(api, stop, sweep_every), daemon=True)
        sweeper.start()
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield Stack(f"http://127.0.0.1:{server.server_address[1]}/", db_url, TABLE, api, arns, str(site_dir)), server
        finally:
            stop.set()
            server.shutdown()
            server.server_close()
            sweeper.join(timeout=5)
            _drop_table(db_url)
            _drop_buckets(db_url, list(made.values()))
            _RUNNING_S3.remove(db_url)
            _forget_handlers(api)


def _forget_handlers(api: Api) -> None:
    """A stopped stack's containers are gone: the next stack in this process starts its functions cold."""
    for dotted in [*api.environments, _sweep_handler()]:
        module = importlib.import_module(dotted.rpartition(".")[0])
        for name, default in (("intake", None), ("_store", None), ("source", None), ("survey", None),
                              ("portal", None)):
            if hasattr(module, name):
                setattr(module, name, default)


def _sweep_loop(api: Api, stop: threading.Event, every: float) -> None:
    """The scheduled sweeper, as EventBridge would run it, under the same lock as the API."""
    dotted = _sweep_handler()
    sweep = _resolve(dotted)
    while not stop.wait(every):
        with api.lock:
            try:
                api.call(dotted, sweep, {})
            except Exception as exc:  # a failed sweep is retried on the next tick, as the scheduled one would be
                print(f"sweeper: {exc}", flush=True)
            _release_moto_copies()


def _sweep_handler() -> str:
    tpl = template()
    for res in tpl["Resources"].values():
        events = res.get("Properties", {}).get("Events", {}).values()
        if res["Type"] == "AWS::Serverless::Function" and any(e["Type"] == "Schedule" for e in events):
            return res["Properties"]["Handler"]
    raise LookupError("the template has no scheduled function")


def describe(s: Stack) -> str:
    return (f"API: {s.url}api/ (the handlers in lambdas/, routes from infra/template.yaml)\n"
            f"Data: table '{s.table}' in an embedded DynamoDB (moto server) at {s.database_url}, the same server "
            "holding the secrets and the upload bucket; it lives in memory and is gone when this stops\n"
            f"Sponsors' private links: python -m lambdas.admin --endpoint-url {s.database_url} --site {s.site or 'site'} "
            f"portal links --portal-secret {s.secrets.get('PortalKeySecret', '<PortalKeySecret>')}")
