"""bench/query.py imports nothing of the project (a bench module could shadow a package), so the settings
it mirrors are checked here."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from hub.settings import HubSettings

BENCH = Path(__file__).resolve().parents[2] / "bench" / "query.py"


def test_the_echo_ceiling_runs_the_hubs_default_thread_pool() -> None:
    spec = importlib.util.spec_from_file_location("bench_query_settings", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the file executes
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    default = HubSettings.model_fields["threads"].default
    assert module.HUB_THREADS == default == 2
