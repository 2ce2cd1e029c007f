"""Counts words."""
from collections import Counter


def top(text: str, n: int = 1) -> list[tuple[str, int]]:
    """The n most common words of text."""
    return Counter(text.lower().split()).most_common(n)
