#!/bin/sh
set -e
mkdir -p /tmp/conformance
echo "base-tools installed" >> /tmp/conformance/markers
