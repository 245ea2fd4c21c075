"""Run Ponte's SOAP server and delivery worker: the same as ``ponte serve``."""

from adapter.cli import main

if __name__ == "__main__":
    main(["serve"])
