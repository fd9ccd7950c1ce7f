"""The engine behind campaign/sequences/: the files, their checks, when a step is due, and
queueing the steps that have come due."""
