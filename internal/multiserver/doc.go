// Package multiserver holds the multi-server suite: two or three real `propcredit serve`
// processes on one external database (FerretDB on PostgreSQL, started by scripts/ferretdb-pg,
// or the MongoDB at PROPCREDIT_TEST_MONGODB_URI), checked for what one database shared by many
// servers must keep: every acknowledged rating counted once, no revision gaps, tallies that
// agree, scores equal to those of the exported data, and nothing acknowledged lost to a
// kill -9, while the servers hand submissions to each other (serve --peer-url); and limits
// shared as by one server. It has no code outside its tests; see multiserver_test.go and docs/SCALING.md.
package multiserver
