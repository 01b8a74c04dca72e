"""Benchmark of the audit register (issue 5): the chained register against no register, and `audit verify`.

Part 1 — query throughput, in process, at the level of `hub.domain.query.QueryEngine.ask`, over a small synthetic
powiat (`demo.data.generate` + `replica.writer.Loader`, one SQLite replica per office). The same engine
answers the same queries with three registers, measured in interleaved rounds within one run:

* `chained (NORMAL)`: `audit.sql.SqlDisclosureRegister` as the hub uses it by default — hash chain, a
  checkpoint signed (Ed25519) every 1,000 records, SQLite WAL with `synchronous=NORMAL` (a committed
  append survives a crash of the process);
* `chained (FULL)`: the same with `synchronous=FULL` (each append synced to disk before the answer, so it
  also survives a power loss);
* `off`: a register whose `append` does nothing (record-writing off).

It prints queries/s of each and the ratios chained/off (target above 0.8 for the default, NORMAL); then
the same with two request threads sharing the engine (as the hub runs), where concurrent appends share
one commit (group commit). Each register has a checkpoint key of its own, and so an anchor file of its own,
in a folder apart from the registers.

Part 2 — `audit verify` on 1,000,000 records (disclosures and events, checkpoints every 1,000 records),
run in a fresh process, so its peak memory (ru_maxrss) is its own; it also verifies a 100,000-record
prefix to show that memory does not grow with the number of records. Target: above 200,000 records/s.

Run: `.venv/bin/python bench/audit.py` (about two minutes), or `--quick` for a smoke run. Targets are
reported, never asserted; the exit status is 1 only if a verification fails or a record is missing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from audit.checkpoints import generate_key  # noqa: E402
from audit.records import DisclosureRecord, EventKind, Outcome, SecurityEvent  # noqa: E402
from audit.sql import SqlDisclosureRegister  # noqa: E402
from audit.store import AuditStore, CheckpointPolicy  # noqa: E402

QUERY_TARGET = 0.8
VERIFY_TARGET = 200_000

CONFIG = """
[hub]
name = "Powiat pomiarowy (dane syntetyczne)"
database = "sqlite:///replica.sqlite"
audit_database = "sqlite:///audit.sqlite"

[[offices]]
code = "PUP"
name = "Powiatowy Urząd Pracy (pomiar)"
kind = "PUP"

[[offices]]
code = "OPS"
name = "Ośrodek Pomocy Społecznej (pomiar)"
kind = "OPS"

[[offices]]
code = "SR"
name = "Dział Świadczeń Rodzinnych (pomiar)"
kind = "SR"

[[data_sets]]
code = "PUP"
controller = "PUP"
replica = "sqlite:///pup.sqlite"

[[data_sets]]
code = "OPS"
controller = "OPS"
replica = "sqlite:///ops.sqlite"

[[data_sets]]
code = "SR"
controller = "SR"
replica = "sqlite:///sr.sqlite"

[[groups]]
code = "PRACOWNICY_SOCJALNI"
office = "OPS"
name = "Pracownicy socjalni"

[[legal_bases]]
code = "UPS-2004"
citation = "Ustawa o pomocy społecznej (pomiar)"
data_sets = ["PUP", "OPS", "SR"]

[[rules]]
office = "OPS"
group = "PRACOWNICY_SOCJALNI"
data_set = "PUP"
categories = ["DANE_OSOBOWE", "OKRESY_REJESTRACJI", "POBRANE_ZASILKI"]

[[rules]]
office = "OPS"
group = "PRACOWNICY_SOCJALNI"
data_set = "OPS"
categories = ["DANE_OSOBOWE", "SWIADCZENIA"]

