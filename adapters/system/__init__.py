"""The process's own clock and id source."""
