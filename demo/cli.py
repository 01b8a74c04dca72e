"""The demo powiat's commands: `demo` (data, replicas, users, then serve), `demo-data` (feed files) and
`demo-domains` (the offices' domain databases). The demo may import everything; nothing imports it."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from contract.arguments import count, port_number, positive_integer
from contract.dberrors import describe
from contract.errors import ConfigurationError
from hub.cli import _progress, _progress_factory, _workers, console


def cmd_demo(args: argparse.Namespace) -> int:
    from demo.powiat import DemoSizes, prepare, write_demo_json
    from hub import settings as config_module
    from hub.core import HubCore
    from hub.soap.server import serve

    directory = Path(args.dir)
    with _progress() as progress:
        state = prepare(
            directory,
            seed=args.seed,
            sizes=DemoSizes(args.pup, args.ops, args.sr),
            port=args.port,
            progress=_progress_factory(progress),
            gminas=args.gminas,
        )
    config = config_module.load(state["config"])
    sock, workers = (None, []) if args.no_serve else _workers(state["config"], "127.0.0.1", args.port, args.workers, [])
    core = HubCore.open(config)

    def ready(actual: int) -> None:
        base = f"http://127.0.0.1:{actual}"
        path = write_demo_json(directory, state, base)
        console.rule("Platforma komunikacyjna — powiat demonstracyjny (dane syntetyczne)")
        console.print(f"WSDL: [bold]{base}/soap/zapytania?wsdl[/bold]", highlight=False)
        users = Table(title="Użytkownicy demonstracyjni (WS-Security UsernameToken)")
        for column in ("login", "hasło", "urząd", "grupa"):
            users.add_column(column)
        for user in state["users"]:
            users.add_row(user["login"], user["password"], user["office"], user["group"])
        console.print(users)
        people = Table(title="Przykładowi beneficjenci (PESEL)")
        people.add_column("PESEL")
        people.add_column("znany w zbiorach")
        for person in state["beneficiaries"] + state.get("moved", [])[:5]:
            people.add_row(person["pesel"], ", ".join(person["data_sets"]))
        console.print(people)
        console.print(f"Plik dla skryptów i integratorów: {path}", highlight=False)
        console.print("Zatrzymanie: Ctrl+C", highlight=False)
        sys.stdout.flush()

    if args.no_serve:
        path = write_demo_json(directory, state, f"http://127.0.0.1:{args.port}")
        console.print(f"Demo przygotowane: {path}", highlight=False)
        core.close()
        return 0
    serve(core, "127.0.0.1", args.port, on_ready=ready, sock=sock, workers=workers)
    return 0


def cmd_demo_data(args: argparse.Namespace) -> int:
    """Write the synthetic powiat's feed files (and with --domains its domain databases) under --out."""
    from demo.data import generate

    with _progress() as progress:
        summary = generate(
            args.seed, Path(args.out), args.pup, args.ops, args.sr, _progress_factory(progress), domains=args.domains
        )
    for data_set, path in summary.files.items():
        console.print(f"{data_set}: {summary.counts[data_set]} rekordów → {path}", highlight=False)
    for data_set, rejected in summary.rejected.items():
        for key, reason in rejected:
            console.print(f"{data_set}: odrzucono {key}: {reason}", highlight=False)
    if summary.domain_urls:
        console.print("Bazy dziedzinowe urzędów (schematy wzorcowe adapterów):", highlight=False)
        for data_set, url in summary.domain_urls.items():
            console.print(f"{data_set}: {url}", highlight=False)
    return 0


def cmd_demo_domains(args: argparse.Namespace) -> int:
    """Write the synthetic powiat's domain databases (reference schemas), SQLite unless URLs are given."""
    from demo.data import write_domain_databases

    urls = {code: url for code, url in (("PUP", args.pup_url), ("OPS", args.ops_url), ("SR", args.sr_url)) if url}
    for code, url in urls.items():
        try:  # an unknown scheme or a missing driver was "Nieoczekiwany błąd (NoSuchModuleError)", exit 3
            make_url(url).get_dialect().import_dbapi()
        except (SQLAlchemyError, ImportError) as error:
            raise ConfigurationError(f"--{code.lower()}-url: {describe(error)}.") from None
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=console) as progress:
        task = progress.add_task("Bazy dziedzinowe", total=args.pup + args.ops + args.sr)
        summary = write_domain_databases(
            args.seed, Path(args.out), args.pup, args.ops, args.sr, lambda n: progress.advance(task, n), urls=urls
        )
    for code, url in summary.urls.items():
        console.print(
            f"{code}: {summary.counts[code]} osób, {summary.history_rows[code]} wierszy historii → {url}",
            highlight=False,
        )
    return 0


