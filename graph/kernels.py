"""The one way dealgraph compiles its numeric kernels: the :func:`kernel` decorator.

Why numba: the cycle search, the strongly-connected-component pass, the
round-trip distances and the force layout are loops over integer arrays (CSR
graphs) with data-dependent branching; numpy cannot vectorise them and plain
Python is 50-200x slower. numba compiles such loops to machine code while the
source stays ordinary Python, runnable without numba (``kernel.py_func``) for
tests and for graphs too small to pay for compilation.

Why ``cache=True``: compiling every kernel costs seconds (see BENCHMARKS.md,
"Compilation"); with the cache the machine code is written to ``__pycache__``
beside the source on the first call and later processes load it in a fraction
of a second. The cache is invalidated when the source file changes.

Lazy: ``@kernel`` does not import numba. The function is compiled (or loaded
from the cache) on its first call, so importing a query module costs nothing
until a kernel runs -- `dealgraph deals` and small round-trip searches never
import numba. A kernel may call other kernels: inside compiled code a
:class:`Kernel` is typed as its compiled dispatcher (registered with numba on
the first compilation), so the callee is compiled along with the caller, and
``inline="always"`` inlines it into the caller as it does for numba's own
dispatchers.

Options are passed through to ``numba.njit``: ``@kernel(parallel=True,
fastmath=True)``; ``@kernel(inline="always")`` for tiny helpers.
"""

from __future__ import annotations

import functools


class Kernel:
    """A function compiled by numba (``njit(cache=True, **options)``) on first use.

    Calling it runs the compiled code; ``py_func`` is the plain Python function.
    """

    def __init__(self, fn, options: dict):
        self.py_func = fn
        self.options = options
        self._compiled = None
        functools.update_wrapper(self, fn)

    @property
    def compiled(self):
        """The numba dispatcher (imports numba and compiles, or loads the cache, once)."""
        if self._compiled is None:
            from numba import njit

            _register_with_numba()
            self._compiled = njit(cache=True, **self.options)(self.py_func)
        return self._compiled

    @property
    def targetoptions(self) -> dict:
        """The njit options, where numba's inliner looks for ``inline`` (as on a dispatcher)."""
        return self.compiled.targetoptions

    def __call__(self, *args):
        return self.compiled(*args)

    def __repr__(self) -> str:
        return f"<kernel {self.py_func.__module__}.{self.py_func.__qualname__}>"


def kernel(fn=None, **options):
    """Decorator: make ``fn`` a :class:`Kernel` (``@kernel`` or ``@kernel(**njit_options)``)."""
    if fn is None:
        return lambda f: Kernel(f, options)
    return Kernel(fn, options)


_registered = False


def _register_with_numba() -> None:
    """Teach numba that a :class:`Kernel` referenced from compiled code is its dispatcher."""
    global _registered
    if _registered:
        return
    from numba.core.typing.typeof import typeof_impl
    from numba.core import types

    @typeof_impl.register(Kernel)
    def _typeof_kernel(val, c):
        return types.Dispatcher(val.compiled)

    _registered = True
