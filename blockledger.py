"""``python -m blockledger``: the same command as the ``blockledger`` script, for when the
script is not on ``PATH`` (a virtual environment not activated, a system without
console-script wrappers)."""

from cli import main

if __name__ == "__main__":
    main()
