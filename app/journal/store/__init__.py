"""The entry store: journal rows written and read back, shared by every ledger use case.

* ``period_lock``: the lock that keeps posting and closing apart, which months are closed,
  and the month an entry posts into;
* ``bulk_entries``: many core entries written at once (COPY), postings before headers;
* ``stored_entry``: one entry read back as a core entry, or written (the corrections);
* ``posting_records``: stored postings streamed back as core ``PostingRecord`` objects
  (statements, exports, verification).

Raw row writes, id reservation and timestamps on both databases are ``app.bulk``'s.
"""
