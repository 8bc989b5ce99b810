"""bench.cold's reading of ``python -X importtime``: each module's importer chain."""

from __future__ import annotations

from bench.cold import _self_times

#: -X importtime's own layout (CPython 3.13): a module after what it imported, each level two
#: spaces deeper.
REPORT = """\
import time: self [us] | cumulative | imported package
import time:      1000 |       1000 |   json.decoder
import time:       500 |       1500 | json
import time:      2000 |       2000 |     werkzeug.local
import time:      3000 |       5000 |   werkzeug
import time:      4000 |       9000 | connexion
import time:      6000 |       6000 |   yaml
import time:       700 |       6700 | currency_api.text
"""


def test_self_times_add_up_per_package_and_follow_the_importer_chain() -> None:
    totals, through = _self_times(REPORT, "connexion")
    assert totals == {
        "json": 1.5,
        "werkzeug": 5.0,
        "connexion": 4.0,
        "yaml": 6.0,
        "currency_api": 0.7,
    }
    # werkzeug (and its werkzeug.local) came in under connexion; yaml under currency_api.
    assert through == {"werkzeug": 5.0, "connexion": 4.0}


def test_a_package_imported_first_elsewhere_is_not_counted_as_the_importers() -> None:
    _totals, through = _self_times(REPORT, "currency_api")
    assert through == {"yaml": 6.0, "currency_api": 0.7}
