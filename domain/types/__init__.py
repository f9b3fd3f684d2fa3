"""Pure, synchronous value types, events and errors shared by services, ports and adapters."""
