#!/bin/sh
set -e
mkdir -p /tmp/conformance
echo "stamp WORD=$WORD" >> /tmp/conformance/markers
