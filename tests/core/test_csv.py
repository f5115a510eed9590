"""write_csv writes the bytes of DataFrame.to_csv(index=False), also in several processes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from napari_gaitint.core import _csv
from napari_gaitint.core._csv import write_csv
from napari_gaitint.core.errors import OutputExistsError


def _same_as_pandas(df: pd.DataFrame, tmp_path, **kwargs) -> bytes:
    ref, got = tmp_path / "pandas.csv", tmp_path / "ours.csv"
    df.to_csv(ref, index=False)
    write_csv(got, df, **kwargs)
    assert got.read_bytes() == ref.read_bytes()
    got.unlink()
    return ref.read_bytes()


def _awkward_floats(rng: np.random.Generator, n: int) -> np.ndarray:
    """Random bit patterns (subnormals, NaN, inf, huge and tiny) and the usual edge cases."""
    bits = rng.integers(0, 2**64 - 1, n, dtype=np.uint64, endpoint=True)
    edges = [0.0, -0.0, 0.1, 1 / 3, 100.0, 1e-4, 1e-5, 1e15, 1e16, 9999999999999998.0, 1e22,
             5e-324, 1.7976931348623157e308, np.inf, -np.inf, np.nan]
    return np.concatenate([bits.view(np.float64), edges, rng.normal(0, 100, n)])


def test_cycles_table_bytes_equal_pandas(tmp_path):
    rng = np.random.default_rng(0)
    n = 5000
    df = pd.DataFrame({
        "trial": pd.Categorical(rng.choice(["T01", "T02", "T10"], n)),
        "view": pd.Categorical(rng.choice(["C1", "C3"], n), categories=["C3", "C1"]),
        "cycle": rng.integers(1, 40, n),
        "bodypart": pd.Categorical(rng.choice(["neck", "hip", "heel"], n)),
        "pct": np.tile(np.linspace(0, 100, 101), n // 101 + 1)[:n],
        "value": rng.normal(0, 50, n),
    })
    df.loc[[3, 70], "value"] = np.nan
    df.loc[5, "bodypart"] = np.nan  # a missing label: empty cell
    text = _same_as_pandas(df, tmp_path)
    assert text.startswith(b"trial,view,cycle,bodypart,pct,value\n")
    assert b"\n,," not in text and text.count(b"\n") == n + 1


def test_numbers_booleans_and_text_bytes_equal_pandas(tmp_path):
    rng = np.random.default_rng(1)
    floats = _awkward_floats(rng, 20000)
    n = len(floats)
    df = pd.DataFrame({
        "value": floats,
        "i8": rng.integers(-128, 127, n).astype(np.int8),
        "u64": rng.integers(0, 2**63, n, dtype=np.uint64),
        "i64": rng.integers(-2**62, 2**62, n),
        "flag": rng.random(n) < 0.5,
        "text": rng.choice(["heel strike", " toe off ", "ünïcode", ""], n).astype(object),
        "str": pd.array(rng.choice(["left", "right"], n), dtype="str"),
    })
    df.loc[7, "text"] = None
    df.loc[8, "text"] = np.nan
    df.loc[9, "str"] = np.nan
    _same_as_pandas(df, tmp_path)


@pytest.mark.parametrize("make", [
    lambda: pd.DataFrame({"a": [1.0, np.nan]}),  # one column: csv quotes an empty row
    lambda: pd.DataFrame({"a": [], "b": []}),  # header only
    lambda: pd.DataFrame({"note": ["left out, 3 frames", 'say "hi"', "two\nlines"], "n": [1, 2, 3]}),
    lambda: pd.DataFrame({"cat": pd.Categorical(["a,b", "c"]), "n": [1, 2]}),  # quoted category
    lambda: pd.DataFrame({"x": np.float32([0.1, 2.5]), "n": [1, 2]}),  # float32 prints otherwise
    lambda: pd.DataFrame({"t": pd.to_datetime(["2026-12-04", None]), "n": [1, 2]}),
    lambda: pd.DataFrame({"n": pd.array([1, None], dtype="Int64"), "m": [1, 2]}),
    lambda: pd.DataFrame({"mixed": [1, "a"], "n": [1, 2]}),
    lambda: pd.DataFrame({"c": pd.Categorical([1.5, 2.5]), "n": [1, 2]}),  # numeric categories
    lambda: pd.DataFrame([[1, 2]], columns=pd.MultiIndex.from_tuples([("a", "x"), ("a", "y")])),
])
def test_what_pandas_writes_itself_is_unchanged(tmp_path, make):
    _same_as_pandas(make(), tmp_path)


def test_several_processes_and_a_late_fallback_bytes_equal_pandas(tmp_path, monkeypatch):
    monkeypatch.setattr(_csv, "CHUNK_ROWS", 1000)
    monkeypatch.setattr(_csv, "PARALLEL_ROWS", 3000)
    rng = np.random.default_rng(2)
    n = 10_000
    df = pd.DataFrame({"trial": pd.Categorical(rng.choice(["T01", "T02"], n)),
                       "value": _awkward_floats(rng, 5000)[:n],
                       "note": np.array(["ok"] * n, dtype=object)})
    calls = []
    real = _csv._in_processes
    monkeypatch.setattr(_csv, "_in_processes", lambda parts, n_jobs: calls.append(n_jobs) or real(parts, n_jobs))
    _same_as_pandas(df, tmp_path, n_jobs=2)
    assert calls == [2]
    df.loc[n - 3, "note"] = "needs, quotes"  # only the last chunk: pandas writes it all
    _same_as_pandas(df, tmp_path, n_jobs=2)
    _same_as_pandas(df, tmp_path, n_jobs=1)
    assert calls == [2, 2]


def test_existing_file_is_kept(tmp_path):
    path = tmp_path / "events.csv"
    path.write_text("mine\n")
    df = pd.DataFrame({"a": [1, 2], "b": [0.5, 1.5]})
    with pytest.raises(OutputExistsError):
        write_csv(path, df)
    assert path.read_text() == "mine\n"
    write_csv(path, df, overwrite=True)
    assert path.read_text() == "a,b\n1,0.5\n2,1.5\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["events.csv"]


@pytest.mark.parametrize("columns", [["a", "b"], ["", ""], ["a b", " c "], ["ünï", "x"], ["a,b", "c"],
                                     ['say "x"', "c"], [1, 2.5], ["a", None]])
def test_header_bytes_equal_pandas(tmp_path, columns):
    _same_as_pandas(pd.DataFrame([[1.5, 2.0], [3.0, np.nan]], columns=columns), tmp_path)


def test_repeated_cells_and_joined_columns_bytes_equal_pandas(tmp_path):
    # small integers, booleans, repeated floats (with -0.0 beside 0.0 and NaN) and
    # categoricals next to each other: formatted once per distinct cell or combination
    rng = np.random.default_rng(3)
    n = 20000
    pct = np.tile(np.linspace(0, 100, 101), n // 101 + 1)[:n]
    pct[rng.integers(0, n, 50)] = -0.0
    pct[rng.integers(0, n, 50)] = np.nan
    df = pd.DataFrame({
        "trial": pd.Categorical(np.repeat([f"T{i:02d}" for i in range(n // 1000)], 1000)),
        "i8": np.repeat(np.arange(-100, 100, dtype=np.int8), n // 200),
        "u64": np.repeat(np.arange(2**64 - 20, 2**64, dtype=np.uint64), n // 20),
        "flag": np.repeat([True, False], n // 2),
        "pct": pct,
        "value": rng.normal(0, 50, n),
        "unit": pd.Categorical(np.repeat(["px", "deg"], n // 2)),
    })
    df.loc[11, "trial"] = np.nan
    _same_as_pandas(df, tmp_path)
