"""Building modules into components with the real toolchains."""
