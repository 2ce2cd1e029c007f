from tally import top


def test_top():
    assert top("a b a c a b") == [("a", 3)]
