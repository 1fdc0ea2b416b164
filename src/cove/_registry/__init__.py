"""The on-chain module registry: publications followed, fetched, loaded and rolled back."""
