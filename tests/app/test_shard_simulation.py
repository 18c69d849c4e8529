"""The sharded-PostgreSQL simulation (bench/shard_simulation.py): its verification holds at a
tiny size and catches what it claims to catch; the capacity rule sums the shards' parts."""

from __future__ import annotations

import os
from pathlib import Path

import psycopg
import pytest

from app.rounds.fit import NodeLoads, overfull
from app.tables import Branch
from bench.shard_checks import round_figures, verify
from bench.shard_simulation import simulate
from bench.shard_world import _plain, database_url, dispose_engines, drop_databases
from tests.conftest import POSTGRES_URL, REQUIRE_POSTGRES


def test_capacity_is_checked_on_the_sum_of_the_shards_parts() -> None:
    branch = Branch(id=7, code="SZ", name="Shenzhen", lat=22.5, lon=114.0, capacity=10)
    parts = [NodeLoads(planned={7: 6}, kept={}), NodeLoads(planned={7: 3}, kept={7: 2})]
    assert all(not overfull([branch], [part]) for part in parts)  # each shard alone fits
    (refused,) = overfull([branch], parts)
    assert refused.code == "branch.would_overflow"
    assert refused.params["total"] == 11
    assert refused.params["held"] == 2


@pytest.mark.manual  # ~30 s: three databases created, imported, solved and committed
def test_two_shards_match_the_single_node(tmp_path: Path) -> None:
    if not POSTGRES_URL:
        if REQUIRE_POSTGRES:
            pytest.fail("O2O_REQUIRE_POSTGRES=1 but O2O_TEST_POSTGRES_URL is not set")
        pytest.skip("the simulation runs on PostgreSQL only")
    prefix = f"o2o_shards_t{os.getpid()}"
    outcome = simulate(
        server=POSTGRES_URL, prefix=prefix, leads=2_000, branches=30, shards=[2],
        folder=tmp_path, keep=True, say=lambda _: None,
    )  # fmt: skip
    single_url = database_url(POSTGRES_URL, f"{prefix}_single")
    urls = [database_url(POSTGRES_URL, f"{prefix}_k{k}") for k in range(2)]
    try:
        assert outcome.passed, "\n".join(outcome.lines)
        hole = next(line for line in outcome.lines if "capacity hole" in line)
        assert "passed on 2/2 shards" in hole
        assert "would hold" in hole  # the coordinator's sum refused what each shard let pass
        _verification_catches_a_customer_on_two_shards(single_url, urls)
    finally:
        dispose_engines()
        drop_databases([database_url(POSTGRES_URL, f"{prefix}_template"), single_url, *urls])


def _verification_catches_a_customer_on_two_shards(single_url: str, urls: list[str]) -> None:
    single = round_figures([single_url], round_id=1)
    with psycopg.connect(_plain(urls[0]), autocommit=True) as conn:
        row = conn.execute("SELECT customer_key FROM customer LIMIT 1").fetchone()
    assert row is not None
    with psycopg.connect(_plain(urls[1]), autocommit=True) as conn:
        conn.execute(
            "INSERT INTO customer (id, customer_key, created_at) VALUES (%s, %s, now())",
            (3 * 10**12 - 1, row[0]),  # an id of shard 1's range
        )
    verdict = verify(single, round_figures(urls, round_id=1), urls)
    assert verdict.failures[-1] == "1 customers found on two shards"
    assert verdict.failures[0].startswith("customers ")  # one more than the single node has
