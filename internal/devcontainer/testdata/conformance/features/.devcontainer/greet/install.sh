#!/bin/sh
set -e
mkdir -p /tmp/conformance
echo "greet GREETING=$GREETING LOUD=$LOUD user=$_REMOTE_USER" >> /tmp/conformance/markers
