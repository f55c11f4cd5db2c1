"""``python -m typedsvc``: the same as the ``typedsvc`` command."""

from typedsvc._cli import main

if __name__ == "__main__":
    main()
