"""gen.sh's clock: every process it runs reads the time shifted so that the run began at
``BLOCKLEDGER_GEN_AT`` (RFC 3339 UTC), whatever the real time. The pages must be dated
before the divergence rule changed (``projections.report_superseded.RULE_CHANGED``): only
then does ``verify-proof`` accept a page drawn by the earlier rule."""

import datetime as _d
import os
import time as _t

_shift = _d.datetime.fromisoformat(os.environ["BLOCKLEDGER_GEN_AT"]).timestamp() - float(
    os.environ["BLOCKLEDGER_GEN_REAL"])
_real_time = _t.time


class _Shifted(_d.datetime):
    @classmethod
    def now(cls, tz=None):
        return _d.datetime.fromtimestamp(_real_time() + _shift, tz)

    @classmethod
    def utcnow(cls):
        return _d.datetime.fromtimestamp(_real_time() + _shift, _d.UTC).replace(tzinfo=None)


_d.datetime = _Shifted
_t.time = lambda: _real_time() + _shift
