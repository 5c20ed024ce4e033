# Reports made by the release before regional divergence (commit e447492^), for
# tests/data/report_divergence1_html.
# usage: bash gen.sh OLD_CHECKOUT OUT [AT]
# Every command runs on a clock shifted to begin at AT (default 2026-12-06T12:00:00Z,
# clock/sitecustomize.py): the reports must be generated, and their checkpoint written,
# before the rule changed (e447492, 2026-12-06T18:51:36Z) for verify-proof to accept
# their pages drawn by the earlier rule.
set -eu
OLD=$1; OUT=$2; W=$(mktemp -d); HERE=$(cd "$(dirname "$0")" && pwd)
export BLOCKLEDGER_GEN_AT=${3:-2026-12-06T12:00:00+00:00} BLOCKLEDGER_GEN_REAL=$(date +%s)
export BLOCKLEDGER_DB=$W/l.db BLOCKLEDGER_OPERATOR=alice BLOCKLEDGER_SIGNING_KEY=$W/alice.pem
python3 -c "
from cryptography.hazmat.primitives import serialization as s
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
k = Ed25519PrivateKey.generate()
open('$W/alice.pem','wb').write(k.private_bytes(s.Encoding.PEM, s.PrivateFormat.PKCS8, s.NoEncryption()))
open('$OUT/alice.pub','wb').write(k.public_key().public_bytes(s.Encoding.PEM, s.PublicFormat.SubjectPublicKeyInfo))"
old() { (cd $OLD && PYTHONPATH=$OLD:$HERE/clock python3 -c "from cli import cli; cli()" "$@"); }
rec() { old record "$@" --source https://example.org/record >/dev/null; }
old init --jurisdiction IN >/dev/null
old operator add alice --public-key $OUT/alice.pub >/dev/null
rec platform-registered telegram --at 2013-08-14 --name Telegram --target t.me --target telegram.org
rec blocked jk --at 2019-01-01 --platform telegram --authority "J&K Home Dept" --target telegram.org --reason unrest --jurisdiction IN-JK
rec access-observed jk --at 2019-02-01 --target telegram.org --accessible --jurisdiction IN-DL --network AS9829
rec blocked jk2 --at 2019-03-01 --platform telegram --authority "J&K Home Dept" --target t.me --reason unrest --jurisdiction IN-JK
rec unblocked jk2 --at 2019-04-01 --authority "J&K Home Dept" --target t.me
rec access-observed jk2 --at 2019-05-01 --target t.me --not-accessible --jurisdiction IN-DL --network AS55836
old checkpoint -o $OUT/checkpoint.txt >/dev/null
old report provenance telegram --format json -o $OUT/telegram.json
old report provenance telegram --format html -o $OUT/telegram.html
old report provenance telegram --format html --as-of 2019-04-15 --tz Asia/Kolkata --paper a4 -o $OUT/telegram-2019.html
old report provenance jk2 --format html -o $OUT/jk2.html
rm -rf $W
