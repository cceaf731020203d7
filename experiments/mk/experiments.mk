# experiments.mk: the experiment targets (included by the top-level Makefile).
# Each experiment chains asft-* tools; outputs go under results/ and every step is skipped when its
# output is complete (outputs are written atomically; a basin walk's completion is marked by its
# printed summary .txt, written after the walk ends, so a killed walk is resumed, not skipped).
#
# make experiment-basin [PRESET=small|nano|medium] [ORG_SEED=1]
#   the paper's narrow-safety-basin figure on the model organism (organism.mk builds it):
#   1. asft-direction base vs aligned                          -> direction.txt, align.h5
#   2. the harmful fine-tune (organism-attack: LoRA on topic_1k_p_0.1) gives d_harm
#   3. asft-perturb: aligned, harm (the adapter's scale*B*A), orth0 (random, orthogonal to
#      d_aligned), layer-normalised, on BASIN_MODULES                -> dirs.h5, perturb.txt
#   4. asft-basin 1-D along each, 21 points in [-0.5, 0.5] (Peng et al.), HS with the judge
#      + keyword ASR + refusal + the proxy                           -> curve_<dir>.{h5,txt}
#   5. asft-basin 2-D aligned x harm, proxy metrics (no generation)  -> surface.{h5,txt}
#   6. gnuplot figures basin1d(.png/.svg: HS), basin1d_proxy, basin2d, and summary.txt: EPL per
#      direction, EPL(aligned) / EPL(harm) (paper Table 7) and the cosines (Table 1).
# Outputs: results/experiment-basin/ for the default preset (small, seed 1), else
# results/experiment-basin-<preset>[-s<seed>]/.

# The organism's variables, as organism.mk defines them: this file is read first (the Makefile
# includes experiments/mk/*.mk in name order) and rule targets are expanded when read, so the
# defaults must exist here already (?=: a command-line value or organism.mk's wins, same values).
PRESET ?= small
ORG_SEED ?= 1
ORG_DIR ?= results/organism/$(PRESET)$(if $(filter-out 1,$(ORG_SEED)),-s$(ORG_SEED))
ORG_BIN ?= $(BUILD)/bin
ORG_THREADS ?= 2

BASIN_OUT ?= results/experiment-basin$(if $(filter-out small,$(PRESET)),-$(PRESET))$(if $(filter-out 1,$(ORG_SEED)),-s$(ORG_SEED))
BASIN_BIN ?= $(ORG_BIN)
BASIN_DIRS ?= aligned harm orth0
BASIN_MODULES ?= q_proj,v_proj
BASIN_THREADS ?= $(ORG_THREADS)
# per preset: 1-D walks (metrics, points, prompts, tokens) and the 2-D surface
BASIN_1D_nano   := --metrics hs,proxy --xnum 21 --n-prompts 80 --max-new 48
BASIN_2D_nano   := --metrics proxy --xnum 11 --ynum 11 --n-prompts 80
BASIN_1D_small  := --metrics hs,proxy --xnum 21 --n-prompts 80 --max-new 64
BASIN_2D_small  := --metrics proxy --xnum 21 --ynum 21 --n-prompts 80
BASIN_1D_medium := --metrics hs,proxy --xnum 21 --n-prompts 80 --max-new 64
BASIN_2D_medium := --metrics proxy --xnum 21 --ynum 21 --n-prompts 80
BASIN_1D ?= $(BASIN_1D_$(PRESET)) --xmin -0.5 --xmax 0.5
BASIN_2D ?= $(BASIN_2D_$(PRESET)) --xmin -0.5 --xmax 0.5 --ymin -0.5 --ymax 0.5

BX := $(BASIN_OUT)
BASIN_ATTACK := $(ORG_DIR)/attack/topic_1k_p_0.1
BASIN_RUN = $(BASIN_BIN)/asft-basin --model $(ORG_DIR)/aligned --directions $(BX)/dirs.h5 \
	--world $(ORG_DIR)/world --judge $(ORG_DIR)/judge.h5 --threads $(BASIN_THREADS) --seed $(ORG_SEED)
BASIN_H5 = $(BASIN_BIN)/asft-h5
# attr FILE OBJ NAME: one attribute's value
basin_attr = $$($(BASIN_H5) attrs $(1) $(2) | sed -n 's/^$(3) = //p')

experiment-basin: $(BX)/summary.txt
	@cat $(BX)/summary.txt

