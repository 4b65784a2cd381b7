"""The ``paperchat`` command line: a thin face over :mod:`rag` (see :mod:`cli.main`)."""
