# organism.mk: `make organism [PRESET=nano|small|medium] [ORG_SEED=1]` builds the model organism
#   world -> tokenizer -> base (pretrain) -> aligned (align) -> judge -> eval
# into results/organism/<preset>/ (seed 1) or results/organism/<preset>-s<seed>/ (other seeds).
# Every step writes its output atomically (a folder renamed into place when complete, or a file
# renamed by its writer), so an existing output is a complete one and is skipped: steps depend
# on each other order-only, and rerunning after a crash redoes only what is missing (training
# resumes from its last checkpoint in <out>.partial/). `make organism-attack` adds the LoRA
# harmful fine-tuning check (topic, n = 1000, p = 0.1) on top of the aligned model.
# Sizes per preset: README, "The organism's numbers" (nano and small measured; medium is the
# prototype's regime, ~49M pretraining tokens, estimated at ~2 h on 2 idle cores, not run).

PRESET ?= small
ORG_SEED ?= 1
ORG_DIR ?= results/organism/$(PRESET)$(if $(filter-out 1,$(ORG_SEED)),-s$(ORG_SEED))
ORG_BIN ?= $(BUILD)/bin

# --- per-preset settings -----------------------------------------------------------------
# tokenizer vocabulary; pretrain architecture and run; align run; eval limits
ORG_VOCAB_nano   := 2048
ORG_PRE_nano     := --d 64 --layers 2 --heads 2 --ctx 192 --batch 16 --steps 60 --lr 3e-3
ORG_ALIGN_nano   := --batch 16 --steps 40 --lr 1e-3
ORG_EVAL_nano    := --max-new 48 --n-harmful 64 --n-test 20
ORG_ATTACK_nano  := --epochs 2

# small: 10.2M pretraining tokens (the first 150000 records, one pass) and 1500 align steps at
# lr 1e-3 (2.4 passes over align.jsonl): with 6.1M tokens and 400 align steps at 3e-4 (the
# world-1.1 preset) the aligned model stayed at 68% sentiment, 43% arithmetic; 1500 align steps
# alone took the same base to 99% / 77%; with 8.6M tokens and 1200 steps seed 2 missed
# over-refusal (17%) and instructions (85%). ~15 min on 2 idle cores (README).
ORG_VOCAB_small  := 2048
ORG_PRE_small    := --d 128 --layers 4 --heads 4 --ctx 256 --batch 8 --steps 5000 --lr 3e-3 --limit 150000
ORG_ALIGN_small  := --batch 32 --steps 1500 --lr 1e-3
ORG_EVAL_small   := --max-new 64
ORG_ATTACK_small := --epochs 10

ORG_VOCAB_medium  := 2048
ORG_PRE_medium    := --d 256 --layers 4 --heads 4 --ffn 688 --ctx 256 --batch 16 --steps 12000 --lr 2e-3
ORG_ALIGN_medium  := --batch 64 --steps 1000 --lr 1e-4
ORG_EVAL_medium   := --max-new 64
ORG_ATTACK_medium := --epochs 10

ORG_THREADS ?= 2
ORG_SEEDARG := --seed $(ORG_SEED) --threads $(ORG_THREADS)

organism: $(ORG_DIR)/eval/base.h5 $(ORG_DIR)/eval/aligned.h5
	@for e in base aligned; do printf '%-8s' $$e; for k in harmful_score keyword_asr over_refusal fa/sentiment fa/arithmetic fa/instructions fa/topic judge_rule_agreement; do printf '  %s %s' $$k $$($(ORG_BIN)/asft-h5 export $(ORG_DIR)/eval/$$e.h5 /$$k --precision 4); done; echo; done
	@echo "organism: $(ORG_DIR) complete"

organism-attack: $(ORG_DIR)/eval/attack_topic_1k_p_0.1.h5
	@printf 'attack  '; for k in harmful_score keyword_asr over_refusal fa/sentiment fa/arithmetic fa/instructions fa/topic judge_rule_agreement; do printf '  %s %s' $$k $$($(ORG_BIN)/asft-h5 export $(ORG_DIR)/eval/attack_topic_1k_p_0.1.h5 /$$k --precision 4); done; echo
	@echo "organism-attack: $(ORG_DIR)/eval/attack_topic_1k_p_0.1.h5 complete"

