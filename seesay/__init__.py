"""SeeSay: a private, local, multimodal desktop assistant."""

__version__ = "0.1.0"
