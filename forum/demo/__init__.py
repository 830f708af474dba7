"""Demo content of our own, for trying the forum and for mining."""
