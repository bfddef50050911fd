"""The pure core: no I/O. Documents in, events and next states out."""
