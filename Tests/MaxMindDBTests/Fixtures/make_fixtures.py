#!/usr/bin/env python3
"""Build the small MaxMind DB files that MaxMindDBTests read.

The generated .mmdb files are committed next to this script, so neither CI nor
a developer running `swift test` needs Python or any Python package. Run this
only to change the fixtures, then commit the regenerated files:

    python3 -m venv /tmp/mmdb-venv
    /tmp/mmdb-venv/bin/pip install mmdb-writer   # brings netaddr
    /tmp/mmdb-venv/bin/python Tests/MaxMindDBTests/Fixtures/make_fixtures.py

The records follow the GeoLite2 / DB-IP lite layouts that Warden reads
(`country.iso_code`, `registered_country.iso_code`, `continent.code`,
`autonomous_system_number`, `autonomous_system_organization`), with the value
types MaxMind uses (uint32 for numbers). Every network lies in the
documentation ranges (RFC 5737, RFC 3849) and every ASN in the documentation
range (RFC 5398). `build_epoch` is fixed so that regenerating gives the same
bytes.

Files written:
  country.mmdb        IPv6 tree, IPv4 stored at ::/96, type "GeoLite2-Country"
      192.0.2.0/24     DE / EU
      198.51.100.0/24  US / NA
      203.0.113.0/24   no `country`, registered_country AU / OC
      2001:db8:1::/48  JP / AS
  asn.mmdb            IPv6 tree, IPv4 stored at ::/96, type "GeoLite2-ASN"
      192.0.2.0/24     AS64500 "Example Net"
      198.51.100.0/25  AS64502 "Example Half"
      2001:db8:1::/48  AS64501 "Example Six"
  ipv4-only.mmdb      IPv4 tree, type "DBIP-ASN-Lite"
      198.51.100.0/25  AS64502 "Example Four"
  corrupt.mmdb        not a MaxMind DB: no metadata section, MMDB_open fails
  corrupt-tree.mmdb   country.mmdb whose root node points past the file end:
                      MMDB_open succeeds, every lookup fails
"""

import pathlib

from mmdb_writer import MMDBWriter, MmdbU32
from netaddr import IPSet

BUILD_EPOCH = 1767225600  # 2026-01-01T00:00:00Z
HERE = pathlib.Path(__file__).resolve().parent


class FixedEpochWriter(MMDBWriter):
    """mmdb-writer stamps the current time; fixtures must be reproducible."""

    def _build_meta(self):
        meta = super()._build_meta()
        meta["build_epoch"] = BUILD_EPOCH
        return meta


def place(geoname_id, iso_code, name):
    return {"geoname_id": MmdbU32(geoname_id), "iso_code": iso_code, "names": {"en": name}}


def continent(geoname_id, code, name):
    return {"code": code, "geoname_id": MmdbU32(geoname_id), "names": {"en": name}}


EUROPE = continent(6255148, "EU", "Europe")
NORTH_AMERICA = continent(6255149, "NA", "North America")
ASIA = continent(6255147, "AS", "Asia")
OCEANIA = continent(6255151, "OC", "Oceania")

GERMANY = place(2921044, "DE", "Germany")
UNITED_STATES = place(6252001, "US", "United States")
JAPAN = place(1861060, "JP", "Japan")
AUSTRALIA = place(2077456, "AU", "Australia")


def write_country(path):
    writer = FixedEpochWriter(
        ip_version=6,
        ipv4_compatible=True,
        database_type="GeoLite2-Country",
        languages=["en"],
        description="Warden test fixture (country)",
    )
    writer.insert_network(
        IPSet(["192.0.2.0/24"]),
        {"continent": EUROPE, "country": GERMANY, "registered_country": GERMANY},
    )
    writer.insert_network(
        IPSet(["198.51.100.0/24"]),
        {"continent": NORTH_AMERICA, "country": UNITED_STATES, "registered_country": UNITED_STATES},
    )
    # GeoLite2 has records like this (satellite and anycast providers): only
    # the registered country is known.
    writer.insert_network(
        IPSet(["203.0.113.0/24"]),
        {"continent": OCEANIA, "registered_country": AUSTRALIA},
    )
    writer.insert_network(
        IPSet(["2001:db8:1::/48"]),
        {"continent": ASIA, "country": JAPAN, "registered_country": JAPAN},
    )
    writer.to_db_file(str(path))


def asn_record(number, organization):
    return {
        "autonomous_system_number": MmdbU32(number),
        "autonomous_system_organization": organization,
    }


def write_asn(path):
    writer = FixedEpochWriter(
        ip_version=6,
        ipv4_compatible=True,
        database_type="GeoLite2-ASN",
        languages=["en"],
        description="Warden test fixture (ASN)",
    )
    writer.insert_network(IPSet(["192.0.2.0/24"]), asn_record(64500, "Example Net"))
    writer.insert_network(IPSet(["198.51.100.0/25"]), asn_record(64502, "Example Half"))
    writer.insert_network(IPSet(["2001:db8:1::/48"]), asn_record(64501, "Example Six"))
    writer.to_db_file(str(path))


def write_ipv4_only(path):
    writer = FixedEpochWriter(
        ip_version=4,
        database_type="DBIP-ASN-Lite",
        languages=["en"],
        description="Warden test fixture (IPv4 tree)",
    )
    writer.insert_network(IPSet(["198.51.100.0/25"]), asn_record(64502, "Example Four"))
    writer.to_db_file(str(path))


def write_corrupt(path):
    # No "\xab\xcd\xefMaxMind.com" marker, so there is no metadata to find.
    path.write_bytes(b"\x00" * 64 + b"this is not a MaxMind DB file\n" + b"\xff" * 64)


def write_corrupt_tree(path, source):
    data = bytearray(source.read_bytes())
    # Node 0 holds the first two records (24 bits each here); 0xffffff in both
    # points far past the data section, which libmaxminddb reports as
    # MMDB_CORRUPT_SEARCH_TREE_ERROR on lookup, not on open.
    data[0:6] = b"\xff" * 6
    path.write_bytes(bytes(data))


def main():
    write_country(HERE / "country.mmdb")
    write_asn(HERE / "asn.mmdb")
    write_ipv4_only(HERE / "ipv4-only.mmdb")
    write_corrupt(HERE / "corrupt.mmdb")
    write_corrupt_tree(HERE / "corrupt-tree.mmdb", HERE / "country.mmdb")
    for name in sorted(p.name for p in HERE.glob("*.mmdb")):
        print(f"{name}: {(HERE / name).stat().st_size} bytes")


if __name__ == "__main__":
    main()
