"""Coverage-guided fuzzing (atheris) of the entry points that read untrusted bytes (docs/fuzzing.md).

Each `fuzz_<target>.py` holds one target's property, `check(data)`, and runs as a libFuzzer program;
`test_fuzz_regressions.py` replays every file of `corpus/<target>/` through the same `check`.
"""
