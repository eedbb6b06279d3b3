"""Entry point of the `dsr` command: the Typer application and the mapping of errors to exit codes.

Exit codes: 0 success, 1 failure during the work, 2 bad usage or bad input,
130 interrupted by the user.
"""

from __future__ import annotations

import logging
import signal
import sys
import traceback
from typing import Annotated, Optional

import typer
from rich.markup import escape

from cli import console
from dsr import __version__
from dsr.errors import DsrError, InputError, TrainingInterrupted
from dsr.provenance import recorded_command_line

app = typer.Typer(
    name="dsr",
    help=(
        "Dynamical-systems reconstruction: turn a measured or simulated time series into a generative "
        "recurrent model (AL-RNN, shallow PLRNN, MixER) whose free runs reproduce the system's attractor, "
        "then read the model as a piecewise-linear map and score it.\n\n"
        "Typical session: dsr simulate lorenz63 -o l63.h5; dsr train l63.h5 -o runs/l63; "
        "dsr evaluate runs/l63; dsr symbolize runs/l63.\n\n"
        "Exit codes: 0 success, 1 failure during the work, 2 bad usage or bad input, 130 interrupted."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)

_state = {"debug": False}


def _print_version(value: bool) -> None:
    if value:
        console.stdout.print(f"dsr {__version__}")
        raise typer.Exit()


@app.callback()
def _global_options(
    version: Annotated[Optional[bool], typer.Option("--version", callback=_print_version, is_eager=True,
                                                    help="Print the version and exit.")] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show debug logs, and a traceback on errors.")] = False,
) -> None:
    _state["debug"] = debug
    console.configure_logging(logging.DEBUG if debug else logging.INFO)


def _register_commands() -> None:
    # Commands import their heavy dependencies (torch, h5py) inside the
    # command function, so `dsr --help` stays fast.
    from cli import (adapt, compare, evaluate, generate, info, ingest, lyapunov, plot, quickstart, simulate,
                     symbolize, train)

    app.command("quickstart")(quickstart.quickstart_command)
    app.command("simulate")(simulate.simulate_command)
    app.command("ingest")(ingest.ingest_command)
    app.command("info")(info.info_command)
    app.command("lyapunov")(lyapunov.lyapunov_command)
    app.command("train")(train.train_command)
    app.command("generate")(generate.generate_command)
    app.command("evaluate")(evaluate.evaluate_command)
    app.command("symbolize")(symbolize.symbolize_command)
    app.command("plot")(plot.plot_command)
    app.command("compare")(compare.compare_command)
    app.command("adapt")(adapt.adapt_command)


_register_commands()


def run(argv: list[str] | None = None) -> int:
    """Run the dsr command with `argv` (default: sys.argv[1:]) and return its exit code."""
    argv = sys.argv[1:] if argv is None else argv
    _state["debug"] = "--debug" in argv
    command = typer.main.get_command(app)
    try:
        with recorded_command_line(argv):
            result = command.main(args=argv, prog_name="dsr", standalone_mode=False)
    except typer.Exit as exit_:
        return exit_.exit_code
    except typer.Abort:
        console.stderr.print("Interrupted.")
        return 130
    except typer.TyperException as error:
        # Usage errors from the parser (unknown option, missing argument): exit code 2.
        show = getattr(error, "show", None)
        if show is not None:
            show(file=sys.stderr)
        else:
            console.stderr.print(f"Error: {escape(error.format_message())}", soft_wrap=True)
        return error.exit_code
    except TrainingInterrupted as error:
        console.stderr.print(str(error), soft_wrap=True)
        return 130
    except KeyboardInterrupt:
        console.stderr.print("Interrupted.")
        return 130
    except InputError as error:
        _show_error(error)
        return 2
    except DsrError as error:
        _show_error(error)
        return 1
    except Exception as error:  # noqa: BLE001  (the last line of defence for a command-line tool)
        _show_error(error, unexpected=True)
        return 1
    if result == 130:
        # Typer (0.29) turns a KeyboardInterrupt inside a command, for example
        # during `import torch` or an evaluation, into a silent exit code 130.
        console.stderr.print("Interrupted.")
    return result if isinstance(result, int) else 0


def _show_error(error: BaseException, unexpected: bool = False) -> None:
    if _state["debug"]:
        traceback.print_exception(error, file=sys.stderr)
    if unexpected:
        message = (f"Internal error: {type(error).__name__}: {error}. This is a bug in dsr; "
                   "please report it with the command line and the output of the same command with --debug.")
    else:
        message = str(error)
    console.stderr.print(f"[{console.ERROR_STYLE}]Error:[/] {escape(message)}", soft_wrap=True, markup=True, highlight=False)


def main() -> None:
    """Console-script entry point."""
    # Batch schedulers (Slurm, PBS, LSF) stop a job at its time limit with
    # SIGTERM. Handling it as Ctrl-C lets `dsr train` save the last finished
    # epoch and mark the run interrupted before the scheduler's SIGKILL.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    sys.exit(run())
