module example.com/mono

go 1.24.2
