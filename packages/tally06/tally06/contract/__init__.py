"""The event contract and topics: what crosses a process boundary."""
