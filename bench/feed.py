"""Benchmark of the feeding modules (issue 3): `platforma feed` with the PUP adapter, measured for real.

One run does, each as its own `platforma feed` process (so its peak RSS is its own):

1. a full load of N PUP people (default 1,000,000) with their histories from a SQLite domain database
   (the reference Syriusz-like schema) into an empty SQLite replica, and the same for 100,000 people:
   people/s, history rows/s, peak RSS at both sizes (it must not grow with size) — the sum over the
   feeder and its reader process, sampled every 50 ms;
2. a full load of 100,000 people into a PostgreSQL replica (a private server this script starts from
   Debian's binaries, as the tests do), through the feeder's role;
3. an incremental run after changing 1 % of the N people at the source (surname and modification time):
   its wall time.

The domain databases are generated once (bulk executemany, pools of names) and cached under
bench/out/feed/ between runs; `--people N` makes a quick run. Before each run the source file is read
once, outside the measured time, so that every run finds it in the page cache (as it is right after
generation; a cold 3.8 GB source would measure the disk instead). Each run also reports the CPU time of
`platforma feed` and its reader processes per person (the figure least disturbed by other work) and
the CPU the rest of the machine used meanwhile. Targets are reported, never asserted: >= 10,000
people/s, peak RSS < 300 MB at both sizes, the 1 % incremental run < 15 s. The exit status is 1 only when
a correctness check fails (the replica does not hold exactly the source's people).

Run: `.venv/bin/python bench/feed.py` (first run generates 1.1 M people: several minutes), or
`--people 50000 --pg-people 20000` for a smoke run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import platform
import resource
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
CACHE = BENCH / "out" / "feed"
PG_BIN = Path("/usr/lib/postgresql/15/bin")
HISTORY_TABLES = (
    "adres", "rejestracja", "decyzja_swiadczenie", "wyplata", "propozycja", "szkolenie", "kwalifikacja",
    "kontakt", "zatrudnienie", "historia_statusu",
)  # fmt: skip
TARGET_RATE, TARGET_RSS_MB, TARGET_INCREMENTAL_S = 10_000, 300, 15.0


@dataclass
class Run:
    """One `platforma feed` process: what it did, how long it took, its peak RSS, the CPU it used."""

    label: str
    people: int
    history: int
    seconds: float
    peak_rss_mb: float
    output: str
    cpu_seconds: float = 0.0  # the feeder and its reader processes (user + system)
    other_cpu_seconds: float = 0.0  # the rest of the machine meanwhile

    @property
    def cpu_us_per_person(self) -> float:
        return 1e6 * self.cpu_seconds / self.people if self.people else 0.0

    @property
    def people_per_s(self) -> float:
        return self.people / self.seconds if self.seconds else 0.0

    @property
    def history_per_s(self) -> float:
        return self.history / self.seconds if self.seconds else 0.0


def schema_fingerprint() -> str:
    """A digest of the PUP reference schema's DDL: a cached domain database of another schema is made anew."""
    sys.path.insert(0, str(ROOT))
    from sqlalchemy.dialects import sqlite as sqlite_dialect
    from sqlalchemy.schema import CreateIndex, CreateTable

    from adapters import adapter_class

    adapter = adapter_class("pup")("sqlite:///unused.sqlite", connect=False)  # type: ignore[call-arg]
    dialect = sqlite_dialect.dialect()
    ddl = [str(CreateTable(table).compile(dialect=dialect)) for table in adapter.metadata.sorted_tables]
    ddl += sorted(
        str(CreateIndex(index).compile(dialect=dialect))
        for table in adapter.metadata.sorted_tables
        for index in table.indexes
    )
    return hashlib.sha256("\n".join(ddl).encode()).hexdigest()[:16]


def domain_database(people: int, seed: int = 42) -> Path:
    """The cached PUP domain database of `people` people (generated once per reference schema)."""
    directory = CACHE / f"domena-{people}"
    path = directory / "pup-dziedzinowa.sqlite"
    marker = directory / "gotowe"
    schema = f"schemat {schema_fingerprint()}"
    if marker.exists() and path.exists() and schema in marker.read_text(encoding="utf-8").splitlines():
        return path
    sys.path.insert(0, str(ROOT))
    from demo.data import write_domain_databases

    shutil.rmtree(directory, ignore_errors=True)
    started = time.perf_counter()
    print(f"Generowanie bazy dziedzinowej PUP: {people:,} osób (jednorazowo, do {directory}) …", flush=True)
    write_domain_databases(seed, directory, pup=people, ops=0, sr=0, chunk=5000)
    marker.write_text(f"{time.perf_counter() - started:.0f} s\n{schema}\n", encoding="utf-8")
    print(f"  gotowe w {time.perf_counter() - started:.0f} s", flush=True)
    return path


