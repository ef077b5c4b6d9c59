"""The ``sigv4kit`` command line: main, shared options/IO/exit codes, one module per command,
and the typed registration hook through which the server half adds its commands.

May import every core stage; never the server (``sigv4kit.middleware``), whose commands
arrive through the ``sigv4kit.commands`` entry-point group.
"""
