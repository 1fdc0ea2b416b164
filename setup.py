"""The optional C half of the wasm fast path; everything else is in pyproject.toml.

``optional=True``: without a C compiler (or Python headers) the install goes
on and cove uses the ctypes path (``cove check`` says which one is active).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "cove._hosts._fast_ext",
            ["src/cove/_hosts/_fast_ext.c"],
            optional=True,
            extra_compile_args=[
                "-std=c11",
                "-Wall",
                "-Wextra",
                "-Wno-missing-field-initializers",
                "-Wno-unused-parameter",
                "-Wno-cast-function-type",
            ],
        )
    ]
)
