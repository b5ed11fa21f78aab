#!/usr/bin/env python3
"""LightGBM's own load and lambdarank training of a text file, for its peak memory against ours.

    python3 benchmarks/scale/lightgbm_native.py to-lightgbm IN.txt OUT.txt
        Writes OUT.txt without the `qid:N` tokens (LightGBM's LibSVM parser refuses them) and OUT.txt.query with
        the group sizes, one line at a time (the file is never held).
    python3 benchmarks/scale/lightgbm_native.py train FILE.txt --trees N [--threads T] [--lib PATH] [--param k=v ...]
        Calls LightGBM's C API directly (no Python package needed, the NuGet package's lib_lightgbm.so):
        LGBM_DatasetCreateFromFile with two_round=true (LightGBM streams the file twice instead of holding its
        text), then LGBM_BoosterCreate and N rounds of LGBM_BoosterUpdateOneIter, with the parameters our
        `ranking train --ranker lambdamart` renders (31 leaves, lr 0.1, min_data 20, 255 bins, truncation 30,
        deterministic, force_row_wise). Prints seconds per phase. Run it under peak_memory.py.

This is what LightGBM's own CLI does (its Application loads with DatasetLoader::LoadFromFile and trains);
the CLI binary is not shipped for Linux in the NuGet package and Debian has no lightgbm package.
"""
import ctypes
import glob
import os
import sys
import time


def to_lightgbm(source: str, target: str) -> None:
    sizes = []
    last = None
    with open(source, "rb", buffering=1 << 22) as src, open(target, "wb", buffering=1 << 22) as out:
        for line in src:
            label, qid, rest = line.split(b" ", 2)
            if not qid.startswith(b"qid:"):
                raise SystemExit(f"{source}: a line without qid: {line[:60]!r}")
            if qid != last:
                sizes.append(0)
                last = qid
            sizes[-1] += 1
            out.write(label + b" " + rest)
    with open(target + ".query", "w") as query:
        query.write("\n".join(map(str, sizes)) + "\n")
    print(f"wrote {target}: {sum(sizes)} rows, {len(sizes)} queries", file=sys.stderr)


def find_lib() -> str:
    found = sorted(glob.glob(os.path.expanduser("~/.nuget/packages/lightgbm/*/runtimes/linux-x64/native/lib_lightgbm.so")))
    if not found:
        raise SystemExit("lib_lightgbm.so not found: pass --lib PATH (the LightGBM NuGet package ships it)")
    return found[-1]


def train(path: str, trees: int, threads: int, lib_path: str, extra: list) -> None:
    lib = ctypes.CDLL(lib_path)
    lib.LGBM_GetLastError.restype = ctypes.c_char_p

    def check(code: int, what: str) -> None:
        if code != 0:
            raise SystemExit(f"{what}: {lib.LGBM_GetLastError().decode()}")

    params = ("objective=lambdarank num_leaves=31 learning_rate=0.1 min_data_in_leaf=20 max_bin=255 "
              f"lambdarank_truncation_level=30 metric=None seed=0 num_threads={threads} deterministic=true "
              "force_row_wise=true verbosity=-1 two_round=true " + " ".join(extra)).strip().encode()
    clock = time.monotonic()
    dataset = ctypes.c_void_p()
    check(lib.LGBM_DatasetCreateFromFile(path.encode(), params, None, ctypes.byref(dataset)), "LGBM_DatasetCreateFromFile")
    rows = ctypes.c_int()
    check(lib.LGBM_DatasetGetNumData(dataset, ctypes.byref(rows)), "LGBM_DatasetGetNumData")
    loaded = time.monotonic()
    booster = ctypes.c_void_p()
    check(lib.LGBM_BoosterCreate(dataset, params, ctypes.byref(booster)), "LGBM_BoosterCreate")
    finished = ctypes.c_int()
    for _ in range(trees):
        check(lib.LGBM_BoosterUpdateOneIter(booster, ctypes.byref(finished)), "LGBM_BoosterUpdateOneIter")
        if finished.value:
            break
    done = time.monotonic()
    print(f"LightGBM native: {rows.value} rows; load+bin {loaded - clock:.1f} s, {trees} rounds {done - loaded:.1f} s",
          file=sys.stderr)
    lib.LGBM_BoosterFree(booster)
    lib.LGBM_DatasetFree(dataset)


def main() -> int:
    args = sys.argv[1:]
    if len(args) == 3 and args[0] == "to-lightgbm":
        to_lightgbm(args[1], args[2])
        return 0
    if len(args) >= 2 and args[0] == "train":
        path, rest = args[1], args[2:]
        trees, threads, lib, extra = 5, 2, None, []
        while rest:
            key, value, rest = rest[0], rest[1], rest[2:]
            if key == "--trees": trees = int(value)
            elif key == "--threads": threads = int(value)
            elif key == "--lib": lib = value
            elif key == "--param": extra.append(value)
            else: raise SystemExit(f"unknown option {key}")
        train(path, trees, threads, lib or find_lib(), extra)
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