def history_rows(path: Path) -> int:
    """Rows of the people's histories in the domain database (all child tables)."""
    connection = sqlite3.connect(path)
    try:
        return sum(int(connection.execute(f"SELECT count(*) FROM {t}").fetchone()[0]) for t in HISTORY_TABLES)  # noqa: S608
    finally:
        connection.close()


def tree_rss_kb(pid: int) -> int:
    """Resident memory of a process and its children (the feeder and its reader process), in KiB."""
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")))
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except (OSError, StopIteration):
            continue
        pending.extend(int(child) for child in children)
    return total


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy (not idle, not waiting for I/O) since boot."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def warm(path: Path) -> float:
    """Read a file once (into the page cache); the seconds it took."""
    started = time.perf_counter()
    with path.open("rb") as handle:
        while handle.read(1 << 24):
            pass
    return time.perf_counter() - started


def feed(label: str, source: str, target: str, mode: str, people: int, history: int) -> Run:
    """Run `platforma feed` in its own process; peak RSS = the largest sum over it and its reader processes,
    sampled every 50 ms (wait4's ru_maxrss would give only the largest of them). CPU time from this
    process's waited-for children: the feeder, and its readers, which the feeder waits for."""
    path = Path(source.removeprefix("sqlite:///"))
    print(f"  {label}: źródło wczytane do pamięci podręcznej systemu w {warm(path):.1f} s (poza pomiarem)", flush=True)
    command = [
        sys.executable, "-m", "hub.cli", "feed", "--adapter", "pup", "--source", source, "--target", target,
        f"--{mode}", "--quiet",
    ]  # fmt: skip
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy = machine_busy_seconds()
    started = time.perf_counter()
    log = tempfile.TemporaryFile()
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    peak = 0
    while process.poll() is None:
        peak = max(peak, tree_rss_kb(process.pid))
        time.sleep(0.05)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - children.ru_utime) + (after.ru_stime - children.ru_stime)
    other = max(0.0, machine_busy_seconds() - busy - cpu)
    log.seek(0)
    output = log.read().decode("utf-8", "replace")
    if process.returncode != 0:
        raise SystemExit(f"{label}: platforma feed zakończył się błędem:\n{output}")
    return Run(label, people, history, seconds, peak / 1024, output.strip(), cpu, other)


def replica_people(path: Path) -> int:
    connection = sqlite3.connect(path)
    try:
        return int(
            connection.execute(
                "SELECT count(*) FROM osoby WHERE generacja = (SELECT generacja FROM stan_repliki)"
            ).fetchone()[0]
        )
    finally:
        connection.close()


def change_one_percent(path: Path) -> int:
    """Change every 100th person at the source, as the domain system would (row and modification time)."""
    stamp = (dt.datetime.now() + dt.timedelta(seconds=1)).strftime("%Y-%m-%d %H:%M:%S.%f")
    connection = sqlite3.connect(path)
    try:
        changed = connection.execute(
            "UPDATE osoba SET nazwisko = nazwisko || '-Zm', data_modyfikacji = ? WHERE id_osoby % 100 = 0", (stamp,)
        ).rowcount
        connection.commit()
    finally:
        connection.close()
    time.sleep(1.1)  # the changes are in the past when the run takes its upper bound
    return int(changed)


