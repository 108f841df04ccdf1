# shellcheck shell=bash
# Ten MNIST test digits (the model never saw them in training) posted to a running
# service, for the stages that test it from the outside as it is shipped:
# tests/container/run.sh (the image) and tests/systemd/run.sh (the installed units).
#
#   write_digits DATA DIR         DIR/digit-I.json ({"pixels": [784 numbers]}) and
#                                 DIR/digit-I.label, I = 0..9: the first ten test
#                                 images of the MNIST directory DATA
#   digits_right DIR URL [CMD...] prints how many of them POST URL/predict reads right;
#                                 CMD runs curl (e.g. nsenter into another network)

write_digits() {
  /usr/bin/python3 - "$1" "$2" <<'PY'
import json, sys
data, work = sys.argv[1], sys.argv[2]
images = open(f"{data}/t10k-images-idx3-ubyte", "rb").read()[16:]
labels = open(f"{data}/t10k-labels-idx1-ubyte", "rb").read()[8:]
for i in range(10):
    with open(f"{work}/digit-{i}.json", "w") as f:
        json.dump({"pixels": list(images[784 * i:784 * (i + 1)])}, f)
    with open(f"{work}/digit-{i}.label", "w") as f:
        f.write(str(labels[i]))
PY
}

digits_right() {
  local dir=$1 url=$2 right=0 i prediction
  shift 2
  for i in $(seq 0 9); do
    prediction=$("$@" curl -s --max-time 5 -H 'Content-Type: application/json' \
      --data-binary "@$dir/digit-$i.json" "$url/predict" |
      /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["prediction"])' 2>/dev/null) ||
      prediction=none
    [ "$prediction" = "$(cat "$dir/digit-$i.label")" ] && right=$((right + 1))
  done
  echo "$right"
}
