"""Customer value: revenue and margin, ABC/Pareto, RFM, CLV, loyalty points and the post weight.

Entry point: :func:`linker.value.snapshot.value_snapshot` on plain :mod:`linker.value.orders`
records; the weight rule is :func:`linker.value.weights.customer_weight`. Never imports
:mod:`linker.identity` (an import-linter contract keeps the two apart).
"""
