"""`python -m pressbox.cli`: the `pressbox` command."""

from pressbox.cli import app

if __name__ == "__main__":
    app()
