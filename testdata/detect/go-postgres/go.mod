module example.com/store

go 1.23.0

toolchain go1.24.2

require github.com/lib/pq v1.10.9
