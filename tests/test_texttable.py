"""Aligned terminal tables."""

from edgesr.texttable import align


def test_columns_pad_to_their_widest_cell_left_or_right():
    rows = [("name", "n", "note"), ("a", "123", ""), ("bbb", "4", "x")]
    assert align(rows, right=(1,)).split("\n") == ["name    n  note", "a     123", "bbb     4  x"]
