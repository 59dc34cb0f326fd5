"""The submit function's keys, kept in Secrets Manager and read once per container.

Three secrets, each rotated on its own (infra/README.md says when and how):
- the address key: keys the hashes of addresses and device tokens. Rotating it makes every address and device
  new to the repeat and volume checks, so rotate it between campaigns, not during one;
- the challenge key: signs proof-of-work challenges. Challenges signed with the old key stop verifying, so rotate
  it outside the window (or accept that drafts older than the rotation fetch a new challenge);
- the origin token: the header CloudFront adds to every request it forwards to the API. A request without it did
  not come through CloudFront, so nothing it says about its viewer can be believed.
The function's environment holds only the secrets' ARNs.

The portal function reads one more secret the same way (`portal`): the key that signs sponsors' private links
(lambdas/portal/token.py). Rotating it revokes every link at once; rotate a single sponsor's generation instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .settings import SettingsError

ENV = {"address": "SURVEY_ADDRESS_KEY_SECRET", "challenge": "SURVEY_CHALLENGE_KEY_SECRET",
       "origin": "SURVEY_ORIGIN_TOKEN_SECRET"}
PORTAL_ENV = "SURVEY_PORTAL_KEY_SECRET"
MIN_LENGTH = 32


@dataclass(frozen=True)
class Keys:
    address: bytes
    challenge: bytes
    origin_token: str  # "" only where no edge stands in front (unit tests): then no viewer header is believed


def load(env: dict[str, str], client: Any | None = None) -> Keys:
    """Read the three secrets named by the environment in one call."""
    out = read(env, ENV, client)
    return Keys(out["address"].encode(), out["challenge"].encode(), out["origin"])


def portal(env: dict[str, str], client: Any | None = None) -> bytes:
    """The portal key, named by SURVEY_PORTAL_KEY_SECRET. One secret, so one GetSecretValue: the portal function's
    role needs no BatchGetSecretValue (which takes no resource and so cannot be narrowed)."""
    return read(env, {"portal": PORTAL_ENV}, client)["portal"].encode()


def read(env: dict[str, str], names: dict[str, str], client: Any | None = None) -> dict[str, str]:
    """The secrets whose ARNs the variables `names` (name -> variable) hold, in one call; each must hold at least
    MIN_LENGTH characters."""
    missing = [v for v in names.values() if not env.get(v)]
    if missing:
        raise SettingsError(f"set {', '.join(missing)} in the function's environment (see infra/template.yaml)")
    ids = {name: env[var] for name, var in names.items()}
    if client is None:
        import boto3

        client = boto3.client("secretsmanager")
    found = _fetch(client, list(ids.values()))
    if found.get("Errors"):
        first = found["Errors"][0]
        raise SettingsError(f"cannot read secret {first.get('SecretId')}: {first.get('ErrorCode')} "
                            f"{first.get('Message', '')}; check the function's role and the secret's ARN")
    values = {}
    for item in found.get("SecretValues", []):
        values[item["ARN"]] = values[item["Name"]] = item.get("SecretString", "")
    out = {}
    for name, secret_id in ids.items():
        value = values.get(secret_id)
        if value is None or len(value) < MIN_LENGTH:
            raise SettingsError(f"secret {secret_id} ({names[name]}) must hold at least {MIN_LENGTH} characters")
        out[name] = value
    return out


def _fetch(client: Any, secret_ids: list[str]) -> dict[str, Any]:
    """BatchGetSecretValue's answer for `secret_ids`; a single secret is read with GetSecretValue, same shape."""
    if len(secret_ids) != 1:
        return client.batch_get_secret_value(SecretIdList=secret_ids)
    from botocore.exceptions import ClientError

    try:
        item = client.get_secret_value(SecretId=secret_ids[0])
    except ClientError as exc:
        error = exc.response.get("Error", {})
        return {"Errors": [{"SecretId": secret_ids[0], "ErrorCode": error.get("Code"), "Message": error.get("Message")}]}
    return {"SecretValues": [item]}
