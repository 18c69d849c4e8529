"""The ledger's shell: database, files, HTTP and CLI around the pure core ``ledger/``.

The outside world says "ledger": the CLI (``o2o ledger close|export|verify|policy|reverse|
reclassify`` and ``o2o import revenue``), the API (``/api/v1/ledger/...``), the pages and the
docs. The pure core already owns the package name ``ledger``, so its shell is named after
what it keeps: the journal (entries, postings, the revenue events they credit).

Grouped by use case; a use case that fits in one module is that module:

* ``service``: every use case as the API and the CLI call it (start here); ``routes``,
  ``schemas`` and ``cli`` are its HTTP and command-line surfaces;
* ``revenue_import/``: importing a revenue file, crediting its new events, reconciling;
* ``corrections``: reversing an entry, reclassifying suspense;
* ``closing``: closing a month and storing its branch statements;
* ``policies/``: split-policy versions and the files they are read from;
* ``export/``: one period's postings as CSV or XLSX;
* ``verify``: every invariant recomputed from the stored rows;
* ``views``: read-only queries for the finance and branch pages;
* ``store/``: the entry store the use cases share (the period lock and closed months, entries
  written in bulk or one by one, postings read back as core records).
"""
