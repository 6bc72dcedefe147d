"""Fuzzing of every command: a table of commands, archive mutators and a runner.

``harness.py`` holds the pieces; ``test_fuzz_short.py`` runs a few seeded cases per
command in the test suite; ``bench/fuzz_long.py`` runs them for minutes.
"""
