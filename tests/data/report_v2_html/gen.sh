# Reports made by the release before (commit adb47bb), for tests/data/report_v2_html.
# usage: bash gen_old.sh OLD_CHECKOUT OUT
set -eu
OLD=$1; OUT=$2; W=$(mktemp -d)
export BLOCKLEDGER_DB=$W/l.db BLOCKLEDGER_OPERATOR=alice BLOCKLEDGER_SIGNING_KEY=$W/alice.pem
python3 -c "
from cryptography.hazmat.primitives import serialization as s
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
k = Ed25519PrivateKey.generate()
open('$W/alice.pem','wb').write(k.private_bytes(s.Encoding.PEM, s.PrivateFormat.PKCS8, s.NoEncryption()))
open('$OUT/alice.pub','wb').write(k.public_key().public_bytes(s.Encoding.PEM, s.PublicFormat.SubjectPublicKeyInfo))"
old() { (cd $OLD && python3 -c "from cli import cli; cli()" "$@"); }
rec() { old record "$@" --source https://example.org/record >/dev/null; }
old init --jurisdiction RU >/dev/null
old operator add alice --public-key $OUT/alice.pub >/dev/null
rec platform-registered telegram --at 2013-08-14 --name Telegram --target t.me --target telegram.org
rec email-sent telegram --at 2018-04-01 --sender RKN --recipient Telegram --summary "hand over the keys"
rec blocked rkn --at 2018-04-16 --platform telegram --authority RKN --target t.me --target telegram.org --reason keys
rec unblocked rkn --at 2020-06-18 --authority RKN --target telegram.org
rec blocked jk --at 2019-01-01 --platform telegram --authority "J&K Home Dept" --target telegram.org --reason unrest --jurisdiction IN-JK
rec access-observed jk --at 2019-02-01 --target telegram.org --accessible --jurisdiction IN-JK --network AS9829
rec penalty-imposed telegram --at 2018-05-01 --authority RKN --amount 3000 --currency RUB --per once --reason keys --order rkn
old checkpoint -o $OUT/checkpoint.txt >/dev/null
old report provenance telegram --format json -o $OUT/telegram.json
old report provenance telegram --format html -o $OUT/telegram.html
old report provenance telegram --format html --as-of 2019-03-01 --tz Asia/Kolkata --paper a4 -o $OUT/telegram-2019.html
old report provenance rkn --format html -o $OUT/rkn.html
rm -rf $W
