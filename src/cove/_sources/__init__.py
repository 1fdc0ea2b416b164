"""Event sources and transports; they know nothing about modules."""
