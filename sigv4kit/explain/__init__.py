"""Explaining a SignatureDoesNotMatch: the causes found by comparing the server's canonical
request and string to sign with ours, and their rendering.

May import every core stage below it (``canonical``, ``signing``, ``verify``, ``client``);
never ``cli`` or the server.
"""
