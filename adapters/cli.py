"""`platforma feed`: run a feeding module — read a domain database, send its data set to the replica."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from adapters import adapter_class, available
from adapters.base import AdapterError
from adapters.feeder import FULL, INCREMENTAL, Feeder, FeedOptions
from adapters.reader import ReaderProcess
from adapters.targets import open_target
from contract.arguments import positive_integer
from contract.files import read_bounded, why_unreadable

console = Console()
errors = Console(stderr=True)


#: A password file holds one line; more is not a password file (and /dev/zero would never end).
_PASSWORD_FILE_BYTES = 64 * 1024


def _password(args: argparse.Namespace) -> str | None:
    if args.password_file:
        try:
            return read_bounded(Path(args.password_file), _PASSWORD_FILE_BYTES).decode("utf-8").strip()
        except (OSError, ValueError) as error:
            raise AdapterError(
                f"Nie można odczytać pliku hasła {args.password_file}: {why_unreadable(error)}."
            ) from None
    return os.environ.get("PLATFORMA_FEED_PASSWORD")


def cmd_feed(args: argparse.Namespace) -> int:
    """Run one feeding run and print its summary; exit 1 when records were rejected, 2 on an error."""
    mode = FULL if args.full else INCREMENTAL
    # A full run: two readers keep a two-CPU machine busy (reading and building cost about as much as
    # writing). An incremental run reads few people; a second reader would only cost memory.
    readers = args.readers or (2 if args.full and (os.cpu_count() or 1) >= 2 else 1)
    # The reader processes start now, importing the adapter while this process opens the source and the
    # target (they get their work when the run knows where to begin).
    point = available().get(args.adapter)
    started = [] if args.no_parallel or point is None else [ReaderProcess(preload=point.module) for _ in range(readers)]
    try:
        cls: Any = adapter_class(args.adapter)
        adapter = cls(args.source, Path(args.mapping) if args.mapping else None)
        target = open_target(
            args.target, login=args.login, password=_password(args), kind=adapter.kind, data_set=args.data_set
        )
    except BaseException as error:
        for reader in started:
            reader.close()
        if not isinstance(error, AdapterError):
            raise
        errors.print(f"Błąd: {error.message}", highlight=False)
        return 2
    to_hub = args.target.startswith(("http://", "https://"))
    # A replica database takes big batches; the hub's limit on a request's size bounds SOAP batches.
    records = args.batch_records or (500 if to_hub else 1000)
    size = args.batch_bytes or (900_000 if to_hub else 64_000_000)
    options = FeedOptions(records, size, args.source_batch, parallel=not args.no_parallel, readers=readers)
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=args.quiet,
    )
    try:
        with progress:
            task = progress.add_task(
                f"Zasilanie {args.data_set or adapter.kind} ({'pełne' if args.full else 'przyrostowe'})", total=None
            )
            feeder = Feeder(
                adapter,
                target,
                options,
                progress=lambda n: progress.advance(task, n),
                total=lambda n: progress.update(task, total=n),
                started=started,
                data_set=args.data_set,
            )
            summary = feeder.run(mode)
    except AdapterError as error:
        errors.print(
            f"Błąd: {error.message} Zasilenie przerwano; paczki potwierdzone przez replikę pozostają, "
            "kolejne uruchomienie wznowi od ostatniej z nich.",
            highlight=False,
        )
        return 2
    finally:
        target.close()
        adapter.close()
    rate = summary.read / summary.seconds if summary.seconds else 0.0
    console.print(
        f"Zasilenie {'wznowione' if summary.resumed else 'nowe'} {summary.run_id}: przeczytano {summary.read}, "
        f"wysłano {summary.sent} w {summary.batches} paczkach, zastosowano {summary.applied}, "
        f"usunięto {summary.deleted}, odrzucono {len(summary.rejected)}; "
        f"czas {summary.seconds:.1f} s ({rate:.0f} osób/s).",
        highlight=False,
    )
    if summary.abandoned:
        console.print(
            f"  Porzucono niedokończone zasilenie pełne {summary.abandoned} z innego źródła (innej bazy "
            "dziedzinowej lub innego mapowania): jego osoby w przygotowywanej migawce usunięto, a jego dalsze "
            "paczki replika odrzuci.",
            highlight=False,
        )
    for key, reason in summary.rejected[:50]:
        console.print(f"  odrzucono {key}: {reason}", highlight=False)
    if len(summary.rejected) > 50:
        console.print(f"  … i {len(summary.rejected) - 50} więcej", highlight=False)
    sys.stdout.flush()
    return 1 if summary.rejected else 0


def register(subparsers: Any) -> None:
    """Add `feed` to the `platforma` command."""
    feed = subparsers.add_parser(
        "feed",
        help="zasil replikę z bazy systemu dziedzinowego (moduł zasilający)",
        description="Czyta bazę dziedzinową adapterem i wysyła dane zbioru do repliki: do usługi SOAP huba "
        "(--target http(s)://…/soap/zasilanie) albo wprost do bazy repliki (--target URL bazy). "
        "Przerwane zasilenie wznawia się od ostatniej paczki potwierdzonej przez replikę.",
    )
    feed.add_argument("--adapter", required=True, help="adapter: pup, ops, sr (lub inny zarejestrowany)")
    feed.add_argument(
        "--source",
        required=True,
        help="URL bazy dziedzinowej (sqlite:///…, postgresql+psycopg://…, oracle+oracledb://…)",
    )
    feed.add_argument("--target", required=True, help="adres usługi zasilania huba albo URL bazy repliki")
    feed.add_argument(
        "--data-set",
        metavar="KOD",
        help="kod zasilanego zbioru, gdy różni się od rodzaju adaptera (jednostka gminy, np. OPS-0201011)",
    )
    mode = feed.add_mutually_exclusive_group(required=True)
    mode.add_argument("--full", action="store_true", help="zasilenie pełne (zastępuje replikę atomowo)")
    mode.add_argument("--incremental", action="store_true", help="zmiany od ostatniego znacznika")
    feed.add_argument("--mapping", help="plik mapowania nazw tabel, kolumn i kodów (TOML; domyślnie schemat wzorcowy)")
    feed.add_argument("--login", help="login systemu urzędu (rola SYSTEM_ZASILAJACY), dla celu SOAP")
    feed.add_argument(
        "--password-file", help="plik z hasłem systemu (albo zmienna środowiskowa PLATFORMA_FEED_PASSWORD)"
    )
    feed.add_argument(
        "--batch-records",
        type=positive_integer,
        help="najwięcej rekordów w paczce (domyślnie 500 dla SOAP, 1000 dla bazy repliki)",
    )
    feed.add_argument(
        "--batch-bytes", type=positive_integer, help="najwięcej bajtów XML w paczce (domyślnie 900000 dla SOAP)"
    )
    feed.add_argument(
        "--no-parallel", action="store_true", help="czytaj źródło w tym samym procesie (domyślnie osobny proces)"
    )
    feed.add_argument(
        "--source-batch", type=positive_integer, default=1000, help="osób czytanych naraz ze źródła (domyślnie 1000)"
    )
    feed.add_argument(
        "--readers",
        type=positive_integer,
        help="procesów czytających źródło, każdy co n-tą partię (domyślnie przy --full 2, a na maszynie "
        "z jednym CPU i przy --incremental 1)",
    )
    feed.add_argument("--quiet", action="store_true", help="bez paska postępu")
    feed.set_defaults(func=cmd_feed)
