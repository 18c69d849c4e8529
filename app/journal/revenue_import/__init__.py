"""Importing a revenue file: `o2o import revenue` and the finance page's upload.

* ``importer``: the import as one transaction: stage, check, insert new events, credit,
  reconcile (start here);
* ``row_parser``: one CSV row validated into a core ``RevenueEvent`` (a stage row);
* ``parallel_parse``: the same parsing in forked worker processes for big files (CLI);
* ``staging_table``: the per-transaction staging table and its set-based checks;
* ``crediting``: the new events credited by the core, page by page (SQLite; the reference);
* ``sql_crediting``: the same default rule as two INSERT ... SELECT statements (PostgreSQL).
"""