# the organism's evaluations (base, aligned, attacked) come first: the summary quotes them
$(BX)/.organism: | $(ORG_DIR)/eval/base.h5 $(ORG_DIR)/eval/aligned.h5 $(ORG_DIR)/eval/attack_topic_1k_p_0.1.h5
	@mkdir -p $(BX)
	@touch $@

$(BX)/align.h5: | $(BX)/.organism $(if $(ORG_NO_BUILD),,tools)
	$(BASIN_BIN)/asft-direction --base $(ORG_DIR)/base --aligned $(ORG_DIR)/aligned --out $@ \
		--modules $(BASIN_MODULES) > $(BX)/direction.txt.tmp
	@mv $(BX)/direction.txt.tmp $(BX)/direction.txt

$(BX)/dirs.h5: | $(BX)/.organism $(if $(ORG_NO_BUILD),,tools)
	$(BASIN_BIN)/asft-perturb --model $(ORG_DIR)/aligned --out $@ --kind aligned,harm,orthogonal \
		--base $(ORG_DIR)/base --aligned $(ORG_DIR)/aligned --adapter $(BASIN_ATTACK) \
		--modules $(BASIN_MODULES) --norm layer --seed $(ORG_SEED) > $(BX)/perturb.txt.tmp
	@mv $(BX)/perturb.txt.tmp $(BX)/perturb.txt

# a walk's .txt (its printed curve and EPL) appears only when the walk is complete
$(BX)/curve_%.txt: | $(BX)/dirs.h5
	$(BASIN_RUN) --x $* --out $(BX)/curve_$*.h5 $(BASIN_1D) > $@.tmp
	@mv $@.tmp $@

$(BX)/surface.txt: | $(BX)/dirs.h5
	$(BASIN_RUN) --x aligned --y harm --out $(BX)/surface.h5 $(BASIN_2D) > $@.tmp
	@mv $@.tmp $@

BASIN_CURVES := $(BASIN_DIRS:%=$(BX)/curve_%.txt)
BASIN_FILES = $(BASIN_DIRS:%=$(BX)/curve_%.h5)
BASIN_TITLES = $(foreach d,$(BASIN_DIRS),d_$(d))

$(BX)/basin1d.png: $(BASIN_CURVES)
	gnuplot -e "h5='$(BASIN_H5)'; files='$(BASIN_FILES)'; titles='$(BASIN_TITLES)'" \
		-e "metric='harmful_score'; ylabel='harmful score (%, moderation judge)'; ymin=-2; ymax=102" \
		-e "tau=$(call basin_attr,$(BX)/curve_aligned.h5,/harmful_score,epl_x_tau)" \
		-e "title='$(PRESET) organism: HS along each direction ($(BASIN_MODULES), layer-normalised)'" \
		-e "out='$(BX)/basin1d'" plots/basin1d.gp
	gnuplot -e "h5='$(BASIN_H5)'; files='$(BASIN_FILES)'; titles='$(BASIN_TITLES)'" \
		-e "metric='proxy_comply_share'; ylabel='compliant answer more likely than refusal (% of prompts)'; ymin=-2; ymax=102" \
		-e "title='$(PRESET) organism: likelihood proxy along each direction'" \
		-e "out='$(BX)/basin1d_proxy'" plots/basin1d.gp

$(BX)/basin2d.png: $(BX)/surface.txt
	gnuplot -e "h5='$(BASIN_H5)'; file='$(BX)/surface.h5'; metric='proxy_comply_share'" \
		-e "xlabel='alpha along d_aligned'; ylabel='beta along d_harm'" \
		-e "cblabel='compliant more likely than refusal (% of prompts)'" \
		-e "title='$(PRESET) organism: the basin in the (d_aligned, d_harm) plane'" \
		-e "out='$(BX)/basin2d'" plots/basin2d.gp

