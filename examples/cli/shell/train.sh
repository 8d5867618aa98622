#!/bin/sh
# A toy training run for `tunewise run --config study.toml`, define-by-run in POSIX shell:
# `tunewise suggest` prints a parameter's value (the study's sampler chooses it), `tunewise
# report STEP VALUE` reports the loss after each epoch and exits with status 3 when the study's
# pruner stops the trial. The last line printed is the score.
set -eu

lr=$(tunewise suggest float lr 1e-4 1 --log)
layers=$(tunewise suggest int layers 1 6)
optimizer=$(tunewise suggest categorical optimizer sgd adam)
# A conditional parameter: only asked for when it is used.
if [ "$optimizer" = sgd ]; then
    momentum=$(tunewise suggest float momentum 0 0.99)
else
    momentum=0
fi

# The loss this configuration would end at (best near lr = 0.01 with 3 layers), and a training
# curve that falls from 3 towards it, with a little noise.
final=$(awk -v lr="$lr" -v l="$layers" -v o="$optimizer" -v m="$momentum" 'BEGIN {
    f = (log(lr) / log(10) + 2) ^ 2 + 0.2 * (l - 3) ^ 2
    if (o == "sgd") f += 0.5 * (1 - m)
    printf "%.6f", f + 0.05 }')
epoch=1
while [ "$epoch" -le 10 ]; do
    loss=$(awk -v f="$final" -v e="$epoch" -v t="$TUNEWISE_TRIAL_NUMBER" 'BEGIN {
        srand(t * 100 + e); printf "%.6f", f + (3 - f) * exp(-e / 3) + 0.02 * rand() }')
    status=0
    tunewise report "$epoch" "$loss" || status=$?
    if [ "$status" -eq 3 ]; then
        # Pruned: stop now (the trial is recorded as pruned, whatever this script does next).
        echo "pruned after epoch $epoch (loss $loss)" >&2
        exit 0
    elif [ "$status" -ne 0 ]; then
        exit "$status"
    fi
    epoch=$((epoch + 1))
done
echo "$loss"
