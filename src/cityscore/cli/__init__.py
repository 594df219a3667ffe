"""The ``cityscore`` command line.

Domain errors become CLI errors only at this edge (:func:`.common.domain_errors`): a
:class:`~cityscore.errors.CityScoreError` prints its message, which says how to fix the problem, and exits with
status 1; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

from typing import Annotated

import typer

from .. import __version__
from .accounts import tokens_app, users_app
from .audit import app as audit_app
from .backup import backup_cmd, restore_cmd
from .common import state
from .data import batches, compute_cmd, ingest, quarantine, tables
from .demo import demo
from .explain import explain
from .score import monitor_cmd, policy_cmd, score
from .serve import serve
from .settlements import settlements
from .simulate import simulate
from .standard import app as standard_app

app = typer.Typer(
    name="cityscore",
    help="CityScore-KZ: Kazakhstan's Smart City Reference Standard (order No. 469/НК) as software.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)
app.add_typer(standard_app, name="standard")
app.command("settlements")(settlements)
app.command("demo")(demo)
app.command("simulate")(simulate)
app.command("ingest")(ingest)
app.command("compute")(compute_cmd)
app.command("score")(score)
app.command("monitor")(monitor_cmd)
app.command("explain")(explain)
app.command("policy")(policy_cmd)
app.command("batches")(batches)
app.command("tables")(tables)
app.command("quarantine")(quarantine)
app.command("serve")(serve)
app.command("backup")(backup_cmd)
app.command("restore")(restore_cmd)
app.add_typer(users_app, name="users")
app.add_typer(tokens_app, name="tokens")
app.add_typer(audit_app, name="audit")

def _version(value: bool) -> None:
    if value:
        typer.echo(f"cityscore {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of errors.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    state["debug"] = debug


def main() -> None:
    """Entry point of the ``cityscore`` script."""
    app()