def _gmina_count(text: str) -> int:
    count = int(text)
    if not 1 <= count <= 99:
        raise argparse.ArgumentTypeError("liczba gmin od 1 do 99")
    return count


def register(commands: Any) -> None:
    """Add `demo`, `demo-data` and `demo-domains` to the `platforma` command."""
    demo = commands.add_parser(
        "demo",
        help="przygotuj powiat demonstracyjny (dane syntetyczne, repliki, użytkownicy) i uruchom hub",
        description="Tworzy w katalogu DIR dane, repliki i konfigurację (jeśli ich brak), zapisuje demo.json "
        "i uruchamia hub na 127.0.0.1.",
    )
    demo.add_argument("--dir", default="demo", help="katalog demonstracji (domyślnie ./demo)")
    demo.add_argument("--port", type=port_number, default=8080, help="port (domyślnie 8080; 0 = dowolny wolny)")
    demo.add_argument("--seed", type=int, default=1, help="ziarno generatora danych (domyślnie 1)")
    demo.add_argument("--pup", type=count, default=5000, help="liczba osób w zbiorze PUP (domyślnie 5000)")
    demo.add_argument("--ops", type=count, default=2000, help="liczba osób w zbiorze OPS (domyślnie 2000)")
    demo.add_argument("--sr", type=count, default=3000, help="liczba osób w zbiorze SR (domyślnie 3000)")
    demo.add_argument(
        "--gminas",
        type=_gmina_count,
        default=3,
        help="liczba gmin powiatu, każda z OPS i SR (domyślnie 3; pierwsza: OPS, SR; kolejne: OPS-TERYT, SR-TERYT)",
    )
    demo.add_argument("--no-serve", action="store_true", help="tylko przygotuj dane i demo.json, nie uruchamiaj")
    demo.add_argument("--workers", type=positive_integer, default=1, help="liczba procesów roboczych (domyślnie 1)")
    demo.set_defaults(func=cmd_demo)

    data = commands.add_parser(
        "demo-data", help="wygeneruj pliki zasilające (xsd/zasilanie-1.xsd) syntetycznego powiatu"
    )
    data.add_argument("--seed", type=int, required=True, help="ziarno: te same dane dla tego samego ziarna")
    data.add_argument("--out", required=True, help="katalog wyjściowy (pup.xml, ops.xml, sr.xml)")
    data.add_argument("--pup", type=count, default=5000, help="liczba osób PUP (domyślnie 5000)")
    data.add_argument("--ops", type=count, default=2000, help="liczba osób OPS (domyślnie 2000)")
    data.add_argument("--sr", type=count, default=3000, help="liczba osób SR (domyślnie 3000)")
    data.add_argument(
        "--domains",
        action="store_true",
        help="zapisz też bazy systemów dziedzinowych urzędów (SQLite, schematy wzorcowe adapterów: docs/adapters.md)",
    )
    data.set_defaults(func=cmd_demo_data)

    domains = commands.add_parser(
        "demo-domains",
        help="wygeneruj bazy dziedzinowe urzędów syntetycznego powiatu (schematy wzorcowe adapterów)",
        description="Zapisuje bazy systemów dziedzinowych PUP, OPS i SR w schematach wzorcowych adapterów "
        "(SQLite w katalogu OUT albo podane URL-e), z tymi samymi osobami co platforma demo-data.",
    )
    domains.add_argument("--seed", type=int, required=True, help="ziarno: te same dane dla tego samego ziarna")
    domains.add_argument("--out", required=True, help="katalog baz SQLite (pup-dziedzinowa.sqlite, …)")
    domains.add_argument("--pup", type=count, default=5000, help="liczba osób PUP (domyślnie 5000)")
    domains.add_argument("--ops", type=count, default=2000, help="liczba osób OPS (domyślnie 2000)")
    domains.add_argument("--sr", type=count, default=3000, help="liczba osób SR (domyślnie 3000)")
    domains.add_argument("--pup-url", help="URL bazy PUP zamiast SQLite (np. postgresql+psycopg://…)")
    domains.add_argument("--ops-url", help="URL bazy OPS zamiast SQLite")
    domains.add_argument("--sr-url", help="URL bazy SR zamiast SQLite")
    domains.set_defaults(func=cmd_demo_domains)
