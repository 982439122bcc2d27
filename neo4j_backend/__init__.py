"""Neo4j backend: push, pull and canned queries in Cypher."""
