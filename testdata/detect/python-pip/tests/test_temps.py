import sys

from temps import c_to_f


def test_boiling():
    assert c_to_f(100) == 212


def test_python_version():
    assert sys.version_info[:2] == (3, 11)
