"""The soak's parts (bench/soak.py runs them): the sink, the run and its checks."""
