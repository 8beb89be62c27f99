"""The 'shop' repository: one failing test caused by a bug in each of two files.

Agent, API and TUI tests drive the same fix through the replay model, so they share it.
"""

from __future__ import annotations

UNITTEST = "python -m unittest discover -s tests -t ."

SHOP_FILES: dict[str, str] = {
    "shop/__init__.py": "",
    "shop/prices.py": (
        "def apply_discount(price, pct):\n"
        "    \"\"\"Price after a discount of pct percent.\"\"\"\n"
        "    return price * pct / 100\n"),
    "shop/cart.py": (
        "from shop.prices import apply_discount\n\n\n"
        "def total(prices, pct):\n"
        "    \"\"\"Sum of the discounted prices.\"\"\"\n"
        "    return sum(apply_discount(p, pct) for p in prices[1:])\n"),
    "tests/__init__.py": "",
    "tests/test_cart.py": (
        "import unittest\n\n"
        "from shop.cart import total\n\n\n"
        "class TotalTest(unittest.TestCase):\n"
        "    def test_discounted_total(self):\n"
        "        self.assertEqual(total([10.0, 20.0], 10), 27.0)\n"),
}
"""Source files and the failing test."""

SECRET_FILE = {".env": "API_TOKEN=do-not-leak\n"}
"""A secret the agent must never read into a prompt."""