class Postgres:
    """A private PostgreSQL server (as tests/postgres/conftest.py), with a feeder's database."""

    def __init__(self) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="bench-pg-", dir="/tmp"))
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0

    def start(self) -> str:
        as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        (self.directory / "run").mkdir()
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres")
            shutil.chown(self.directory / "run", "postgres")
        data = self.directory / "data"
        subprocess.run(
            [*as_postgres, str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync"],
            check=True,
            capture_output=True,
        )
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.process = subprocess.Popen(
            [
                *as_postgres, str(PG_BIN / "postgres"), "-D", str(data), "-p", str(self.port),
                "-k", str(self.directory / "run"), "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off",
                "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        import psycopg

        deadline = time.monotonic() + 30
        while True:
            try:
                with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres", autocommit=True) as c:
                    c.execute("CREATE ROLE zasilacz LOGIN")
                    c.execute("CREATE DATABASE replika_pup OWNER zasilacz")
                break
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        return f"postgresql+psycopg://zasilacz@127.0.0.1:{self.port}/replika_pup"

    def people(self) -> int:
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=replika_pup") as c:
            row = c.execute(
                "SELECT count(*) FROM osoby WHERE generacja = (SELECT generacja FROM stan_repliki)"
            ).fetchone()
        return int(row[0]) if row else 0

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)
        shutil.rmtree(self.directory, ignore_errors=True)


def load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def verdict(ok: bool) -> str:
    return "spełniony" if ok else "NIE spełniony"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=1_000_000, help="osób w dużym zasileniu (domyślnie 1000000)")
    parser.add_argument("--small", type=int, default=100_000, help="osób w małym zasileniu (domyślnie 100000)")
    parser.add_argument("--pg-people", type=int, default=100_000, help="osób w zasileniu PostgreSQL (domyślnie 100000)")
    parser.add_argument("--no-pg", action="store_true", help="pomiń PostgreSQL")
    args = parser.parse_args()
    CACHE.mkdir(parents=True, exist_ok=True)
    free_gb = shutil.disk_usage(CACHE).free / 1e9
    print(f"Maszyna: {platform.machine()}, {os.cpu_count()} CPU, Python {platform.python_version()}, "
          f"SQLite {sqlite3.sqlite_version}; obciążenie (1/5/15 min) {load()}; wolne miejsce na dysku "
          f"{free_gb:.0f} GB", flush=True)  # fmt: skip
    # A replica of a million people takes ~7 GB; on a nearly full disk the file system's allocation slowed
    # every run measured here by about a tenth.
    if free_gb < 3 * 7.5 * args.people / 1_000_000:
        print(f"Uwaga: mało wolnego miejsca na dysku ({free_gb:.0f} GB): wyniki mogą być zaniżone.", flush=True)
    work = Path(tempfile.mkdtemp(prefix="bench-feed-", dir=str(CACHE.parent)))
    failures: list[str] = []
    runs: list[Run] = []
    try:
        for size in dict.fromkeys((args.small, args.people)):
            source = domain_database(size)
            replica = work / f"replika-{size}.sqlite"
            run = feed(f"pełne SQLite→SQLite, {size:,} osób", f"sqlite:///{source}", f"sqlite:///{replica}", "full",
                       size, history_rows(source))  # fmt: skip
            runs.append(run)
            if replica_people(replica) != size:
                failures.append(f"replika {size}: {replica_people(replica)} osób zamiast {size}")
        if not args.no_pg:
            pg = Postgres()
            try:
                url = pg.start()
                source = domain_database(args.pg_people)
                run = feed(f"pełne SQLite→PostgreSQL, {args.pg_people:,} osób", f"sqlite:///{source}", url, "full",
                           args.pg_people, history_rows(source))  # fmt: skip
                runs.append(run)
                if pg.people() != args.pg_people:
                    failures.append(f"replika PostgreSQL: {pg.people()} osób zamiast {args.pg_people}")
            finally:
                pg.stop()
        big = domain_database(args.people)
        changed = change_one_percent(big)
        replica = f"sqlite:///{work / f'replika-{args.people}.sqlite'}"
        label = f"przyrostowe 1 % ({changed:,} zmienionych osób)"
        incremental = feed(label, f"sqlite:///{big}", replica, "incremental", changed, 0)
        if f"przeczytano {changed}," not in incremental.output.replace("\n", " "):
            failures.append(f"przyrostowe: oczekiwano {changed} osób, wynik: {incremental.output}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print()
    print(f"{'zasilenie':48} {'osób':>10} {'czas [s]':>9} {'osób/s':>9} {'wierszy hist./s':>16} "
          f"{'szczyt RSS [MB]':>16} {'CPU [µs/os.]':>13} {'inne CPU [s]':>13}")  # fmt: skip
    for run in runs:
        print(f"{run.label:48} {run.people:>10,} {run.seconds:>9.1f} {run.people_per_s:>9,.0f} "
              f"{run.history_per_s:>16,.0f} {run.peak_rss_mb:>16.0f} {run.cpu_us_per_person:>13,.0f} "
              f"{run.other_cpu_seconds:>13.1f}")  # fmt: skip
    print(f"{incremental.label:48} {incremental.people:>10,} {incremental.seconds:>9.1f} "
          f"{'':>9} {'':>16} {incremental.peak_rss_mb:>16.0f} {incremental.cpu_us_per_person:>13,.0f} "
          f"{incremental.other_cpu_seconds:>13.1f}")  # fmt: skip
    print(f"Obciążenie na końcu (1/5/15 min): {load()}; inne CPU: czas procesora reszty maszyny w trakcie przebiegu "
          f"(z {os.cpu_count()} CPU × czas).")  # fmt: skip
    print()
    sqlite_runs = [r for r in runs if "SQLite→SQLite" in r.label]
    slowest = min(r.people_per_s for r in sqlite_runs)
    rss = max(r.peak_rss_mb for r in runs)
    print(
        f"Cel ≥ {TARGET_RATE:,} osób/s (SQLite→SQLite, najwolniejsze {slowest:,.0f}): {verdict(slowest >= TARGET_RATE)}"
    )
    print(f"Cel szczyt RSS < {TARGET_RSS_MB} MB przy obu rozmiarach (najwyższy {rss:.0f} MB): "
          f"{verdict(rss < TARGET_RSS_MB)}")  # fmt: skip
    print(f"Cel przyrostowe 1 % < {TARGET_INCREMENTAL_S:.0f} s ({incremental.seconds:.1f} s): "
          f"{verdict(incremental.seconds < TARGET_INCREMENTAL_S)}")  # fmt: skip
    for failure in failures:
        print(f"BŁĄD POPRAWNOŚCI: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
