// Package postgres is the PostgreSQL dialect of the warehouse backend: the
// SQL (one embedded file per query) that reads PostgreSQL's statistics
// views and the ops schema, and the code that turns its answers into a
// backend.Snapshot.
package postgres
