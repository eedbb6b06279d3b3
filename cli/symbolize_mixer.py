"""`dsr symbolize` on a MixER run: the symbolic dynamics of every environment's model, in one table."""

from __future__ import annotations

from pathlib import Path

from rich.table import Table

from cli import console


def symbolize_mixer(run: Path, environment: str | None, data: Path | None, part: str | None, options, top: int,
                    graphml: bool, json_: bool) -> None:
    """Analyse one environment (`environment`) or all of a MixER run, store the results and print them.

    GraphML files go into RUN/environments/NAME/, one folder per environment.
    """
    from cli.symbolize import _payload, _print_fixed_points_and_cycles, _print_subregions, _print_summary
    from dsr.mixer.storage import load_mixer_run
    from dsr.runs.symbolic import analyze_run_symbolic, store_symbolic, write_symbolic_graphml

    mixer = load_mixer_run(run)
    names = [environment] if environment else mixer.names
    results = []
    for name in names:
        environment_run = mixer.environment_run(name)
        dataset = environment_run.load_dataset(data)
        result = analyze_run_symbolic(environment_run, dataset, part or ("all" if data else "test"), options)
        store_symbolic(environment_run, result)
        paths = {}
        if graphml:
            folder = Path(run) / "environments" / name
            folder.mkdir(parents=True, exist_ok=True)
            paths = write_symbolic_graphml(result, folder)
        results.append((name, mixer.environment(name).expert, dataset, result, paths))

    if json_:
        console.print_json({"run": str(run), "environments": [
            {"environment": name, "expert": expert, **_payload(run, result, paths, {})}
            for name, expert, _, result, paths in results]})
        return
    if environment:
        name, expert, dataset, result, paths = results[0]
        unit = dataset.time_unit if dataset.time_unit not in ("", "time units") else "time unit"
        _print_summary(Path(f"{run} (environment {name}, expert {expert})"), result, unit)
        _print_subregions(result, top)
        _print_fixed_points_and_cycles(result)
    else:
        _print_table(run, results)
    for *_, paths in results:
        for path in paths.values():
            console.note(f"wrote {path}")


def _print_table(run: Path, results) -> None:
    f = console.format_number
    table = Table(title=f"Symbolic dynamics of the MixER run {run}, one row per environment", title_justify="left")
    columns = ("environment", "expert", "visited (model)", "visited (data)", "entropy rate model",
               "entropy rate data", "TV visits", "TV transitions", "real fixed points", "cycles")
    for column in columns:
        table.add_column(column, justify="left" if column == "environment" else "right")
    for name, expert, _, result, _ in results:
        comparison = result.comparison
        cycles = "-" if result.cycles is None else str(len(result.cycles.cycles))
        table.add_row(name, str(expert), f(comparison.model.visits.n_visited), f(comparison.data.visits.n_visited),
                      f(comparison.model.entropy_rate), f(comparison.data.entropy_rate),
                      f(comparison.visit_total_variation), f(comparison.transition_total_variation),
                      str(len(result.fixed_points.real)), cycles)
    console.stdout.print(table)
    console.note("Entropy rates in nats per step; TV is the total variation between the model's free run and the "
                 "data's inferred states (0 = same). Pass --environment NAME for one environment's full report.")
