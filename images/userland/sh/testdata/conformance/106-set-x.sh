set -x
echo traced
