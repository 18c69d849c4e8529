"""Commission ledger: the pure core.

Integer money, a chart of accounts, balanced journal entries, split policies, the crediting
rule, Asia/Shanghai accounting periods, statements and export rows. Nothing here touches a
database, the web or the allocation core: the service layer in ``app`` loads rows, builds these
frozen dataclasses, calls the functions and persists what comes back.

Modules, in dependency order: ``errors``, ``money`` (fen, KPI points, amount parsing),
``revenue`` (events), ``accounts`` (chart of accounts), ``entries`` (postings, journal
entries, reversal), ``splits`` (largest-remainder rounding), ``policy`` (effective-dated split
policies), ``crediting`` (the crediting rule), ``adjustments`` (difference entries),
``reconciliation`` (batch control totals), ``periods`` (Asia/Shanghai months, posting
period), ``records`` (stored postings), ``statements``, ``export`` and ``verification``
(invariants recomputed from stored rows).
"""
