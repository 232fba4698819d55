"""fastcors benchmark suite.

`python -m bench` runs the headline benchmark (micro, end to end, memory) and writes
bench/results/latest.{md,json,png} (not tracked by git); `python -m bench --reference`
rewrites the committed reference run, bench/results/reference.{md,json,png};
`python -m bench --quick` is the short smoke run;
`pytest bench/` runs the same micro scenarios under pytest-benchmark.
"""
