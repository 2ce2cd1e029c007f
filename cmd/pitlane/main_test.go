package main

import (
	"os"
	"testing"

	"github.com/pitlane/pitlane/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }
