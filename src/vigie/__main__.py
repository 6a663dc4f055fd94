"""``python -m vigie`` runs the CLI."""

from vigie.cli import main

if __name__ == "__main__":
    main()
