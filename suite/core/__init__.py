"""The shared fine-tuning core: never imports a domain."""
