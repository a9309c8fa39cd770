"""The JSON API: one module per area, each exporting `routes`."""
