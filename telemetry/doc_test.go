package telemetry

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// docTables returns the rows of the markdown table under each "### "
// heading of docs/telemetry.md, split into cells.
func docTables(t *testing.T) map[string][][]string {
	t.Helper()
	b, err := os.ReadFile("../docs/telemetry.md")
	if err != nil {
		t.Fatalf("read the telemetry documentation: %v", err)
	}
	tables := map[string][][]string{}
	heading := ""
	for _, line := range strings.Split(string(b), "\n") {
		if h, ok := strings.CutPrefix(line, "### "); ok {
			heading = strings.TrimSpace(h)
			continue
		}
		if heading == "" || !strings.HasPrefix(line, "| `") {
			continue
		}
		cells := strings.Split(strings.Trim(strings.TrimSpace(line), "|"), "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		tables[heading] = append(tables[heading], cells)
	}
	return tables
}

var codeRE = regexp.MustCompile("`([^`]*)`")

// codes returns the backquoted words of a cell.
func codes(cell string) []string {
	var out []string
	for _, m := range codeRE.FindAllStringSubmatch(cell, -1) {
		out = append(out, m[1])
	}
	return out
}

// TestDocMatchesCode keeps docs/telemetry.md and the Go tables equal: every
// instrument with its type, unit and attribute keys, and every attribute
// with its allowed values.
func TestDocMatchesCode(t *testing.T) {
	tables := docTables(t)

	rows := tables["Instruments"]
	if len(rows) != len(Instruments) {
		t.Errorf("the documentation lists %d instruments, the code %d", len(rows), len(Instruments))
	}
	for i, in := range Instruments {
		if i >= len(rows) {
			break
		}
		r := rows[i]
		got := Instrument{Name: one(codes(r[0])), Kind: r[1], Unit: one(codes(r[2])), Attributes: codes(r[3])}
		if got.Name != in.Name || got.Kind != in.Kind || got.Unit != in.Unit || !slices.Equal(got.Attributes, in.Attributes) {
			t.Errorf("instrument %d:\n doc  %+v\n code %+v", i, got, Instrument{Name: in.Name, Kind: in.Kind, Unit: in.Unit, Attributes: in.Attributes})
		}
	}

	checkAttrs := func(table string, attrs []Attribute) {
		rows := tables[table]
		if len(rows) != len(attrs) {
			t.Errorf("%s: the documentation lists %d attributes, the code %d", table, len(rows), len(attrs))
		}
		for i, a := range attrs {
			if i >= len(rows) {
				break
			}
			r := rows[i]
			if key := one(codes(r[0])); key != a.Key {
				t.Errorf("%s %d: documented %q, code %q", table, i, key, a.Key)
			}
			if a.Values != nil {
				if vals := codes(r[1]); !slices.Equal(vals, a.Values) {
					t.Errorf("%s %s: documented values %v, code %v", table, a.Key, vals, a.Values)
				}
			} else if !strings.HasPrefix(r[1], a.Format) {
				t.Errorf("%s %s: documented %q, code says %q", table, a.Key, r[1], a.Format)
			}
		}
	}
	checkAttrs("Data point attributes", DataPointAttributes)
	checkAttrs("Resource attributes", ResourceAttributes)

	// Every attribute an instrument uses is documented.
	for _, in := range Instruments {
		for _, k := range in.Attributes {
			if _, ok := attrDoc(k); !ok {
				t.Errorf("%s uses undocumented attribute %q", in.Name, k)
			}
		}
	}
}

func one(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}
