"""The lines that replace ``import rlbook as rb`` in each chapter's set-up cell.

A notebook downloaded from the book, or opened in Colab or Binder, may run where
the ``rlbook`` package is not installed. Instead of a bare ``ModuleNotFoundError``,
the set-up cell then says how to install it (the URL is the repository's, the same
as in _config.yml, README.md and pyproject.toml). Paste SNIPPET in place of
``import rlbook as rb``; tests/test_setup_snippet.py checks the snippet.
"""

REPOSITORY = "https://github.com/rlbook/rlbook"

SNIPPET = f'''\
try:
    import rlbook as rb
except ModuleNotFoundError as err:  # a notebook run outside the repository
    raise ModuleNotFoundError(
        "This chapter needs the rlbook package. Install it with\\n"
        '    pip install "rlbook @ git+{REPOSITORY}"\\n'
        "(in Jupyter or Colab: %pip install ...), then restart the kernel."
    ) from err
'''

if __name__ == "__main__":
    print(SNIPPET, end="")
