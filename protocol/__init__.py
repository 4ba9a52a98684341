"""June's pure protocol layer: keys, canonical encoding, signed documents and consensus rules.

Nothing in this package performs I/O, reads a clock or depends on another June package.
"""
