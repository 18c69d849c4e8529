"""`o2o ledger export` and the finance page's download: one period's postings as a file.

* ``period_file``: the export as CSV or XLSX, audited, rows built by the core
  (``ledger.export``);
* ``postgres_copy``: the same CSV produced by ``COPY ... TO STDOUT`` on PostgreSQL, checked
  byte for byte against the core's by the tests.
"""
