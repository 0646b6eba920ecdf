"""The benchmark: every system of every domain on one split per domain, in one report.

It sits beside the core, not in it: a plan (``recipes/bench/*.yaml``, :mod:`suite.bench.plan`)
names the runs; :mod:`suite.bench.runner` runs each as its own ``suite train`` process;
:mod:`suite.bench.collect` reads their typed results (:class:`suite.core.results.RunResult`);
:mod:`suite.bench.report` writes results.md, report.html and plots; :mod:`suite.bench.compare`
compares two results files.
"""
