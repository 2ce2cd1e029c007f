package store

import (
	"os"
	"testing"
)

func TestBump(t *testing.T) {
	db, err := Open(os.Getenv("DATABASE_URL"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	a, err := Bump(db, t.Name())
	if err != nil {
		t.Fatalf("the database named in .env.example is not there: %v", err)
	}
	b, err := Bump(db, t.Name())
	if err != nil || b != a+1 {
		t.Fatalf("bump: %d then %d, %v", a, b, err)
	}
}
