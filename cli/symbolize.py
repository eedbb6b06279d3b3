"""`dsr symbolize`: the symbolic dynamics of a trained model next to the data's, with fixed points and cycles."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import numpy as np
import typer
from rich.table import Table

from cli import console
from dsr.errors import InputError

# Subregions listed in the table by default, most visited by the free run first.
DEFAULT_TOP = 10


def symbolize_command(
    run: Annotated[Path, typer.Argument(help="Run folder from `dsr train`.", show_default=False)],
    data: Annotated[Optional[Path], typer.Option("--data", help="Compare with this dataset instead of the run's own (same variables).", show_default=False)] = None,
    part: Annotated[Optional[str], typer.Option("--part", help="Dataset part: train, valid, test or all. Default: test of the run's dataset, all of a --data dataset.", show_default=False)] = None,
    steps: Annotated[int, typer.Option("--steps", help="Free-run symbols per start, after the transient.")] = 100_000,
    starts: Annotated[int, typer.Option("--starts", help="Free runs, from this many evenly spaced data points.")] = 1,
    transient: Annotated[int, typer.Option("--transient", help="Free-run steps dropped before symbolising.")] = 1_000,
    inference: Annotated[str, typer.Option("--inference", help="How data become latent states: forced (teacher-forced run, hidden units follow the model) or initial (initial_state of each sample).")] = "forced",
    alpha: Annotated[float, typer.Option("--alpha", help="Forcing strength of --inference forced, in (0, 1].")] = 1.0,
    restart_interval: Annotated[Optional[int], typer.Option("--restart-interval", help="With --inference forced: restart the forced run from the data every this many samples, so unobserved units cannot drift away; 0 never restarts. Default: the run's training sequence length.", show_default=False)] = None,
    data_transient: Annotated[int, typer.Option("--data-transient", help="Samples of each data trajectory dropped first, while a forced run settles.")] = 10,
    word_length: Annotated[int, typer.Option("--word-length", help="Maximum word length of the block entropies; 0 skips them.")] = 10,
    max_period: Annotated[int, typer.Option("--max-period", help="Maximum cycle period searched; 1 skips the cycle search.")] = 4,
    cycle_method: Annotated[str, typer.Option("--cycle-method", help="auto (exhaustive while the words fit --max-words, then SCYFI), exhaustive or heuristic (SCYFI).")] = "auto",
    max_words: Annotated[int, typer.Option("--max-words", help="Words the exhaustive cycle search may solve, over all periods.")] = 200_000,
    restarts: Annotated[int, typer.Option("--restarts", help="SCYFI: restarts without a new cycle before a period is given up.")] = 100,
    seed: Annotated[int, typer.Option("--seed", help="SCYFI: seed of the random starting words.")] = 0,
    top: Annotated[int, typer.Option("--top", help="Subregions listed in the table.")] = DEFAULT_TOP,
    graphml: Annotated[bool, typer.Option("--graphml/--no-graphml", help="Write the model's and the data's transition graphs as GraphML into the run folder.")] = True,
    figures: Annotated[bool, typer.Option("--figures", help="Also draw the free run coloured by subregion and the transition graph into RUN/figures.")] = False,
    which: Annotated[str, typer.Option("--parameters", help="best (by validation score) or latest parameters.")] = "best",
    environment: Annotated[Optional[str], typer.Option("--environment", help="MixER run: analyse only this environment (default: every environment, one table).", show_default=False)] = None,
    json_: Annotated[bool, typer.Option("--json", help="Print the results as JSON on standard output instead of tables.")] = False,
) -> None:
    """Read a trained model as symbolic dynamics and compare it with the data.

    Each latent state is replaced by its subregion (the on/off pattern of the
    ReLU units, shown as a bit string such as 0110). The command symbolises a
    free run of the model and the states the model infers along the data.
    For both it reports the visited subregions with their share of time and
    mean dwell time, the Markov entropy rate, the topological entropy of the
    transition graph and block entropies (nats per step and per time unit).
    The distances between them are the total variation of visits and of
    transition probabilities. It also lists the model's fixed points (real
    or virtual, with stability) and its cycles up to --max-period. Results go
    into the `symbolic` group of run.h5, and the transition graphs into
    RUN/transitions_model.graphml and RUN/transitions_data.graphml.

    Examples:
      dsr symbolize runs/l63
      dsr symbolize runs/l63 --steps 1000000 --word-length 12 --max-period 6 --json
    """
    from dsr.runs import load_run
    from dsr.runs.symbolic import SymbolicOptions, analyze_run_symbolic, store_symbolic, write_symbolic_graphml

    options = SymbolicOptions(
        steps=steps, starts=starts, transient=transient, inference=inference, alpha=alpha,
        restart_interval=restart_interval, data_transient=data_transient, max_word_length=word_length, max_period=max_period,
        cycle_method=cycle_method, max_words=max_words, restarts=restarts, seed=seed,
    )
    if top < 1:
        raise InputError(f"--top must be at least 1, got {top}.")
    from dsr.mixer.storage import is_mixer_run

    if is_mixer_run(run):
        from cli.symbolize_mixer import symbolize_mixer

        if figures:
            raise InputError("--figures draws single-model runs only; leave it out for a MixER run.")
        return symbolize_mixer(run, environment, data, part, options, top, graphml, json_)
    if environment is not None:
        raise InputError(f"--environment applies to MixER runs, and {run} is a single-model run; leave it out.")
    trained = load_run(run, which=which)
    dataset = trained.load_dataset(data)
    result = analyze_run_symbolic(trained, dataset, part or ("all" if data else "test"), options)
    store_symbolic(trained, result)
    graphml_paths = write_symbolic_graphml(result, trained.folder) if graphml else {}
    figure_paths = _write_figures(trained, dataset, result.protocol["part"], options) if figures else {}

    if json_:
        console.print_json(_payload(run, result, graphml_paths, figure_paths))
        return
    time_unit = dataset.time_unit if dataset.time_unit not in ("", "time units") else "time unit"
    _print_summary(run, result, time_unit)
    _print_subregions(result, top)
    _print_fixed_points_and_cycles(result)
    for path in [*graphml_paths.values(), *figure_paths.values()]:
        console.note(f"wrote {path}")


def _write_figures(trained, dataset, part: str, options) -> dict[str, Path]:
    """Draw the two subregion figures with the run-figure code, from a free run as long as the analysed one.

    A missing plotting module is reported, not fatal, because the symbolic
    results are complete without the figures.
    """
    try:
        from dsr.plotting.run_figures import SUBREGION_KINDS, FigureOptions, write_run_figures
    except ImportError as error:
        console.note(f"no figures: the plotting module could not be imported ({error})")
        return {}
    figure_options = FigureOptions(kinds=SUBREGION_KINDS, part=part, transient=options.transient, steps=options.steps)
    return write_run_figures(trained, dataset=dataset, options=figure_options)


def _summary_payload(summary) -> dict[str, Any]:
    labels = summary.graph.labels
    visits = summary.visits
    payload = {
        "symbols": summary.symbols.n_symbols, "visited": visits.n_visited,
        "entropy_rate": summary.entropy_rate, "entropy_rate_per_time": summary.entropy_rate_per_time,
        "topological_entropy": summary.topological_entropy,
        "topological_entropy_per_time": summary.topological_entropy_per_time,
        "distribution_source": summary.distribution_source, "components": summary.graph.n_components,
        "subregions": [
            {"label": labels[symbol], "visits": count, "share": share, "mean_dwell_time": dwell}
            for symbol, count, share, dwell in zip(visits.symbols, visits.counts, visits.shares, visits.mean_dwell_times)
        ],
    }
    if summary.blocks is not None:
        payload["block_entropies"] = summary.blocks.entropies
        payload["conditional_block_entropies"] = summary.blocks.conditional_entropies
        payload["word_count_entropies"] = summary.blocks.word_count_entropies
        payload["word_counts"] = summary.blocks.word_counts
    return payload


def _payload(run: Path, result, graphml_paths: dict[str, Path], figure_paths: dict[str, Path]) -> dict[str, Any]:
    comparison = result.comparison
    fixed_points = [
        {"label": point.label, "real": point.real, "stable": point.stable, "spectral_radius": point.spectral_radius,
         "point": point.point, "eigenvalues_abs": np.abs(point.eigenvalues)}
        for point in result.fixed_points.fixed_points
    ]
    cycles = None
    if result.cycles is not None:
        cycles = {
            "orders": result.cycles.orders, "methods": result.cycles.methods,
            "complete_orders": result.cycles.complete_orders,
            "cycles": [{"word": cycle.word, "period": cycle.period, "stable": cycle.stable,
                        "spectral_radius": cycle.spectral_radius, "points": cycle.points,
                        "multipliers_abs": np.abs(cycle.multipliers)} for cycle in result.cycles.cycles],
        }
    return {
        "run": str(run), "protocol": result.protocol, "n_switches": comparison.alphabet.n_switches,
        "visit_total_variation": comparison.visit_total_variation,
        "transition_total_variation": comparison.transition_total_variation,
        "entropy_rate_difference": comparison.entropy_rate_difference,
        "topological_entropy_difference": comparison.topological_entropy_difference,
        "shared_subregions": comparison.n_shared,
        "model": _summary_payload(comparison.model), "data": _summary_payload(comparison.data),
        "fixed_points": {"complete": result.fixed_points.complete, "searched": result.fixed_points.n_searched,
                         "singular": result.fixed_points.singular_labels, "points": fixed_points},
        "cycles": cycles,
        "files": {**{f"graphml_{source}": str(path) for source, path in graphml_paths.items()},
                  **{f"figure_{kind}": str(path) for kind, path in figure_paths.items()}},
    }


def _print_summary(run: Path, result, time_unit: str) -> None:
    comparison = result.comparison
    model, data = comparison.model, comparison.data
    f = console.format_number
    table = Table(title=f"Symbolic dynamics of {run} (S = {comparison.alphabet.n_switches} switching units)",
                  title_justify="left")
    for column in ("quantity", "model (free run)", "data (inferred states)", "good means"):
        table.add_column(column, justify="left" if column in ("quantity", "good means") else "right")
    table.add_row("symbols", f(model.symbols.n_symbols), f(data.symbols.n_symbols), "")
    table.add_row("subregions visited", f(model.visits.n_visited), f(data.visits.n_visited),
                  f"{comparison.n_shared} visited by both")
    table.add_row("share of the 5 most visited", f(model.visits.coverage(5)), f(data.visits.coverage(5)), "")
    table.add_row("entropy rate (nats/step)", f(model.entropy_rate), f(data.entropy_rate),
                  "close to the data's")
    table.add_row(f"entropy rate (nats/{time_unit})", f(model.entropy_rate_per_time), f(data.entropy_rate_per_time), "")
    table.add_row("topological entropy (nats/step)", f(model.topological_entropy), f(data.topological_entropy),
                  "of the observed transition graph")
    if model.blocks is not None and len(model.blocks.lengths) > 1:
        k = len(model.blocks.lengths) - 1
        table.add_row(f"H({k + 1}) − H({k}) (nats/step)", f(model.blocks.conditional_entropy(k)),
                      f(data.blocks.conditional_entropy(k)), "≈ sum of positive Lyapunov exponents")
        table.add_row(f"ln(N_{k + 1}) / {k + 1} (nats/step)", f(model.blocks.word_count_entropies[k]),
                      f(data.blocks.word_count_entropies[k]), "word-count estimate of h_top")
    table.add_row("strongly connected components", f(model.graph.n_components), f(data.graph.n_components), "")
    console.stdout.print(table)

    distances = Table(title="Model against data", title_justify="left")
    for column in ("distance", "value", "good means"):
        distances.add_column(column, justify="right" if column == "value" else "left")
    distances.add_row("total variation of visits", f(comparison.visit_total_variation), "0 = same shares, 1 = disjoint")
    distances.add_row("total variation of transitions", f(comparison.transition_total_variation),
                      "row-wise, weighted by the data's visits; 0 = same Markov chain")
    distances.add_row("entropy rate difference (nats/step)", f(comparison.entropy_rate_difference), "model − data; near 0")
    console.stdout.print(distances)
    if "empirical" in (model.distribution_source, data.distribution_source):
        console.note("entropy rates use the share of visits where the fitted chain has no unique stationary distribution")


def _print_subregions(result, top: int) -> None:
    comparison = result.comparison
    model, data = comparison.model, comparison.data
    labels = comparison.alphabet.labels
    fixed = {point.label: point for point in result.fixed_points.fixed_points}
    model_dwell = dict(zip(model.visits.symbols, model.visits.mean_dwell_times))
    data_dwell = dict(zip(data.visits.symbols, data.visits.mean_dwell_times))
    model_total, data_total = model.graph.visits.sum(), data.graph.visits.sum()

    f = console.format_number
    table = Table(title=f"Most visited subregions (of {comparison.alphabet.size} seen)", title_justify="left")
    for column in ("subregion", "model share", "data share", "model dwell", "data dwell", "fixed point"):
        table.add_column(column, justify="left" if column in ("subregion", "fixed point") else "right")
    for symbol in model.visits.symbols[:top]:
        point = fixed.get(labels[symbol])
        description = "-" if point is None else (
            f"{'real' if point.real else 'virtual'}, {'stable' if point.stable else 'unstable'}")
        table.add_row(labels[symbol], f(model.graph.visits[symbol] / model_total),
                      f(data.graph.visits[symbol] / data_total), f(model_dwell.get(symbol), digits=1),
                      f(data_dwell.get(symbol), digits=1), description)
    console.stdout.print(table)


def _print_fixed_points_and_cycles(result) -> None:
    search = result.fixed_points
    f = console.format_number
    scope = "all subregions" if search.complete else f"{search.n_searched} visited subregions"
    table = Table(title=f"Real fixed points ({scope} searched; {len(search.virtual)} virtual)", title_justify="left")
    for column in ("subregion", "stable", "spectral radius"):
        table.add_column(column, justify="right" if column == "spectral radius" else "left")
    for point in search.real:
        table.add_row(point.label, "yes" if point.stable else "no", f(point.spectral_radius))
    console.stdout.print(table)

    cycles = result.cycles
    if cycles is None:
        return
    complete = ", ".join(str(order) for order in cycles.complete_orders) or "none"
    if not cycles.cycles:
        console.stdout.print(f"No cycles of period {cycles.orders[0]}..{cycles.orders[-1]} found "
                             f"(complete for periods: {complete}).")
        return
    table = Table(title=f"Cycles of period {cycles.orders[0]}..{cycles.orders[-1]} (complete for periods: {complete})",
                  title_justify="left")
    for column in ("period", "subregions", "stable", "max |multiplier|"):
        table.add_column(column, justify="right" if column in ("period", "max |multiplier|") else "left")
    for cycle in cycles.cycles:
        table.add_row(str(cycle.period), cycle.word, "yes" if cycle.stable else "no", f(cycle.spectral_radius))
    console.stdout.print(table)
