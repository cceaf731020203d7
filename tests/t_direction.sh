#!/usr/bin/env bash
# t_direction.sh: asft-direction, asft-perturb and asft-fakeckpt end to end on small random
# Llama-shaped checkpoints (made here by asft-fakeckpt): outputs, the fixed HDF5 names, and
# one clear error line for every kind of bad input.
source tests/lib.sh
export ASFT_QUIET=1
small="--layers 2 --hidden 32 --ffn 48 --vocab 50 --heads 4"

check_ok $BIN/asft-fakeckpt --out-base $T/b --out-aligned $T/a $small --shard-bytes 20000 --dtype bf16
check_eq "$(ls $T/a | grep -c 'model-0000.-of-0000.\.safetensors')" 3 "shards"
check_ok $BIN/asft-direction --base $T/b --aligned $T/a --out $T/d.h5 --topk 4
grep -q 'verdict: C_hat is FAR from a projector' $T/.out && ok || bad "summary lacks the verdict"
grep -q 'peak RSS' $T/.out && ok || bad "summary lacks the peak RSS"
# fixed names: /delta/<HF name>/{s,U,V}, attrs, root global_norm
q=/delta/model.layers.1.self_attn.q_proj.weight
check_ok $BIN/asft-h5 export $T/d.h5 $q/s
check_eq "$(wc -l < $T/.out)" 4 "rows of s"
cut -f2 $T/.out > $T/orig
check_eq "$(sort -g -r $T/orig | tr '\n' ' ')" "$(cat $T/orig | tr '\n' ' ')" "s descending"
check_ok $BIN/asft-h5 export $T/d.h5 $q/U
check_eq "$(wc -l < $T/.out) $(head -1 $T/.out | wc -w)" "32 4" "U is out x K"
check_ok $BIN/asft-h5 attrs $T/d.h5 $q
for a in fro_norm rel_norm stable_rank chat_eig_max n_eig_gt_half n_eig_gt_one energy_topk; do
	grep -q "^$a = " $T/.out && ok || bad "attribute $a missing"
done
check_ok $BIN/asft-h5 attrs $T/d.h5
grep -q '^global_norm = ' $T/.out && ok || bad "root global_norm missing"
check_fail 'no such group' $BIN/asft-h5 attrs $T/d.h5 /delta/model.layers.0.self_attn.k_proj.weight
# all modules without SVD
check_ok $BIN/asft-direction --base $T/b --aligned $T/a --out $T/d0.h5 --modules all --topk 0
grep -q 'C_hat: not examined' $T/.out && ok || bad "no-SVD summary"

# bad inputs: one line naming the fact, no output file left behind
check_ok $BIN/asft-fakeckpt --out-base $T/b3 --out-aligned $T/a3 --layers 3 --hidden 32 --ffn 48 --vocab 50 --heads 4
check_fail 'architecture mismatch: num_hidden_layers is 2 in .* but 3 in' \
	$BIN/asft-direction --base $T/b --aligned $T/a3 --out $T/bad.h5
check_eq "$(ls $T/bad.h5* 2>/dev/null | wc -l)" 0 "no output after an error"
check_ok $BIN/asft-fakeckpt --out-base $T/bw --out-aligned $T/aw $small --ffn 64
cp $T/b/config.json $T/aw/config.json
check_fail 'tensor model.layers.0.mlp.down_proj.weight: shape \[32, 48\] in .* but \[32, 64\] in' \
	$BIN/asft-direction --base $T/b --aligned $T/aw --out $T/bad.h5
mkdir -p $T/tr && cp $T/b/config.json $T/b/model* $T/tr/
last=$(ls $T/tr/model-*.safetensors | tail -1)
truncate -s -64 "$last"
check_fail "${last##*/}: tensor .*: data_offsets .* past the end" \
	$BIN/asft-direction --base $T/b --aligned $T/tr --out $T/bad.h5
check_fail 'no 2-D tensor \*\.qproj\.weight' $BIN/asft-direction --base $T/b --aligned $T/a --out $T/bad.h5 --modules qproj
check_fail 'required' $BIN/asft-direction --base $T/b --out $T/bad.h5
check_fail "svd method 'fast'" $BIN/asft-direction --base $T/b --aligned $T/a --out $T/bad.h5 --svd fast
check_eq "$(ls $T/bad.h5* 2>/dev/null | wc -l)" 0 "no output after errors"

# asft-perturb: Table 1 cosines, exact orthogonality, reproducible seeds
check_ok $BIN/asft-perturb --model $T/a --direction $T/d.h5 --kind aligned,random,orthogonal --count 2 --seed 3 --out $T/p.h5
check_ok $BIN/asft-h5 attrs $T/p.h5 /cosines
grep -q '^names = aligned,random0,random1,orth0,orth1$' $T/.out && ok || bad "cosines names: $(cat $T/.out)"
check_ok $BIN/asft-h5 export $T/p.h5 /cosines
awk 'NR==1 { if ($4 < 1e-6 && $4 > -1e-6 && $5 < 1e-6 && $5 > -1e-6) exit 0; exit 1 }' $T/.out && ok || bad "aligned not orthogonal to orth0/orth1: $(head -1 $T/.out)"
awk 'NR==4 { if ($5 < 1e-6 && $5 > -1e-6) exit 0; exit 1 }' $T/.out && ok || bad "orth0 . orth1 != 0"
check_ok $BIN/asft-h5 attrs $T/p.h5 /random1
grep -q '^normalisation = layer$' $T/.out && ok || bad "random1 normalisation attr"
grep -q '^seed = 3$' $T/.out && ok || bad "random1 seed attr"
check_ok $BIN/asft-h5 export $T/p.h5 /random1/model.layers.0.mlp.up_proj.weight
cp $T/.out $T/r1
check_ok $BIN/asft-perturb --model $T/a --kind random --count 2 --seed 3 --out $T/p2.h5
check_ok $BIN/asft-h5 export $T/p2.h5 /random1/model.layers.0.mlp.up_proj.weight
cmp -s $T/.out $T/r1 && ok || bad "same seed gave different values"
check_ok $BIN/asft-perturb --model $T/a --kind harm,interp --from $T/b --to $T/a --norm unit --out $T/p3.h5
check_ok $BIN/asft-h5 export $T/p3.h5 /norms
awk 'NR==1 { d = $2 - 1; if (d < 1e-6 && d > -1e-6) exit 0; exit 1 }' $T/.out && ok || bad "unit norm: $(head -1 $T/.out)"
check_fail "kind 'walk'" $BIN/asft-perturb --model $T/a --kind walk --out $T/bad.h5
check_fail 'normalisation .*expected one of filter, layer, none, unit' $BIN/asft-perturb --model $T/a --kind random --norm rows --out $T/bad.h5
check_fail 'need --base and --aligned' $BIN/asft-perturb --model $T/a --kind orthogonal --out $T/bad.h5
check_fail 'architecture mismatch' $BIN/asft-perturb --model $T/a --kind harm --from $T/a --to $T/a3 --out $T/bad.h5
check_eq "$(ls $T/bad.h5* 2>/dev/null | wc -l)" 0 "no output after perturb errors"
finish
