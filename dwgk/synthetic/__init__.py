"""A synthetic province for measuring the platform at scale (issue 6, item 1).

`manage.py generate_province --preset small|city|province` fills the real tables the
platform reads — organizations, people, catalogs, disclosures with their audience keys,
hash-chained logs, reviews, approvals, search rows, opinions and tasks — with bulk inserts
(COPY on PostgreSQL), deterministically for a given seed. See bench/README.md.
"""
