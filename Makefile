# The KL divergence and cross-entropy course book.
# `make book` and `make test` are all a newcomer needs; see README.md.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
# The environment is made once and remade only when its recipe changes.
STAMP  := $(VENV)/.installed
BOOK_FLAGS := -W -n --keep-going
PORT ?= 8000
SUBMISSIONS ?= submissions
# `make grade`: the results (grades/ is git-ignored and survives `make clean`), seconds each
# notebook may run, notebooks at once (empty: one per processor), RESUME=1 to continue an
# interrupted run; the chapters graded are CHAPTERS (files, or names such as 01,02).
GRADES ?= grades/grades.csv
TIMEOUT ?= 120
JOBS ?=
RESUME ?=
# `make refresh CHAPTERS=chapters/03_coin_sequence_limit.ipynb` refreshes one chapter.
CHAPTERS ?= chapters/*.ipynb
comma := ,
space := $(subst ,, )
GRADE_CHAPTERS = $(subst $(space),$(comma),$(strip $(or $(wildcard $(CHAPTERS)),$(CHAPTERS))))
# `make pdf EDITION=student` prints the student edition: the student notebooks (no worked
# solutions), built from a copy of the sources like `make book-student`.
EDITION ?= full
STUDENT_PDF := $(filter student,$(EDITION))
PDF_SRC := $(if $(STUDENT_PDF),_build/pdf-student-src,.)
PDF := _build/pdf/klbook$(if $(STUDENT_PDF),-student).pdf
# What `make pdf` needs beyond .venv, as Debian packages.
TEX_PACKAGES := texlive-xetex texlive-latex-extra texlive-fonts-recommended latexmk fonts-dejavu-core

export PYTHONHASHSEED := 0
# Let Python cache compiled modules even where the shell says not to: without the cache
# every pytest process re-rewrites the asserts of ~150 test and plugin modules and every
# kernel recompiles klbook (3.4 s of the 10.5 s a bare collection takes here).
unexport PYTHONDONTWRITEBYTECODE

.PHONY: help env book test test-fast lint refresh lab serve clean student grade bench pdf mutate book-student

help:
	@echo "make book     build the website into _build/html (creates .venv on first use)"
	@echo "make pdf      build the book as a PDF into _build/pdf/klbook.pdf (EDITION=student: no solutions)"
	@echo "make test     run every test: klbook, notebooks (nbval), the strict build, the browser"
	@echo "make refresh  re-execute every chapter in a fresh kernel and store its outputs"
	@echo "make lab      open the chapters in JupyterLab"
	@echo "make serve    serve the built site on http://127.0.0.1:$(PORT)"
	@echo "make student  write the student release to _build/student (and a zip)"
	@echo "make book-student  build the website without solutions into _build/student-site/html"
	@echo "make grade SUBMISSIONS=dir   grade submitted notebooks, each in a sandbox, into grades/"
	@echo "             (also GRADES=file.csv TIMEOUT=s JOBS=n RESUME=1 CHAPTERS=01,02)"
	@echo "make bench    run the benchmarks into benchmarks/results.md"
	@echo "make mutate   mutation-test klbook's math modules into benchmarks/mutation.md"
	@echo "make clean    remove _build and caches (keeps .venv and grades/)"

env: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(STAMP)

book: $(STAMP)
	$(BIN)/jupyter-book build . $(BOOK_FLAGS)

# The PDF: Sphinx's LaTeX from the stored outputs, then XeLaTeX through latexmk. Jupyter
# Book's LaTeX class asks for the bbm package (blackboard digits, which the book never
# uses) from texlive-fonts-extra, a 500 MB package: a two-line stand-in replaces it.
pdf: $(STAMP)
	@for tool in xelatex latexmk; do command -v $$tool >/dev/null 2>&1 || { \
	  echo "make pdf needs TeX Live, and $$tool is missing. On Debian or Ubuntu:" >&2; \
	  echo "    sudo apt-get install $(TEX_PACKAGES)" >&2; exit 1; }; done
	@fc-list 2>/dev/null | grep -q "DejaVu Sans Mono" || { echo "make pdf needs the font \
	  DejaVu Sans Mono. On Debian or Ubuntu: sudo apt-get install fonts-dejavu-core" >&2; exit 1; }
	$(if $(STUDENT_PDF),$(PY) -c 'import sys; from coursework.site import student_sources; \
	  student_sources(sys.argv[1])' $(PDF_SRC))
	rm -rf $(PDF_SRC)/_build/latex
	$(BIN)/jupyter-book build $(PDF_SRC) --builder latex
	printf '%s\n' '\ProvidesPackage{bbm}' '\providecommand\mathbbm[1]{\mathbb{#1}}' \
	  > $(PDF_SRC)/_build/latex/bbm.sty
	cd $(PDF_SRC)/_build/latex && latexmk -xelatex -interaction=nonstopmode -halt-on-error \
	  -file-line-error klbook.tex
	mkdir -p _build/pdf
	cp $(PDF_SRC)/_build/latex/klbook.pdf $(PDF)
	@echo "wrote $(PDF)"

test: $(STAMP)
	$(BIN)/ruff check .
	$(PY) -m pytest -n 3 --dist loadfile --no-loadscope-reorder

test-fast: $(STAMP)
	$(PY) -m pytest -m "not slow"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check klbook tests

refresh: $(STAMP)
	$(PY) -m coursework.notebooks $(CHAPTERS)

lab: $(STAMP)
	$(BIN)/jupyter lab chapters

serve: $(STAMP)
	@test -f _build/html/index.html || $(MAKE) book
	$(PY) -m http.server --bind 127.0.0.1 --directory _build/html $(PORT)

student: $(STAMP)
	$(PY) -m coursework release --out _build/student chapters/*.ipynb

book-student: $(STAMP)
	$(PY) -m coursework book-student --out _build/student-site

grade: $(STAMP)
	$(PY) -m coursework grade --out $(GRADES) --timeout $(TIMEOUT) \
	  --chapters $(GRADE_CHAPTERS) $(if $(JOBS),--jobs $(JOBS)) $(if $(RESUME),--resume) \
	  $(SUBMISSIONS)

bench: $(STAMP)
	$(PY) benchmarks/run.py --out benchmarks/results.md

mutate: $(STAMP)
	nice -n 10 $(PY) benchmarks/mutation.py --out benchmarks/mutation.md

clean:
	rm -rf _build .pytest_cache .hypothesis .ruff_cache
	find . -name __pycache__ -not -path './.venv/*' -prune -exec rm -rf {} +
