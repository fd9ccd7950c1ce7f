"""The engine behind campaign/sequences/: files, checks and (to come) materialization."""
