"""Revisions, oldest first: `NNNN_what_it_does.py`, revision id = file stem (see the package docstring)."""
