"""The store's revisions, oldest first; a released revision never changes."""
