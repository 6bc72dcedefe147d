"""Builds the optional C reader (toolkit._speedups); the rest is in pyproject.toml.

When no C compiler is at hand the build goes on without it, and the toolkit uses its
pure-Python path (same output, slower ``convert --to coco``).
"""

import sys

from setuptools import Extension, setup

# Strict IEEE arithmetic: the COCO numbers must be the very floats Python computes.
ARGS = [] if sys.platform == "win32" else ["-O2", "-ffp-contract=off", "-fno-fast-math"]

setup(
    ext_modules=[
        Extension(
            "toolkit._speedups",
            sources=["toolkit/_speedups.c"],
            extra_compile_args=ARGS,
            optional=True,
        )
    ]
)
