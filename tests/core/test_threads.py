"""BLAS thread limits: one thread inside the context, and in our worker processes for life."""

from concurrent.futures import ProcessPoolExecutor

import numpy as np  # noqa: F401  (loads numpy's BLAS before threadpoolctl looks)
import pytest

threadpoolctl = pytest.importorskip("threadpoolctl")


def _blas_threads() -> list[int]:
    return [lib["num_threads"] for lib in threadpoolctl.threadpool_info() if lib["user_api"] == "blas"]


def _in_worker() -> tuple[list[int], list[int]]:
    from napari_gaitint.core._threads import single_thread_blas

    before = _blas_threads()
    with single_thread_blas():
        inside = _blas_threads()
    return before, inside


def test_single_thread_blas_restores_the_threads_after():
    from napari_gaitint.core._threads import single_thread_blas

    before = _blas_threads()
    with single_thread_blas():
        assert set(_blas_threads()) == {1}
    assert _blas_threads() == before


def test_worker_processes_keep_one_blas_thread():
    from napari_gaitint.core._threads import limit_worker_process

    with ProcessPoolExecutor(max_workers=1, initializer=limit_worker_process) as pool:
        before, inside = pool.submit(_in_worker).result()
    assert before and set(before) == {1} and set(inside) == {1}


def test_an_inner_limit_leaves_the_outer_one_in_place_and_errors_restore_the_threads():
    from napari_gaitint.core._threads import single_thread_blas

    before = _blas_threads()
    with single_thread_blas():
        with single_thread_blas():
            assert set(_blas_threads()) == {1}
        assert set(_blas_threads()) == {1}  # the inner block did not restore the threads
    assert _blas_threads() == before
    with pytest.raises(RuntimeError), single_thread_blas():
        raise RuntimeError("inside")
    assert _blas_threads() == before
    with single_thread_blas():  # and the limit still works after an error
        assert set(_blas_threads()) == {1}
