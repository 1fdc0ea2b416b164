"""The supply chain: a component found by its sha256 pin in the content store or fetched."""
