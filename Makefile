# The two commands: `make run` (portal with demo data) and `make test` (whole suite on real services).
.PHONY: setup run test bench mutants clean

setup:
	@bash scripts/setup.sh

run: setup
	@.venv/bin/python scripts/run.py

test: setup
	@bash scripts/test.sh

bench: setup
	@.venv/bin/python scripts/bench/run_all.py $(ONLY)

# Not part of `make test`: plants small faults in the rule modules and runs their tests against each
mutants: setup
	@.venv/bin/python -c 'import cosmic_ray, coverage' 2>/dev/null || .venv/bin/pip install -q -e '.[test,mutants]'
	@.venv/bin/python scripts/mutants.py $(ONLY)

clean:
	rm -rf .venv node_modules marche/static/vendor
