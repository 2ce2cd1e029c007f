// Package store keeps counters in PostgreSQL.
package store

import (
	"database/sql"

	_ "github.com/lib/pq" // the PostgreSQL driver
)

// Open connects to the database at url.
func Open(url string) (*sql.DB, error) { return sql.Open("postgres", url) }

// Bump adds one to the counter name and returns its new value.
func Bump(db *sql.DB, name string) (int, error) {
	if _, err := db.Exec(`CREATE TABLE IF NOT EXISTS counters (name text PRIMARY KEY, n int NOT NULL)`); err != nil {
		return 0, err
	}
	var n int
	err := db.QueryRow(`INSERT INTO counters VALUES ($1, 1) ON CONFLICT (name) DO UPDATE SET n = counters.n + 1 RETURNING n`, name).Scan(&n)
	return n, err
}
