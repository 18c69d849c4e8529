"""The files of `o2o allocate` (BRANCHES/LEADS/PAIRS CSV in, ASSIGNMENTS.csv + REPORT.json out).

An adapter around the pure core `allocation/`: it reads and writes files (pandas, temporary
files, renames), which the core never does. The core depends on nothing here.
"""
