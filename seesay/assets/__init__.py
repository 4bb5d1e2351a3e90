"""Package data: icons, prompts and the default settings."""