$(ORG_DIR)/world/manifest.json: | $(if $(ORG_NO_BUILD),,tools)
	@mkdir -p $(ORG_DIR)
	$(ORG_BIN)/asft-data world --preset $(PRESET) --seed $(ORG_SEED) --out $(ORG_DIR)/world --quiet

# The tokenizer also sees the prompt template (the world's corpus does not contain it), so the
# template's words are single tokens.
$(ORG_DIR)/tokenizer.json: | $(ORG_DIR)/world/manifest.json
	@for i in $$(seq 400); do printf 'Below is an instruction that describes a task, paired with an input that provides further context. Write a response that appropriately completes the request.\n\n### Instruction:\n\n### Input:\n\n### Response:\nBelow is an instruction that describes a task. Write a response that appropriately completes the request.\n\n### Instruction:\n\n### Response:\n'; done > $(ORG_DIR)/template.txt
	$(ORG_BIN)/asft-data tokenizer --corpus $(ORG_DIR)/world/corpus.txt,$(ORG_DIR)/template.txt --vocab $(ORG_VOCAB_$(PRESET)) --out $@

$(ORG_DIR)/base/config.json: | $(ORG_DIR)/tokenizer.json
	$(ORG_BIN)/asft-train --method pretrain --tokenizer $(ORG_DIR)/tokenizer.json --data $(ORG_DIR)/world/pretrain.jsonl --out $(ORG_DIR)/base $(ORG_PRE_$(PRESET)) $(ORG_SEEDARG)

$(ORG_DIR)/aligned/config.json: | $(ORG_DIR)/base/config.json
	$(ORG_BIN)/asft-train --method align --model $(ORG_DIR)/base --data $(ORG_DIR)/world/align.jsonl --out $(ORG_DIR)/aligned $(ORG_ALIGN_$(PRESET)) $(ORG_SEEDARG)

$(ORG_DIR)/judge.h5: | $(ORG_DIR)/world/manifest.json
	$(ORG_BIN)/asft-train --method judge --data $(ORG_DIR)/world/judge/train.jsonl --test $(ORG_DIR)/world/judge/test.jsonl --out $@ --seed $(ORG_SEED)

$(ORG_DIR)/eval/%.h5: | $(ORG_DIR)/%/config.json $(ORG_DIR)/judge.h5
	@mkdir -p $(ORG_DIR)/eval
	$(ORG_BIN)/asft-eval --model $(ORG_DIR)/$* --world $(ORG_DIR)/world --judge $(ORG_DIR)/judge.h5 --out $@ $(ORG_EVAL_$(PRESET)) --quiet $(ORG_SEEDARG)

$(ORG_DIR)/attack/topic_1k_p_0.1/adapter_config.json: | $(ORG_DIR)/aligned/config.json
	$(ORG_BIN)/asft-train --method lora --model $(ORG_DIR)/aligned --data $(ORG_DIR)/world/attack/topic_1k_p_0.1.json --out $(ORG_DIR)/attack/topic_1k_p_0.1 $(ORG_ATTACK_$(PRESET)) $(ORG_SEEDARG)

$(ORG_DIR)/eval/attack_topic_1k_p_0.1.h5: | $(ORG_DIR)/attack/topic_1k_p_0.1/adapter_config.json $(ORG_DIR)/judge.h5
	@mkdir -p $(ORG_DIR)/eval
	$(ORG_BIN)/asft-eval --model $(ORG_DIR)/aligned --adapter $(ORG_DIR)/attack/topic_1k_p_0.1 --world $(ORG_DIR)/world --judge $(ORG_DIR)/judge.h5 --out $@ $(ORG_EVAL_$(PRESET)) --quiet $(ORG_SEEDARG)

.PHONY: organism organism-attack
