"""``sources.holders.Hosts``: the hosts a registry plan looks up, without a set of all."""

from sources.domains import parents
from sources.holders import Hosts


def test_hosts_holds_every_target_home_and_their_parents_and_no_other():
    homes = {
        "a.b.example.ru": "example.ru",
        "c.example.ru": ("www.example.ru", "x.y.other.com"),
        "10.0.0.1": "d.e.third.org",
        "app:com.example": "app:com.example",
        "x.y.other.com": "y.other.com",
    }
    expected = set(homes)
    for target, found in homes.items():
        listed = (found,) if isinstance(found, str) else found
        expected.update(parents(target), listed)
        for home in listed:
            expected.update(parents(home))
    hosts = Hosts(homes)
    assert {"e.third.org", "third.org", "y.other.com", "other.com", "b.example.ru"} <= expected
    assert all(host in hosts for host in expected)
    assert not any(host in hosts for host in ("f.third.org", "z.other.com", "example.com",
                                              "10.0.0.2", "app:com.other"))
