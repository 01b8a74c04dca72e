"""Benchmark of the query service (issue 2): the hub against the bare Spyne-on-Twisted echo ceiling.

One run starts, side by side:

* the demo hub (`platforma demo --port 0`) over a powiat with 100,000 PUP people (and 2,000 OPS,
  3,000 SR); its folder is reused between runs, so the data is generated only once;
* `bench/echo_server.py`: the same stack (Spyne SOAP 1.1 with lxml validation, `WsgiApplication`,
  `twisted.web.wsgi.WSGIResource`, a thread pool of the hub's default size) answering an envelope of
  the hub's request size with an envelope of the hub's answer size, and doing nothing else.

Debian's `wrk` posts one prepared envelope (`bench/wrk_post.lua`) at concurrency 1 and 8, after a
warm-up, against each. The script prints queries/s and p50/p99 latency, the ratio hub/echo, the CPU
used by each server and by wrk (to show the load generator is not the bottleneck), and the hub's peak
RSS (VmHWM). It checks that every answer was HTTP 200 with Status OK and that the disclosure register
(`rejestr_ujawnien` in DIR/audyt/audit.sqlite) holds a DISCLOSED record for the request id of every answer.

Run: `.venv/bin/python bench/query.py` (default 10 s per point), or `--quick` for a smoke run.
The performance target (hub at least half of the echo ceiling) is reported, never asserted; the exit
status is 1 only when a correctness check fails (a non-200 or non-OK answer, a missing record).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import platform
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from lxml import etree

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
LUA = BENCH / "wrk_post.lua"
ECHO = BENCH / "echo_server.py"
OUT = BENCH / "out"

LOGIN = "pup.kierownik"
LEGAL_BASIS = "URPSZ-2025"
PURPOSE = "Ustalenie statusu osoby bezrobotnej (pomiar wydajności)"
CATEGORIES = ("DANE_OSOBOWE", "OKRESY_REJESTRACJI", "POBRANE_ZASILKI")
EXPECT_OK = "Status>OK</"
ID_PATTERN = "IdentyfikatorZapytania>([^<]+)<"
TARGET_RATIO = 0.5
# `audit.records.Outcome.DISCLOSED`, spelled out: this script imports nothing of the project (a module in
# bench/, first on sys.path when a bench script runs, may shadow a package name).
DISCLOSED = "UJAWNIENIE"
# `hub.settings.HubSettings.threads`, spelled out for the same reason (tests/unit/test_bench_settings.py).
HUB_THREADS = 2

# The shape of tests/fixtures/xml/soap/valid_query.xml, with three PUP categories.
QUERY_TEMPLATE = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" '
    'xmlns:z="urn:pl:platforma-komunikacyjna:zapytania:1"><soap:Header>'
    '<wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd">'
    "<wsse:UsernameToken><wsse:Username>{login}</wsse:Username><wsse:Password>{password}</wsse:Password>"
    "</wsse:UsernameToken></wsse:Security></soap:Header><soap:Body><z:ZapytanieOBeneficjenta><z:Zapytanie>"
    "<z:IdentyfikatorBeneficjenta><z:Pesel>{pesel}</z:Pesel></z:IdentyfikatorBeneficjenta>"
    "<z:PodstawaPrawna>{basis}</z:PodstawaPrawna><z:Cel>{purpose}</z:Cel><z:Zbiory><z:Zbior><z:Kod>PUP</z:Kod>"
    "<z:Zakres>{categories}</z:Zakres></z:Zbior></z:Zbiory></z:Zapytanie></z:ZapytanieOBeneficjenta>"
    "</soap:Body></soap:Envelope>"
)
ECHO_TEMPLATE = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" '
    'xmlns:e="urn:pl:platforma-komunikacyjna:bench:echo:1"><soap:Body><e:Echo><e:Size>{size}</e:Size>'
    "<e:Padding>{padding}</e:Padding></e:Echo></soap:Body></soap:Envelope>"
)


class BenchError(Exception):
    """A setup failure with a message for the user (no traceback)."""


# -- processes ----------------------------------------------------------------------------------------------------
@dataclass
class Server:
    """A server process started by this script, and where to post."""

    name: str
    process: subprocess.Popen[bytes]
    endpoint: str = ""
    log: Path | None = None

    @property
    def pid(self) -> int:
        return self.process.pid


def stop(server: Server) -> None:
    """Terminate one server we started (SIGTERM, then SIGKILL after 15 s)."""
    if server.process.poll() is not None:
        return
    server.process.send_signal(signal.SIGTERM)
    try:
        server.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait(timeout=5)


@contextmanager
def running(server: Server) -> Iterator[Server]:
    """Stop the server when the block ends, also on error or Ctrl+C."""
    try:
        yield server
    finally:
        stop(server)


def log_tail(path: Path | None, lines: int = 30) -> str:
    """The last lines of a log file (for error messages)."""
    if path is None or not path.exists():
        return ""
    return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])


def start_hub(directory: Path, sizes: tuple[int, int, int], workers: int = 1, gminas: int = 1) -> Server:
    """Start `platforma demo --port 0` in DIR (after removing the previous run's demo.json); one gmina unless
    told (the query measurements ask the first gmina's units; `--by-kind` asks twenty)."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "demo.json").unlink(missing_ok=True)  # a previous run's file names a stale port
    if not (directory / "demo-state.json").exists():
        print(f"Generating the demo powiat in {directory} (once; {sizes[0]:,} PUP people take a few minutes)…")
    command = [
        *_platforma(), "demo", "--dir", str(directory), "--port", "0",
        "--pup", str(sizes[0]), "--ops", str(sizes[1]), "--sr", str(sizes[2]), "--workers", str(workers),
        "--gminas", str(gminas),
    ]  # fmt: skip
    log = directory / "hub.log"
    env = dict(os.environ, COLUMNS="200", PYTHONUNBUFFERED="1")
    with log.open("wb") as handle:
        process = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
    return Server("hub", process, log=log)


def wait_for_hub(hub: Server, directory: Path, timeout: float) -> dict[str, Any]:
    """Wait until the hub has written demo.json (it does so once listening); set its endpoint."""
    demo_json = directory / "demo.json"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if hub.process.poll() is not None:
            raise BenchError(
                f"the hub exited with status {hub.process.returncode}:\n{log_tail(hub.log)}\n"
                "(a demo folder made by an older version of the hub? run again with --fresh)"
            )
        if demo_json.exists():
            try:
                demo: dict[str, Any] = json.loads(demo_json.read_text(encoding="utf-8"))
            except json.JSONDecodeError:
                time.sleep(0.1)
                continue
            hub.endpoint = str(demo["wsdl"]["zapytania"]).removesuffix("?wsdl")
            return demo
        time.sleep(0.2)
    raise BenchError(f"the hub did not start in {timeout:.0f} s:\n{log_tail(hub.log)}")


def loaded_sizes(directory: Path) -> dict[str, int]:
    """How many people the demo folder's replicas were loaded with (from its demo-state.json)."""
    state = json.loads((directory / "demo-state.json").read_text(encoding="utf-8"))
    return {str(k): int(v) for k, v in dict(state.get("loaded", {})).items()}


def _platforma() -> list[str]:
    """The `platforma` command of this interpreter's environment (or the module, if not installed)."""
    script = Path(sys.executable).with_name("platforma")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "hub.cli"]


def start_echo(threads: int, work: Path) -> Server:
    """Start bench/echo_server.py (127.0.0.1, port 0)."""
    log = work / "echo.log"
    with log.open("wb") as handle:
        process = subprocess.Popen(
            [sys.executable, str(ECHO), "--threads", str(threads)], stdout=subprocess.PIPE, stderr=handle
        )
    return Server("echo", process, log=log)


def wait_for_echo(echo: Server) -> None:
    """Read the port the echo server prints once listening; set its endpoint."""
    assert echo.process.stdout is not None
    line = echo.process.stdout.readline().decode().strip()
    if not line.isdigit():
        raise BenchError(f"the echo server did not print its port:\n{line}\n{log_tail(echo.log)}")
    echo.endpoint = f"http://127.0.0.1:{line}/soap/echo"


# -- wrk ----------------------------------------------------------------------------------------------------------
def locate_wrk(install: bool) -> str:
    """The `wrk` binary; as root, install Debian's `wrk` package when it is missing."""
    found = shutil.which("wrk")
    if found:
        return found
    if install and hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        print("wrk not found: installing Debian's `wrk` package (apt-get install -y wrk)…", flush=True)
        if _apt("install", "-y", "-q", "wrk") != 0:
            _apt("update", "-q")
            _apt("install", "-y", "-q", "wrk")
        found = shutil.which("wrk")
        if found:
            return found
    raise BenchError(
        "the load generator `wrk` is not installed: install Debian's `wrk` package "
        "(as root: apt-get install -y wrk), then run again."
    )


def _apt(*arguments: str) -> int:
    """Run apt-get non-interactively; its return code."""
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    return subprocess.run(["apt-get", *arguments], stdout=subprocess.DEVNULL, env=env, check=False).returncode


@dataclass
class Point:
    """One measured run of wrk against one server at one concurrency."""

    server: str
    concurrency: int
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    mean_ms: float
    non200: int
    not_ok: int
    no_id: int
    socket_errors: int
    statuses: str
    server_cpu: float  # share of one core used by the server process
    server_cpu_seconds: float
    wrk_cpu: float  # share of one core used by wrk
    other_cpu: float  # share of one core used by every other process on the machine
    ids: list[str] = field(default_factory=list)

    @property
    def qps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def cpu_ms_per_query(self) -> float:
        """Server CPU time per answer (includes the few in flight at the end; a fair approximation)."""
        return self.server_cpu_seconds * 1000 / self.requests if self.requests else float("nan")

    @property
    def good(self) -> int:
        return self.requests - self.non200 - self.not_ok


def process_tree(pid: int) -> list[int]:
    """The process and its live descendants (the hub's worker processes, with --hub-workers)."""
    pids, queue = [], [pid]
    while queue:
        current = queue.pop()
        pids.append(current)
        try:
            for task in Path(f"/proc/{current}/task").iterdir():
                queue.extend(int(c) for c in (task / "children").read_text().split())
        except OSError:
            continue
    return pids


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its live descendants so far (from /proc/<pid>/stat)."""
    total = 0.0
    for member in process_tree(pid):
        try:
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def machine_busy_seconds() -> float:
    """CPU seconds all processors spent busy so far (from /proc/stat; 0 where there is none)."""
    stat = Path("/proc/stat")
    if not stat.exists():
        return 0.0
    ticks = [int(x) for x in stat.read_text().split("\n", 1)[0].split()[1:]]
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)  # idle + iowait
    return (sum(ticks[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def busy_now(seconds: float = 1.0) -> float:
    """Share of one core the whole machine used over the next `seconds` (before we start anything)."""
    before = machine_busy_seconds()
    time.sleep(seconds)
    return (machine_busy_seconds() - before) / seconds


def children_cpu() -> float:
    """User + system CPU time of the waited-for children (here: the finished wrk runs)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_wrk(
    wrk: str, server: Server, body: Path, concurrency: int, seconds: int, threads: int, work: Path,
    *, expect: str = "", collect_ids: bool = False,
) -> Point:  # fmt: skip
    """One wrk run; parse the `WRK_RESULT` line of bench/wrk_post.lua."""
    prefix = work / f"ids-{server.name}-c{concurrency}-{time.monotonic_ns()}"
    env = dict(
        os.environ,
        WRK_BODY_FILE=str(body),
        WRK_SOAPACTION='""',
        WRK_EXPECT=expect,
        WRK_ID_PATTERN=ID_PATTERN if collect_ids else "",
        WRK_IDS_PREFIX=str(prefix) if collect_ids else "",
    )
    command = [
        wrk, "-t", str(max(1, min(threads, concurrency))), "-c", str(concurrency), "-d", f"{seconds}s",
        "--timeout", "30s", "-s", str(LUA), server.endpoint,
    ]  # fmt: skip
    machine_before = machine_busy_seconds()
    server_before, wrk_before, started = cpu_seconds(server.pid), children_cpu(), time.monotonic()
    completed = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    wall = time.monotonic() - started
    server_used, wrk_used = cpu_seconds(server.pid) - server_before, children_cpu() - wrk_before
    other_used = machine_busy_seconds() - machine_before - server_used - wrk_used
    line = next((x for x in completed.stdout.splitlines() if x.startswith("WRK_RESULT ")), None)
    if completed.returncode != 0 or line is None:
        raise BenchError(f"wrk failed ({completed.returncode}):\n{completed.stdout}\n{completed.stderr}")
    result = json.loads(line.removeprefix("WRK_RESULT "))
    ids: list[str] = []
    for part in sorted(work.glob(prefix.name + ".*")):
        ids.extend(x for x in part.read_text().split() if x)
        part.unlink()
    latency = result["latency_us"]
    return Point(
        server=server.name,
        concurrency=concurrency,
        requests=int(result["requests"]),
        seconds=result["duration_us"] / 1e6,
        p50_ms=latency["p50"] / 1000,
        p99_ms=latency["p99"] / 1000,
        mean_ms=latency["mean"] / 1000,
        non200=int(result["non200"]),
        not_ok=int(result["not_ok"]),
        no_id=int(result["no_id"]),
        socket_errors=sum(int(v) for k, v in result["errors"].items() if k != "status"),
        statuses=str(result["statuses"]).strip(),
        server_cpu=server_used / wall,
        server_cpu_seconds=server_used,
        wrk_cpu=wrk_used / wall,
        other_cpu=max(0.0, other_used / wall),
        ids=ids,
    )


# -- requests -----------------------------------------------------------------------------------------------------
def post(endpoint: str, body: bytes) -> tuple[int, bytes]:
    """One POST of a SOAP 1.1 envelope (for calibration); the status and the body."""
    if not endpoint.startswith("http://127.0.0.1:"):
        raise BenchError(f"not a loopback endpoint: {endpoint}")
    headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'}
    request = urllib.request.Request(endpoint, data=body, method="POST", headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - our own loopback server
            return int(response.status), response.read()
    except urllib.error.HTTPError as error:
        return int(error.code), error.read()


def hub_query(demo: dict[str, Any]) -> tuple[bytes, str]:
    """The benchmark envelope (pup.kierownik asks PUP about a person PUP knows) and the PESEL used."""
    user = next((u for u in demo["users"] if u["login"] == LOGIN), None)
    if user is None:
        raise BenchError(f"demo.json has no user {LOGIN}")
    person = next((b for b in demo["beneficiaries"] if "PUP" in b["data_sets"]), None)
    if person is None:
        raise BenchError("demo.json names no beneficiary known to PUP")
    envelope = QUERY_TEMPLATE.format(
        login=escape(LOGIN),
        password=escape(user["password"]),
        pesel=escape(person["pesel"]),
        basis=LEGAL_BASIS,
        purpose=escape(PURPOSE),
        categories="".join(f"<z:Kategoria>{c}</z:Kategoria>" for c in CATEGORIES),
    )
    return envelope.encode("utf-8"), str(person["pesel"])


def echo_envelope(size: int, request_bytes: int) -> bytes:
    """An echo request asking for `size` characters, padded to `request_bytes` bytes."""
    bare = len(ECHO_TEMPLATE.format(size=size, padding="").encode())
    if bare > request_bytes:
        raise BenchError(f"the echo envelope ({bare} B) is larger than the hub's query ({request_bytes} B)")
    return ECHO_TEMPLATE.format(size=size, padding="p" * (request_bytes - bare)).encode()


def calibrate_echo(echo: Server, request_bytes: int, answer_bytes: int) -> bytes:
    """The echo request whose answer has exactly `answer_bytes` bytes (and itself `request_bytes`)."""
    status, empty = post(echo.endpoint, echo_envelope(0, request_bytes))
    if status != 200:
        raise BenchError(f"the echo server answered {status}:\n{empty[:500]!r}")
    size = answer_bytes - len(empty)
    body = echo_envelope(size, request_bytes)
    status, answer = post(echo.endpoint, body)
    if status != 200 or len(answer) != answer_bytes:
        raise BenchError(f"echo calibration failed: status {status}, {len(answer)} B instead of {answer_bytes} B")
    return body


# -- the register ---------------------------------------------------------------------------------------------------
def register_rows(audit: Path) -> int:
    """Rows of `rejestr_ujawnien` (read-only connection; the hub keeps writing in WAL mode)."""
    with sqlite3.connect(f"file:{audit}?mode=ro", uri=True, timeout=30) as connection:
        return int(connection.execute("SELECT count(*) FROM rejestr_ujawnien").fetchone()[0])


def recorded_ids(audit: Path, ids: Sequence[str]) -> dict[str, int]:
    """How many disclosure records of data set PUP each of these request ids has (absent: none)."""
    found: dict[str, int] = {}
    with sqlite3.connect(f"file:{audit}?mode=ro", uri=True, timeout=30) as connection:
        for start in range(0, len(ids), 500):
            chunk = list(ids[start : start + 500])
            marks = ",".join("?" * len(chunk))
            rows = connection.execute(
                "SELECT id_zapytania, count(*) FROM rejestr_ujawnien WHERE zbior = 'PUP' AND wynik = ? "  # noqa: S608
                f"AND id_zapytania IN ({marks}) GROUP BY id_zapytania",
                [DISCLOSED, *chunk],
            )
            found.update((row[0], int(row[1])) for row in rows)
    return found


def vm_hwm(pid: int) -> str:
    """VmHWM (peak resident set size) of a process, as the kernel prints it; with workers, each and the sum."""
    peaks = []
    for member in process_tree(pid):
        try:
            lines = Path(f"/proc/{member}/status").read_text().splitlines()
        except OSError:
            continue
        peaks.extend(int(line.split()[1]) / 1024 for line in lines if line.startswith("VmHWM:"))
    if not peaks:
        return "unknown"
    if len(peaks) == 1:
        return f"{peaks[0]:.1f} MiB"
    return f"{max(peaks):.1f} MiB per process at most, {sum(peaks):.1f} MiB over {len(peaks)} processes"


# -- report ---------------------------------------------------------------------------------------------------------
def machine() -> list[str]:
    """nproc, CPU model, memory, Python and the stack's versions, wrk's version."""
    model = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    nproc = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kib = int(meminfo.read_text().split()[1])
        memory = f", {kib / 1024 / 1024:.1f} GiB RAM"
    versions = []
    for package in ("spyne", "Twisted", "lxml", "SQLAlchemy"):
        try:
            versions.append(f"{package} {metadata.version(package)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{package} ?")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return [
        f"Machine: nproc {nproc}, {model}{memory}; load average (1 min) {load:.2f}",
        f"Python {platform.python_version()} ({platform.system()} {platform.release()}); " + ", ".join(versions),
    ]


def tree() -> str:
    """The commit measured and the working tree's changes (the hub runs from the working tree)."""
    try:
        head = subprocess.run(
            ["git", "-C", str(ROOT), "log", "-1", "--format=%h %s"], capture_output=True, text=True, check=True
        ).stdout.strip()
        status = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain"], capture_output=True, text=True, check=True
        ).stdout.splitlines()
    except (OSError, subprocess.CalledProcessError):
        return "not a git checkout"
    modified = [line[3:] for line in status if not line.startswith("??")]
    untracked = [line[3:] for line in status if line.startswith("??")]
    text = head if len(head) <= 80 else head[:79] + "…"
    if modified:
        names = ", ".join(modified[:4]) + (", …" if len(modified) > 4 else "")
        text += f"; {len(modified)} modified ({names})"
    if untracked:
        text += f"; {len(untracked)} untracked"
    return text


def print_results(points: dict[tuple[str, int], Point], concurrencies: Sequence[int]) -> list[float]:
    """The table of absolute figures and ratios; return hub/echo throughput ratios per concurrency."""
    head = (
        f"{'conc':>4}  {'server':<6} {'queries/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'mean ms':>8} "
        f"{'answers':>8} {'non-200':>8} {'not OK':>7} {'server CPU':>10} {'CPU ms/q':>8} {'wrk CPU':>8} "
        f"{'other CPU':>9}"
    )
    print(head)
    print("-" * len(head))
    ratios = []
    for c in concurrencies:
        for name in ("hub", "echo"):
            p = points[(name, c)]
            print(
                f"{c:>4}  {name:<6} {p.qps:>10.1f} {p.p50_ms:>8.2f} {p.p99_ms:>8.2f} {p.mean_ms:>8.2f} "
                f"{p.requests:>8} {p.non200:>8} {p.not_ok if name == 'hub' else '-':>7} "
                f"{p.server_cpu:>9.0%} {p.cpu_ms_per_query:>9.2f} {p.wrk_cpu:>8.0%} {p.other_cpu:>9.0%}"
            )
        hub, echo = points[("hub", c)], points[("echo", c)]
        ratio = hub.qps / echo.qps if echo.qps else float("nan")
        ratios.append(ratio)
        print(
            f"{c:>4}  {'hub/echo':<6} {ratio:>10.2f} {hub.p50_ms / echo.p50_ms:>8.2f} "
            f"{hub.p99_ms / echo.p99_ms:>8.2f} {hub.mean_ms / echo.mean_ms:>8.2f} {'':>8} {'':>8} {'':>7} "
            f"{'':>10} {hub.cpu_ms_per_query / echo.cpu_ms_per_query:>9.2f}"
        )
        print()
    return ratios


# -- main -----------------------------------------------------------------------------------------------------------
def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Query throughput of the hub (100k PUP people) against the bare Spyne-on-Twisted ceiling."
    )
    parser.add_argument(
        "--dir", type=Path, help="demo folder, reused between runs (default bench/out/demo-pup<N>-ops<N>-sr<N>)"
    )
    parser.add_argument("--pup", type=int, default=100_000, help="PUP people (default 100000)")
    parser.add_argument("--ops", type=int, default=2000, help="OPS people (default 2000)")
    parser.add_argument("--sr", type=int, default=3000, help="SR people (default 3000)")
    parser.add_argument("--duration", type=int, default=10, help="seconds measured per point (default 10)")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of warm-up before each point (default 3)")
    parser.add_argument("--concurrency", default="1,8", help="comma-separated connection counts (default 1,8)")
    parser.add_argument("--wrk-threads", type=int, default=1, help="wrk threads (default 1; at most the concurrency)")
    parser.add_argument(
        "--echo-threads",
        type=int,
        default=HUB_THREADS,
        help=f"echo thread pool (default {HUB_THREADS}, the hub's default [hub] threads)",
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: 2 s per point, 1 s warm-up")
    parser.add_argument(
        "--hub-workers",
        type=int,
        default=os.cpu_count() or 1,
        help="hub worker processes on one socket (default: one per CPU, as docs/operations.md advises; the echo "
        "is one process)",
    )
    parser.add_argument(
        "--generate-timeout", type=int, default=3600, help="seconds allowed to generate a new demo (default 3600)"
    )
    parser.add_argument(
        "--fresh", action="store_true", help="delete DIR first and generate the demo again (after a schema change)"
    )
    parser.add_argument("--no-install", action="store_true", help="never call apt-get to install wrk")
    parser.add_argument(
        "--by-kind",
        action="store_true",
        help="instead: a query by kind over the OPS units of a 20-gmina powiat against the same person asked of "
        "one unit (issue 16; target: at least 0.25 of the one-unit rate)",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.duration, args.warmup = 2, 1
    if args.dir is None:
        args.dir = OUT / f"demo-pup{args.pup}-ops{args.ops}-sr{args.sr}"
    args.concurrency = [int(x) for x in str(args.concurrency).split(",") if x.strip()]
    if not args.concurrency or min(args.concurrency) < 1 or args.duration < 1 or args.warmup < 0:
        parser.error("concurrency must be positive integers, duration at least 1 s, warm-up at least 0 s")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; print the report. Exit 1 if a correctness check fails, 2 on setup errors."""
    args = parse_args(argv)
    try:
        return bench_by_kind(args) if args.by_kind else bench(args)
    except BenchError as error:
        print(f"bench/query.py: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def bench(args: argparse.Namespace) -> int:
    """Start both servers, calibrate, measure, check the register, print; stop the servers."""
    wrk = locate_wrk(install=not args.no_install)
    wrk_version = subprocess.run([wrk, "-v"], capture_output=True, text=True, check=False).stdout.split("\n")[0]
    header = machine()
    busy_before = busy_now()
    directory: Path = args.dir.resolve()
    if args.fresh and directory.exists():
        if not (directory / "demo-state.json").exists() and any(directory.iterdir()):
            raise BenchError(f"--fresh: {directory} is not a demo folder (no demo-state.json); not deleting it")
        shutil.rmtree(directory)
    points: dict[tuple[str, int], Point] = {}
    with ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-query-")))
        fresh = not (directory / "demo-state.json").exists()
        hub = stack.enter_context(running(start_hub(directory, (args.pup, args.ops, args.sr), args.hub_workers)))
        echo = stack.enter_context(running(start_echo(args.echo_threads, work)))
        wait_for_echo(echo)
        demo = wait_for_hub(hub, directory, args.generate_timeout if fresh else 300)
        audit = Path(demo["audit_database"])  # DIR/audyt/audit.sqlite (DIR/audit.sqlite in an older demo)
        loaded = loaded_sizes(directory)
        if loaded != {"PUP": args.pup, "OPS": args.ops, "SR": args.sr}:
            raise BenchError(
                f"{directory} holds a demo of other sizes ({loaded}); give another --dir, or --fresh to regenerate it"
            )

        query, pesel = hub_query(demo)
        rows_before = register_rows(audit)
        status, answer = post(hub.endpoint, query)
        if status != 200 or EXPECT_OK.encode() not in answer:
            raise BenchError(f"the hub's answer to the benchmark query is not 200/OK ({status}):\n{answer[:800]!r}")
        sent_ok = 1  # answers received outside wrk (calibration)
        echo_body = calibrate_echo(echo, len(query), len(answer))
        hub_file, echo_file = work / "hub-query.xml", work / "echo-query.xml"
        hub_file.write_bytes(query)
        echo_file.write_bytes(echo_body)

        warmups: list[Point] = []
        for c in args.concurrency:
            for server, body in ((hub, hub_file), (echo, echo_file)):
                is_hub = server is hub
                expect = EXPECT_OK if is_hub else ""
                if args.warmup:
                    warmups.append(
                        run_wrk(
                            wrk, server, body, c, args.warmup, args.wrk_threads, work, expect=expect, collect_ids=is_hub
                        )
                    )
                print(f"  measuring {server.name} at concurrency {c} for {args.duration} s…", flush=True)
                points[(server.name, c)] = run_wrk(
                    wrk, server, body, c, args.duration, args.wrk_threads, work, expect=expect, collect_ids=is_hub
                )

        time.sleep(1.0)  # requests wrk left in flight when it stopped finish in the hub
        rows_after = register_rows(audit)
        peak_hub, peak_echo = vm_hwm(hub.pid), vm_hwm(echo.pid)
        hub_runs = [p for p in [*warmups, *points.values()] if p.server == "hub"]
        answers_ok = sent_ok + sum(p.good for p in hub_runs)
        ids = [i for p in hub_runs for i in p.ids]
        found = recorded_ids(audit, ids)
        in_flight_bound = sum(p.concurrency for p in hub_runs)
    # both servers are stopped here

    print()
    print("=" * 100)
    print("bench/query.py — ZapytanieOBeneficjenta (PUP only) on the hub vs. the bare Spyne/Twisted echo ceiling")
    print("=" * 100)
    for line in header:
        print(line)
    print(f"Tree: {tree()}")
    print(
        f"Other work on the machine: {busy_before:.0%} of one core busy in the second before the run; "
        "during each point see `other CPU`"
    )
    print(f"Load generator: {wrk_version} (Lua: bench/wrk_post.lua), {args.wrk_threads} thread(s), keep-alive")
    print(
        f"Hub: platforma demo --dir {directory.relative_to(ROOT) if directory.is_relative_to(ROOT) else directory} "
        f"--port 0 --pup {args.pup} --ops {args.ops} --sr {args.sr} --workers {args.hub_workers} "
        f"(pid {hub.pid}); replicas loaded with "
        f"{', '.join(f'{k} {v:,}' for k, v in loaded.items())} people"
    )
    print(
        f"Query: {LOGIN}, {LEGAL_BASIS}, PUP [{', '.join(CATEGORIES)}], PESEL {pesel}; "
        f"request {len(query)} B, answer {len(answer)} B (the echo's: {len(echo_body)} B → {len(answer)} B)"
    )
    print(f"Each point: {args.warmup} s warm-up, then {args.duration} s measured; latency = wrk's, per request")
    print()
    ratios = print_results(points, args.concurrency)

    non200 = sum(p.non200 for p in points.values()) + sum(p.non200 for p in warmups)
    not_ok = sum(p.not_ok + p.no_id for p in hub_runs)
    socket_errors = sum(p.socket_errors for p in [*points.values(), *warmups])
    statuses = sorted({s for p in [*points.values(), *warmups] for s in p.statuses.split() if s})
    unique = set(ids)
    missing = len(unique - found.keys())
    duplicated = sum(1 for count in found.values() if count != 1)
    added = rows_after - rows_before
    print(f"Hub peak RSS (VmHWM): {peak_hub}   (echo server: {peak_echo})")
    print(
        f"HTTP: non-200 answers {non200}{' (' + ', '.join(statuses) + ')' if statuses else ''}; "
        f"hub answers 200 without Status OK or request id {not_ok}; socket errors {socket_errors}"
    )
    print(
        f"Disclosure register ({audit.name}, rejestr_ujawnien): {rows_before} rows before, {rows_after} after "
        f"(+{added}); hub answers 200/OK (warm-up included) {answers_ok}"
    )
    print(
        f"  request ids in the answers wrk received: {len(ids)} ({len(unique)} distinct); with exactly one "
        f"PUP disclosure record ({DISCLOSED}): {len(unique) - missing - duplicated}; "
        f"missing: {missing}; more than one: {duplicated}"
    )
    extra = added - answers_ok
    print(
        f"  rows beyond the answers received: {extra} (queries still in flight when wrk stopped: the hub "
        f"answered them after wrk hung up; at most {in_flight_bound})"
    )
    recorded_all = (
        missing == 0
        and duplicated == 0
        and len(unique) == len(ids)
        and len(ids) + sent_ok == answers_ok
        and 0 <= extra <= in_flight_bound
    )
    clean = non200 == 0 and not_ok == 0 and socket_errors == 0
    fast = all(r >= TARGET_RATIO for r in ratios)
    print()
    print(
        "Target (issue 2): hub throughput ≥ 50 % of the echo ceiling at every concurrency, "
        "a disclosure record for every answer."
    )
    print(
        "  throughput: "
        + ", ".join(f"c={c}: {r:.0%}" for c, r in zip(args.concurrency, ratios, strict=True))
        + f" of the echo → {'met' if fast else 'NOT met'}"
    )
    print(f"  every answer 200 with Status OK: {'yes' if clean else 'NO'}")
    print(f"  disclosure record for every answer: {'yes' if recorded_all else 'NO'}")
    print(f"  => target {'MET' if fast and clean and recorded_all else 'NOT MET'}")
    return 0 if clean and recorded_all else 1



# -- a query by kind over the units of a powiat (issue 16) ------------------------------------------------------
GMINAS = 20


def by_kind_envelope(demo: dict[str, Any], pesel: str, zbior: str) -> bytes:
    """pup.kierownik asks about `pesel` with one `Zbior` (`<z:Kod>OPS</z:Kod>` or `<z:Rodzaj>OPS</z:Rodzaj>`)."""
    user = next(u for u in demo["users"] if u["login"] == LOGIN)
    categories = "<z:Kategoria>DANE_OSOBOWE</z:Kategoria><z:Kategoria>SWIADCZENIA</z:Kategoria>"
    envelope = QUERY_TEMPLATE.format(
        login=escape(LOGIN),
        password=escape(user["password"]),
        pesel=escape(pesel),
        basis=LEGAL_BASIS,
        purpose=escape(PURPOSE),
        categories=categories,
    ).replace("<z:Kod>PUP</z:Kod>", "" if "Rodzaj" in zbior else zbior)
    if "Rodzaj" in zbior:
        envelope = envelope.replace("</z:Zakres></z:Zbior>", "</z:Zakres>" + zbior + "</z:Zbior>")
    return envelope.encode("utf-8")


def closed_loop(endpoint: str, body: bytes, seconds: float, connections: int) -> tuple[float, bytes]:
    """Queries per second of `connections` clients each posting `body` in a loop for `seconds`; one answer."""
    deadline = time.monotonic() + seconds

    def client() -> tuple[int, bytes]:
        done, answer = 0, b""
        while time.monotonic() < deadline:
            status, answer = post(endpoint, body)
            if status != 200:
                raise BenchError(f"the hub answered {status}: {answer[:300]!r}")
            done += 1
        return done, answer

    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(connections) as pool:
        results = list(pool.map(lambda _n: client(), range(connections)))
    return sum(n for n, _a in results) / (time.monotonic() - started), results[0][1]


def bench_by_kind(args: argparse.Namespace) -> int:
    """A query by kind (every OPS unit of a 20-gmina powiat, the person known to two of them) against the
    same person asked of one unit (`Kod` OPS), side by side on one hub; prints both rates and their ratio."""
    directory: Path = (OUT / f"demo-gminas{GMINAS}-ops{args.ops}").resolve()
    if args.fresh and directory.exists():
        shutil.rmtree(directory)
    sizes = (min(args.pup, 2000), args.ops, args.sr)
    with running(start_hub(directory, sizes, args.hub_workers, gminas=GMINAS)) as hub:
        demo = wait_for_hub(hub, directory, args.generate_timeout)
        moved = demo.get("moved") or []
        if not moved:
            raise BenchError("demo.json names no person who moved between gminas (a demo made before issue 16?)")
        pesel = str(moved[0]["pesel"])
        one = by_kind_envelope(demo, pesel, "<z:Kod>OPS</z:Kod>")
        kind = by_kind_envelope(demo, pesel, "<z:Rodzaj>OPS</z:Rodzaj>")
        q = "{urn:pl:platforma-komunikacyjna:zapytania:1}"
        rates: dict[str, float] = {}
        for name, body, units in (("one unit (Kod OPS)", one, 1), (f"by kind ({GMINAS} OPS units)", kind, GMINAS)):
            if args.warmup:
                closed_loop(hub.endpoint, body, args.warmup, args.concurrency[0])
            rate, answer = closed_loop(hub.endpoint, body, args.duration, args.concurrency[0])
            results = etree.fromstring(answer).findall(f".//{q}Wynik")
            ok = sum(1 for r in results if r.findtext(f"{q}Status") == "OK")
            if len(results) != units or ok < 1:
                print(f"FAIL: {name}: {len(results)} results, {ok} OK (expected {units})")
                return 1
            rates[name] = rate
            print(f"{name:<28} {rate:8.1f} queries/s  ({len(results)} results, {ok} OK per answer)")
        ratio = rates[f"by kind ({GMINAS} OPS units)"] / rates["one unit (Kod OPS)"]
        print(f"ratio by kind / one unit: {ratio:.2f} (target >= 0.25; connections: {args.concurrency[0]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