[[rules]]
office = "OPS"
group = "PRACOWNICY_SOCJALNI"
data_set = "SR"
categories = ["DANE_DZIECI", "WYPLACONE_SWIADCZENIA"]
"""

SCOPE = {
    "PUP": ["DANE_OSOBOWE", "OKRESY_REJESTRACJI", "POBRANE_ZASILKI"],
    "OPS": ["DANE_OSOBOWE", "SWIADCZENIA"],
    "SR": ["DANE_DZIECI", "WYPLACONE_SWIADCZENIA"],
}


class NoRegister:
    """Record-writing off: a register whose append does nothing (the baseline)."""

    def append(self, records: Sequence[DisclosureRecord]) -> None:
        return None


def build_powiat(directory: Path, people: int) -> tuple[Path, list[tuple[str, tuple[str, ...]]]]:
    """A synthetic powiat with one SQLite replica per office; returns the config and (PESEL, data sets)."""
    from demo.data import generate
    from hub import settings as config_module
    from hub.soap.contracts import feed_schema
    from replica.writer import Loader

    summary = generate(3, directory / "feeds", pup=people, ops=people // 2, sr=people // 2)
    config_path = directory / "platforma.toml"
    config_path.write_text(CONFIG, encoding="utf-8")
    config = config_module.load(config_path)
    for code, path in summary.files.items():
        data_set = config.data_set(code)
        assert data_set is not None and data_set.replica is not None
        loader = Loader(data_set.replica, code, feed_schema())
        loader.load(path)
        loader.dispose()
    known = sorted(summary.known_to.items())
    return config_path, known


def measure_queries(
    args: argparse.Namespace, directory: Path
) -> tuple[dict[str, float], dict[str, float], dict[str, float], dict[str, int], bool]:
    from contract.identifiers import Identifier
    from hub import settings as config_module
    from hub.domain.policy import Caller
    from hub.domain.query import OK, QueryEngine, QueryRequest

    config_path, known = build_powiat(directory, args.people)
    config = config_module.load(config_path)
    # One key per register: a register's anchors go beside its key, and a file of anchors serves one register.
    keys = {name: directory / "klucze" / f"audyt-{name}.pem" for name in ("normal", "full")}
    for key in keys.values():
        generate_key(key)
    normal = SqlDisclosureRegister(f"sqlite:///{directory / 'audit-normal.sqlite'}", key_file=keys["normal"])
    full = SqlDisclosureRegister(
        f"sqlite:///{directory / 'audit-full.sqlite'}", key_file=keys["full"], synchronous="FULL"
    )
    variants = {"chained (NORMAL)": normal, "chained (FULL)": full, "off": NoRegister()}
    engines = {name: QueryEngine(config, register) for name, register in variants.items()}  # type: ignore[arg-type]
    caller = Caller("ops.pracownik", "OPS", "PRACOWNICY_SOCJALNI")
    # Mostly people known to several offices: a query then writes two or three records.
    chosen = [pesel for pesel, sets in known if len(sets) >= 2] or [pesel for pesel, _ in known]
    requests = [
        QueryRequest(Identifier.build(pesel=pesel), "UPS-2004", "Pomiar wydajności rejestru", SCOPE) for pesel in chosen
    ]
    totals = {name: 0.0 for name in variants}
    cpu = {name: 0.0 for name in variants}
    counts = {name: 0 for name in variants}
    records = {name: 0 for name in variants}
    per_round: dict[str, list[float]] = {name: [] for name in variants}
    for engine in engines.values():  # warm-up: caches, page cache, compiled statements
        for request in requests[:200]:
            engine.ask(caller, request)
    position = 0
    order = list(engines)
    for round_number in range(args.rounds):
        # Short rounds, the order rotated each round: other load on the machine hits every register alike.
        rotated = order[round_number % len(order) :] + order[: round_number % len(order)]
        for name in rotated:
            engine = engines[name]
            batch = [requests[(position + i) % len(requests)] for i in range(args.per_round)]
            started, started_cpu = time.perf_counter(), time.process_time()
            for request in batch:
                answer = engine.ask(caller, request)
                records[name] += sum(1 for r in answer.results if r.status == OK)
            elapsed = time.perf_counter() - started
            totals[name] += elapsed
            cpu[name] += time.process_time() - started_cpu
            counts[name] += len(batch)
            per_round[name].append(len(batch) / elapsed)
        position += args.per_round
    rates = {name: counts[name] / totals[name] for name in variants}
    cpu_rates = {name: counts[name] / cpu[name] for name in variants}
    medians = {
        name: statistics.median(a / b for a, b in zip(per_round[name], per_round["off"], strict=True))
        for name in variants
    }
    if args.threads > 1:
        threaded = measure_threaded(args, {n: engines[n] for n in ("chained (NORMAL)", "off")}, caller, requests)
        rates.update({f"{name}, {args.threads} threads": rate for name, rate in threaded.items()})
    complete = True
    for name in ("chained (NORMAL)", "chained (FULL)"):
        register = variants[name]
        assert isinstance(register, SqlDisclosureRegister)
        stored = sum(1 for _ in register.records())
        warmup_records = stored - records[name]
        complete &= warmup_records >= 0
        from audit.verify import verify

        complete &= verify(register.store).ok
        register.dispose()
    for engine in engines.values():
        engine.close()
    return rates, cpu_rates, medians, records, complete


def measure_threaded(
    args: argparse.Namespace, engines: dict[str, Any], caller: Any, requests: list[Any]
) -> dict[str, float]:
    """Queries/s with `args.threads` request threads sharing one engine (the hub runs two per process), in
    interleaved rounds: concurrent appends share commits (group commit), and a commit's I/O overlaps the
    other thread's work."""
    totals = {name: 0.0 for name in engines}
    counts = {name: 0 for name in engines}
    position = 0
    for round_number in range(max(4, args.rounds // 3)):
        order = list(engines) if round_number % 2 == 0 else list(reversed(engines))
        for name in order:
            batches = [
                [requests[(position + t * args.per_round + i) % len(requests)] for i in range(args.per_round)]
                for t in range(args.threads)
            ]
            start = threading.Barrier(args.threads + 1)

            def work(batch: list[Any], engine: Any = engines[name], start: threading.Barrier = start) -> None:
                start.wait()
                for request in batch:
                    engine.ask(caller, request)

            threads = [threading.Thread(target=work, args=(batch,)) for batch in batches]
            for thread in threads:
                thread.start()
            start.wait()
            started = time.perf_counter()
            for thread in threads:
                thread.join()
            totals[name] += time.perf_counter() - started
            counts[name] += args.threads * args.per_round
        position += args.threads * args.per_round
    return {name: counts[name] / totals[name] for name in engines}


def fill(url: str, key: Path, count: int) -> None:
    """`count` records: batches of 900 disclosures and 100 events, a checkpoint every 1,000 records."""
    store = AuditStore(url, key_file=key, policy=CheckpointPolicy(every_records=1000), synchronous="OFF")
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    written = 0
    while written < count:
        size = min(1000, count - written)
        events = size // 10
        disclosures = [
            DisclosureRecord(
                time=start + dt.timedelta(seconds=written + i),
                request_id=f"pomiar-{written + i:09d}",
                user=f"ops.pracownik{i % 17}",
                office="OPS",
                channel="SOAP",
                identifier=f"PESEL:{80010100000 + (written + i) % 99991:011d}",
                subject_pesel=f"{80010100000 + (written + i) % 99991:011d}",
                data_set=("PUP", "OPS", "SR")[i % 3],
                controller="Powiatowy Urząd Pracy (pomiar)",
                categories=("DANE_OSOBOWE", "OKRESY_REJESTRACJI", "POBRANE_ZASILKI"),
                legal_basis="UPS-2004",
                purpose="Ustalenie sytuacji rodziny w postępowaniu o zasiłek okresowy",
                outcome=Outcome.DISCLOSED,
                digest=f"{written + i:064x}",
            )
            for i in range(size - events)
        ]
        security = [
            SecurityEvent(
                time=start + dt.timedelta(seconds=written + i),
                kind=EventKind.LOGIN,
                user=f"ops.pracownik{i % 17}",
                office="OPS",
                actor=f"ops.pracownik{i % 17}",
                source="192.0.2.1",
                success=True,
            )
            for i in range(events)
        ]
        store.append(disclosures, security)
        written += size
    store.dispose()


CHILD = """
import json, resource, sys, time
sys.path.insert(0, {root!r})
from audit.checkpoints import TrustedKeys
from audit.store import AuditStore
from audit.verify import verify
store = AuditStore({url!r})
keys = TrustedKeys.from_files([{key!r}])
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
report = verify(store, keys, up_to={up_to})
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
hwm = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({{"records": report.records, "checkpoints": report.checkpoints, "seconds": report.seconds,
                   "ok": report.ok, "rss_before_kb": before, "rss_peak_kb": after, "hwm_kb": hwm}}))
"""

# Linux carries a process's ru_maxrss over fork and exec from the process it was forked from: a verifier
# started directly from this (large) benchmark process would report this process's peak. So it is
# started by a small Python launcher, whose own memory is what the verifier inherits.
LAUNCHER = "import subprocess, sys; sys.exit(subprocess.run(sys.argv[1:]).returncode)"


def verify_in_child(url: str, key: Path, up_to: int | None) -> dict[str, float]:
    code = CHILD.format(root=str(ROOT), url=url, key=str(key), up_to=up_to)
    result = subprocess.run(
        [sys.executable, "-c", LAUNCHER, sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    values: dict[str, float] = json.loads(result.stdout.strip().splitlines()[-1])
    return values


def measure_verify(args: argparse.Namespace, directory: Path) -> tuple[dict[str, float], dict[str, float], float]:
    key = directory / "klucz" / "klucz-weryfikacji.pem"
    generate_key(key)
    url = f"sqlite:///{directory / 'audit-verify.sqlite'}"
    started = time.perf_counter()
    fill(url, key, args.records)
    filled = time.perf_counter() - started
    small = verify_in_child(url, key, min(100_000, args.records // 10))
    large = verify_in_child(url, key, None)
    return small, large, filled


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=2000, help="PUP people in the replica (default 2000)")
    parser.add_argument("--rounds", type=int, default=30, help="interleaved rounds per register (default 30)")
    parser.add_argument("--per-round", type=int, default=200, help="queries per register per round (default 200)")
    parser.add_argument(
        "--threads", type=int, default=2, help="request threads of the concurrent measurement (default 2; 1: none)"
    )
    parser.add_argument("--records", type=int, default=1_000_000, help="records for verify (default 1000000)")
    parser.add_argument("--dir", type=Path, help="work folder (default: a temporary one, removed)")
    parser.add_argument("--quick", action="store_true", help="smoke run: small sizes")
    args = parser.parse_args(argv)
    if args.quick:
        args.people, args.rounds, args.per_round, args.records = 300, 6, 50, 50_000
    with tempfile.TemporaryDirectory(prefix="bench-audit-") as temporary:
        directory = (args.dir or Path(temporary)).resolve()
        directory.mkdir(parents=True, exist_ok=True)
        print(
            f"bench/audit.py — {dt.datetime.now().isoformat(timespec='seconds')}, Python {platform.python_version()}, "
            f"{os.cpu_count()} CPU, load average {os.getloadavg()[0]:.2f}"
        )
        print(
            f"\n1. QueryEngine.ask in process: {args.rounds} interleaved rounds x {args.per_round} queries per "
            f"register, replica of {args.people} PUP people (three data sets asked per query)"
        )
        rates, cpu_rates, medians, records, complete = measure_queries(args, directory)
        off = rates["off"]
        for name in ("chained (NORMAL)", "chained (FULL)", "off"):
            rate = rates[name]
            per_query = 1000 / rate
            extra = f"{records[name]} records written" if name != "off" else "nothing written"
            print(
                f"   {name:18s} {rate:8.0f} queries/s  {per_query:6.3f} ms/query  "
                f"(CPU of this process: {cpu_rates[name]:6.0f} queries/CPU-s; {extra})"
            )
        for name in ("chained (NORMAL)", "chained (FULL)"):
            ratio = rates[name] / off
            verdict = "met" if ratio > QUERY_TARGET else "NOT met"
            print(
                f"   ratio {name}/off: {ratio:.3f} overall, {medians[name]:.3f} median of rounds, "
                f"{cpu_rates[name] / cpu_rates['off']:.3f} by CPU time  (target > {QUERY_TARGET}: {verdict})"
            )
        if args.threads > 1:
            chained = rates[f"chained (NORMAL), {args.threads} threads"]
            baseline = rates[f"off, {args.threads} threads"]
            print(
                f"   {args.threads} request threads sharing the engine (the hub's default per process): "
                f"chained (NORMAL) {chained:.0f} queries/s, off {baseline:.0f} queries/s, "
                f"ratio {chained / baseline:.3f} (concurrent appends share commits)"
            )
        print(f"   chains written during the run verify: {'yes' if complete else 'NO'}")

        print(f"\n2. audit verify on {args.records:,} records (fresh process; checkpoints every 1,000 records)")
        small, large, filled = measure_verify(args, directory)
        print(
            f"   writing the records took {filled:.1f} s ({args.records / filled:,.0f} records/s in batches of 1,000)"
        )
        for label, run in (("prefix", small), ("all", large)):
            rate = run["records"] / run["seconds"]
            print(
                f"   {label:6s} {int(run['records']):>10,} records, {int(run['checkpoints']):,} checkpoints in "
                f"{run['seconds']:.2f} s = {rate:,.0f} records/s; ru_maxrss {run['rss_peak_kb'] / 1024:.1f} MiB "
                f"(before verifying {run['rss_before_kb'] / 1024:.1f} MiB; VmHWM {run['hwm_kb'] / 1024:.1f} MiB); "
                f"valid: {'yes' if run['ok'] else 'NO'}"
            )
        rate = large["records"] / large["seconds"]
        growth = (large["rss_peak_kb"] - small["rss_peak_kb"]) / 1024
        print(
            f"   verify speed {rate:,.0f} records/s (target > {VERIFY_TARGET:,}: "
            f"{'met' if rate > VERIFY_TARGET else 'NOT met'}); memory growth from "
            f"{int(small['records']):,} to {int(large['records']):,} records: {growth:+.1f} MiB"
        )
        ok = complete and bool(small["ok"]) and bool(large["ok"]) and int(large["records"]) == args.records
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