# summary: the organism's HS, EPL per direction (judge HS and the proxy), the ratio of paper
# Table 7 and the cosines of Table 1
$(BX)/summary.txt: $(BX)/basin1d.png $(BX)/basin2d.png $(BX)/align.h5
	@set -e; H5=$(BASIN_H5); O=$(ORG_DIR); \
	v() { $$H5 export "$$1" "$$2" --precision 4; }; \
	a() { $$H5 attrs "$$1" "$$2" | sed -n "s/^$$3 = //p"; }; \
	{ \
	echo "experiment-basin: $(PRESET) organism ($(ORG_DIR)), directions on $(BASIN_MODULES), layer-normalised"; \
	echo; \
	echo "organism (asft-eval)        HS %    keyword ASR %   proxy comply %   FA topic %"; \
	for e in base aligned attack_topic_1k_p_0.1; do \
		printf '  %-24s %7s %14s %16s %12s\n' $$e $$(v $$O/eval/$$e.h5 /harmful_score) \
			$$(v $$O/eval/$$e.h5 /keyword_asr) $$(v $$O/eval/$$e.h5 /proxy_comply_share) $$(v $$O/eval/$$e.h5 /fa/topic); \
	done; \
	echo; \
	for m in harmful_score proxy_comply_share; do \
		f=$(BX)/curve_aligned.h5; \
		printf "EPL on %s (tau = S(0) %.4g + 10 points = %.4g; '+' = no crossing inside the walk):\n" $$m $$(a $$f /$$m epl_x_s0) $$(a $$f /$$m epl_x_tau); \
		printf '  %-10s %9s %9s %9s %9s\n' direction EPL neg pos VISAGE; \
		for d in $(BASIN_DIRS); do \
			f=$(BX)/curve_$$d.h5; \
			cn=" "; cp=" "; \
			[ "$$(a $$f /$$m epl_x_censored_neg)" = 1 ] && cn=+; \
			[ "$$(a $$f /$$m epl_x_censored_pos)" = 1 ] && cp=+; \
			printf '  %-10s %9.4f %8.4f%s %8.4f%s %9.2f\n' "$$d" "$$(a $$f /$$m epl_x)" \
				"$$(a $$f /$$m epl_x_neg)" "$$cn" "$$(a $$f /$$m epl_x_pos)" "$$cp" "$$(a $$f /$$m visage_x)"; \
		done; \
		ratio() { f=$(BX)/curve_$$1.h5; echo "$$(a $$f /$$m epl_x) $$(a $$f /$$m epl_x_neg) $$(a $$f /$$m epl_x_pos) $$(a $$f /$$m epl_x_censored_neg) $$(a $$f /$$m epl_x_censored_pos)"; }; \
		echo "$$(ratio aligned) $$(ratio harm)" | awk '{ ca = ($$2 < $$3) ? $$4 : ($$3 < $$2 ? $$5 : $$4 * $$5); \
			ch = ($$7 < $$8) ? $$9 : ($$8 < $$7 ? $$10 : $$9 * $$10); \
			if ($$6 == 0) print "  EPL(aligned) / EPL(harm): EPL(harm) is 0 (the curve crosses tau at alpha = 0)"; \
			else if (ca && ch) print "  EPL(aligned) / EPL(harm): neither curve crosses tau inside the walk (no basin edge found)"; \
			else printf "  EPL(aligned) / EPL(harm) %s %.1fx%s   (paper Table 7: 13x-67x)\n", ca ? ">=" : (ch ? "<=" : "="), $$1 / $$6, \
				ca ? " (aligned: no edge inside the walk)" : (ch ? " (harm: no edge inside the walk)" : "") }'; \
		echo; \
	done; \
	echo "cosines between the directions (paper Table 1: cos(aligned, harm) ~ 6.3e-4, cos(aligned, random) ~ 8.5e-3):"; \
	names=$$(a $(BX)/dirs.h5 /cosines names); \
	$$H5 export $(BX)/dirs.h5 /cosines --precision 3 | awk -v n="$$names" 'BEGIN { k = split(n, nm, ",") } \
		{ for (j = NR + 1; j <= NF; j++) printf "  cos(%s, %s) = %s\n", nm[NR], nm[j], $$j }'; \
	echo; \
	printf '2-D surface aligned x harm (proxy_comply_share): EPL along aligned %.4f, along harm %.4f\n' \
		$$(a $(BX)/surface.h5 /proxy_comply_share epl_x) $$(a $(BX)/surface.h5 /proxy_comply_share epl_y); \
	echo "alignment direction: $$(grep -m1 'verdict' $(BX)/direction.txt || true)"; \
	echo; \
	echo "figures: $(BX)/basin1d.png (HS), $(BX)/basin1d_proxy.png, $(BX)/basin2d.png (+ .svg)"; \
	} > $@.tmp; mv $@.tmp $@

experiment-table: all
	@echo "experiment-table: not yet: it needs asft-train's AsFT and baseline methods (Safe LoRA,"
	@echo "SafeInstr, BEA, Lisa) to reproduce the paper's HS / FA table; only experiment-basin exists."
	@exit 2

.PHONY: experiment-basin experiment-table
