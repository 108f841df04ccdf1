#!/usr/bin/env bash
# Accuracy through HTTP, the real lighttpd + mnist-fcgi and the shared test model,
# MNIST test images sent by 4 concurrent keep-alive clients:
#   - all 10000 (ACCURACY_IMAGES) as 28x28 PNG files in multipart/form-data
#     (preprocessing on): >= 99 %
#   - the same as PNG bodies with ?preprocess=0: >= 99 %, and exactly the test
#     accuracy the trainer wrote into the model (serving adds no error)
#   - 2000 (ACCURACY_USER_IMAGES, spread over the test set) "user-like": black digit on
#     white, scaled x10 (nearest or bilinear) to 280x280, placed off-centre on a larger
#     page, as PNG (gray, RGB, transparent) or, one in three, JPEG: >= 97 %
# Prints "# ACCURACY what percent right/total rate" lines.
set -euo pipefail
# shellcheck source=tests/lib.sh
source "$top_srcdir/tests/lib.sh"
# shellcheck source=tests/integration/common.sh
source "$top_srcdir/tests/integration/common.sh"

model=$(test_model)
start_service svc "$model" --quiet
echo "# service at $url, model $model"
py_checks accuracy "$url" "$data" "${ACCURACY_IMAGES:-10000}" "${ACCURACY_USER_IMAGES:-2000}"
finish
