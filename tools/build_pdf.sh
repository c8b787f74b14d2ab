#!/usr/bin/env bash
# Build the book as a PDF with LaTeX: _build/latex/book.pdf. Not run by CI.
#
# Needs TeX Live from Debian's (or Ubuntu's) packages, with XeLaTeX and Chinese
# support for the glossary:
#   apt-get install texlive-latex-extra texlive-fonts-recommended texlive-xetex \
#                   texlive-lang-chinese fonts-noto-cjk fonts-freefont-otf xindy latexmk
# and the Python requirements (pip install -r requirements.txt).
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in xelatex latexmk xindy; do
  command -v "$tool" >/dev/null || {
    echo "build_pdf: $tool not found; install TeX Live (see the comment at the top of $0)"
    exit 2
  }
done
export PYTHONHASHSEED=0 MPLBACKEND=Agg
rm -rf _build/latex        # latexmk keeps the state of a failed run otherwise
jupyter-book build --builder pdflatex . "$@"
pdf=$(ls _build/latex/*.pdf 2>/dev/null | head -n 1)
[ -n "$pdf" ] || { echo "build_pdf: no PDF produced (see _build/latex/*.log)"; exit 1; }
echo "build_pdf: wrote $pdf"
