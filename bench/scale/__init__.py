"""Helpers of bench/scale_out.py: Valkey (single or a 3-master cluster), Rejoinder nodes, load."""
