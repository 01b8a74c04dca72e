"""The `platforma` command line: each command module's commands are declared where the parser looks them
up, and a command imports only its own module."""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys

import pytest

from hub.cli import COMMAND_MODULES, build_parser


@pytest.mark.parametrize("module_name", sorted(COMMAND_MODULES))
def test_each_module_adds_exactly_the_commands_declared_for_it(module_name: str) -> None:
    commands = argparse.ArgumentParser().add_subparsers()
    importlib.import_module(module_name).register(commands)
    assert sorted(commands.choices) == sorted(COMMAND_MODULES[module_name])


def test_help_lists_every_command_of_every_module() -> None:
    text = build_parser(["--help"]).format_help()
    for names in COMMAND_MODULES.values():
        for name in names:
            assert name in text


def test_a_command_imports_its_own_module_only() -> None:
    """`platforma feed` needs neither the hub's core nor the audit store nor the signing stack (half a
    second of imports before a run's first batch)."""
    probe = (
        "import sys; from hub.cli import build_parser; build_parser(['feed', '--help']); "
        "print(sorted(m for m in ('hub.core', 'audit.store', 'signing', 'hub.cli.admin', 'adapters.cli') "
        "if m in sys.modules))"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "['adapters.cli']"
