"""Module hosts: wasm components (wasmtime) and native Python plugins."""
