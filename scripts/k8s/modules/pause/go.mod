module github.com/pitlane/pitlane/scripts/k8s/modules/pause

go 1.26.0
