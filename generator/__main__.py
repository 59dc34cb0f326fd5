"""Command line.

  python -m generator check [sponsors.yaml]   validate the sponsor list and the questionnaires without building
  python -m generator serve [--port 8000] [--rehearse]
                                              build every page for this machine's address, then serve the site
                                              and the collection API with an in-memory database
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from lambdas.survey import questionnaire
from lambdas.survey import rules as validity

from . import build, pages
from .fonts import FontMissing
from .model import BEIJING, SponsorsError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m generator", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="validate sponsors.yaml (and, with --site, that no published link vanished)")
    check.add_argument("sponsors", nargs="?", default="sponsors.yaml", type=Path)
    check.add_argument("--site", type=Path, default=Path("site"), help="the last built site (default: site)")
    check.add_argument("--questionnaires", type=Path, default=build.QUESTIONNAIRES,
                       help="the questionnaire file (default: lambdas/survey/questionnaires.yaml)")
    serve = sub.add_parser("serve", help="build the site for 127.0.0.1 and serve it")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--config", default="mkdocs.yml")
    serve.add_argument("--rehearse", action="store_true",
                       help="move the survey window to open today (Beijing time), keeping its length, to try the forms")
    args = parser.parse_args(argv)
    if args.command == "serve":
        return _serve(args.port, args.config, args.rehearse)
    try:
        sl = build.read(args.sponsors)
        build.check_published(sl, pages.read_published(args.site), args.sponsors)
        survey = questionnaire.load(args.questionnaires)
        rules = validity.parse(validity.read(build.RULES), build.RULES, tuple(survey.questionnaires))
    except (SponsorsError, FontMissing, questionnaire.QuestionnaireError, validity.RulesError) as exc:
        print(exc, file=sys.stderr)
        return 1
    for warning in sl.warnings:
        print(f"{args.sponsors.name}:{warning.line}: warning: {warning.where}: {warning.message}", file=sys.stderr)
    initiators = sum(1 for s in sl.sponsors if s.is_initiator)
    links = sum(len(s.channels) for s in sl.sponsors)
    print(f"{args.sponsors}: OK: {initiators} initiators, {len(sl.sponsors) - initiators} support units, {links} attributed links")
    sizes = ", ".join(f"{qid} {len(qn.questions)} questions" for qid, qn in survey.questionnaires.items())
    print(f"{args.questionnaires}: OK: {sizes}")
    print(f"{build.RULES}: OK: version {rules.version}, {sum(r.invalid for r in rules.reasons.values())} invalidating reasons")
    return 0


def mkdocs_build(config: Path | str, *options: str, env: Mapping[str, str] | None = None,
                 **run: Any) -> subprocess.CompletedProcess[Any]:
    """`mkdocs build -f <config> <options>` in a fresh interpreter, as a deploy, a local server and the tests run it.

    `env` is the whole environment (default: this process's); MkDocs's notice about version 2 is always silenced.
    Keyword arguments go to subprocess.run (capture_output, text, cwd...).
    """
    full = dict(os.environ if env is None else env, NO_MKDOCS_2_WARNING="1")
    return subprocess.run([sys.executable, "-m", "mkdocs", "build", "-f", str(config), *options], env=full, **run)


def rehearsal_opens(sponsors_path: Path, now: datetime) -> str:
    """When a rehearsal opens (ISO time): at the campaign's own opening time of day, on the latest day that has the
    form open by `now`. The build keeps the window's length, so the close keeps its time of day too."""
    from .sponsors import load  # validation without drawing: the window is all that is needed here

    opens = load(sponsors_path).campaign.opens
    start = now.astimezone(BEIJING).replace(hour=opens.hour, minute=opens.minute, second=0, microsecond=0)
    return (start if start <= now else start - timedelta(days=1)).isoformat()


def _serve(port: int, config: str, rehearse: bool) -> int:
    from lambdas import local  # the database and the handlers are only needed here

    url = f"http://127.0.0.1:{port}/"
    env = dict(os.environ, SURVEY_SITE_URL=url)
    if rehearse:
        env["SURVEY_OPENS"] = rehearsal_opens(Path(config).resolve().parent / "sponsors.yaml", datetime.now(BEIJING))
    site = Path(config).resolve().parent / "site"
    # Links and QR codes must point at this machine, so the site is built for the local address.
    result = mkdocs_build(config, "-d", str(site), env=env)
    if result.returncode != 0:
        return result.returncode
    stop = threading.Event()
    # Ctrl-C and a service manager's SIGTERM both stop it cleanly, even where SIGINT was ignored at start.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda signum, frame: stop.set())
    with local.stack(site, port) as (stack, _server):
        window = json.loads((site / "sponsors.json").read_text(encoding="utf-8"))["campaign"]
        note = " (REHEARSAL: moved to open today; the campaign's own window is in sponsors.yaml)" if rehearse else ""
        print(f"Survey window: {window['opens']} to {window['closes']}{note}", flush=True)
        print(local.describe(stack), flush=True)
        print(f"Serving {site} at {url} (Ctrl-C to stop)", flush=True)
        while not stop.wait(0.5):
            pass
    print("stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
