from hypothesis import given
from hypothesis import strategies as st

from app.review.usage import Prices, Usage, UsageMeter, cost_usd

counts = st.integers(min_value=0, max_value=10**9)


def test_add_sums_every_field() -> None:
    a = Usage(prompt_tokens=100, cached_tokens=40, completion_tokens=30, reasoning_tokens=10, calls=1)
    b = Usage(prompt_tokens=1, cached_tokens=2, completion_tokens=3, reasoning_tokens=4, calls=5)
    assert a + b == Usage(
        prompt_tokens=101, cached_tokens=42, completion_tokens=33, reasoning_tokens=14, calls=6
    )


def test_cost_bills_cached_input_cheaper_and_reasoning_once() -> None:
    usage = Usage(
        prompt_tokens=1_000_000, cached_tokens=400_000, completion_tokens=200_000, reasoning_tokens=150_000
    )
    # 600k uncached at 0.75, 400k cached at 0.075, 200k output (reasoning included) at 4.50
    assert abs(cost_usd(usage, Prices()) - (0.45 + 0.03 + 0.9)) < 1e-12


def test_cost_of_nothing_is_zero() -> None:
    assert cost_usd(Usage(), Prices()) == 0.0


def test_cached_never_exceeds_prompt_in_cost() -> None:
    odd = Usage(prompt_tokens=10, cached_tokens=50)
    assert cost_usd(odd, Prices()) == cost_usd(Usage(prompt_tokens=10, cached_tokens=10), Prices())


@given(counts, counts, counts, counts)
def test_cost_is_additive_and_caching_never_costs_more(p: int, c: int, o: int, extra: int) -> None:
    c = min(c, p)
    a = Usage(prompt_tokens=p, cached_tokens=c, completion_tokens=o)
    b = Usage(prompt_tokens=extra, completion_tokens=extra)
    prices = Prices()
    assert abs(cost_usd(a + b, prices) - (cost_usd(a, prices) + cost_usd(b, prices))) < 1e-6
    assert cost_usd(a, prices) <= cost_usd(Usage(prompt_tokens=p, completion_tokens=o), prices) + 1e-12


def test_meter_accumulates() -> None:
    meter = UsageMeter()
    meter.add(Usage(prompt_tokens=5, calls=1))
    meter.add(Usage(prompt_tokens=7, cached_tokens=3, calls=1))
    assert meter.total == Usage(prompt_tokens=12, cached_tokens=3, calls=2)
