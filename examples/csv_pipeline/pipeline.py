"""A small sales-report pipeline: reads a CSV, builds records and a category tree, sums revenue.

It works, but it holds far more memory than it needs to: run `memlint examples/` to see where.
"""

from __future__ import annotations

import csv
import gc
import sys
from collections.abc import Iterator


class Sale:
    """One row of the sales file; a large export has millions of them."""

    def __init__(self, region: str, product: str, amount: float) -> None:
        self.region = region
        self.product = product
        self.amount = amount


class Category:
    """A node of the product hierarchy."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.parent: Category | None = None
        self.children: list[Category] = []

    def add(self, child: Category) -> Category:
        child.parent = self
        self.children.append(child)
        return child


def read_sales(path: str) -> Iterator[Sale]:
    with open(path, newline="") as handle:
        for row in list(csv.DictReader(handle)):
            yield Sale(row["region"], row["product"], float(row["amount"]))


def total_revenue(path: str) -> float:
    return sum(list(sale.amount for sale in read_sales(path)))


def build_tree(paths: list[str]) -> Category:
    root = Category("all")
    for path in paths:
        root.add(Category(path))
    return root


def load_fast(path: str) -> list[Sale]:
    # Parsing creates no reference cycles, so skip the collector while loading.
    gc.disable()
    sales = [sale for sale in read_sales(path)]
    gc.enable()
    return sales


def main(argv: list[str]) -> int:
    for path in argv:
        print(f"{path}: {total_revenue(path):.2f}")
        print(f"{len(load_fast(path))} sales loaded")
    build_tree(argv)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
