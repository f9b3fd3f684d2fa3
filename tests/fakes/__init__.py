"""In-memory test doubles of the ports (`InMemory<Port>`), faithful enough for contract suites."""
