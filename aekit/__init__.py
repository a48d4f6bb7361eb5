"""aekit: image autoencoders you can train, inspect and use as codecs."""

__version__ = "0.1.0"
