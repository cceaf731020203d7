# experiments.mk: the experiment targets (included by the top-level Makefile).
# Each experiment chains asft-* tools; outputs go under results/ and are skipped when complete.

experiment-basin: all
	@echo "experiment-basin: not yet: the basin walk needs the engine (issue 3), the organism and"
	@echo "asft-eval (issue 6) and asft-basin; this target will map the narrow safety basin then."
	@exit 2

experiment-table: all
	@echo "experiment-table: not yet: needs asft-train's AsFT and baseline methods." ; exit 2

.PHONY: experiment-basin experiment-table
