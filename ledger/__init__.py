"""Commission ledger: the pure core.

Integer money, a chart of accounts, balanced journal entries, split policies, the crediting
rule, Asia/Shanghai accounting periods, statements and export rows. Nothing here touches a
database, the web or the allocation core: the service layer in ``app`` loads rows, builds these
frozen dataclasses, calls the functions and persists what comes back.
"""
