"""Build the compiled event kernel ``simcc.engine._core``.

Metadata lives in pyproject.toml; this file only declares the extension.
``-ffp-contract=off`` keeps the arithmetic identical to the SimPy reference
(no fused multiply-add), so the two engines agree to the last bit.
"""
import os

import numpy
from Cython.Build import cythonize
from setuptools import Extension, setup

_numpy_dir = os.path.dirname(numpy.__file__)

extensions = [
    Extension(
        "simcc.engine._core",
        ["simcc/engine/_core.pyx"],
        include_dirs=[numpy.get_include()],
        library_dirs=[
            os.path.join(_numpy_dir, "random", "lib"),
            os.path.join(_numpy_dir, "_core", "lib"),
        ],
        libraries=["npyrandom", "npymath"],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
        extra_compile_args=["-O3", "-ffp-contract=off"],
    )
]

setup(ext_modules=cythonize(extensions, language_level=3))
