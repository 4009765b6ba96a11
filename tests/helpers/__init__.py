"""Builders shared by test modules in different folders (``tests/`` is on ``sys.path``:
pytest's default "prepend" import mode puts it there for the root ``conftest.py``)."""
