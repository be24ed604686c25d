# The two commands: `make run` (portal with demo data) and `make test` (whole suite on real services).
.PHONY: setup run test bench clean

setup:
	@bash scripts/setup.sh

run: setup
	@.venv/bin/python scripts/run.py

test: setup
	@bash scripts/test.sh

bench: setup
	@.venv/bin/python scripts/bench/run_all.py

clean:
	rm -rf .venv node_modules marche/static/vendor
