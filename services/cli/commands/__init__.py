"""One module per area of the ``forgesyte`` command line; ``services.cli.main`` wires them."""
