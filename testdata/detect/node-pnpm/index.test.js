import assert from 'node:assert/strict';
import { test } from 'node:test';
import { millis } from './index.js';

test('reads durations', () => {
  assert.equal(millis('2h'), 7200000);
});

test('runs on the Node that .node-version names', () => {
  assert.equal(process.versions.node, '22.12.0');
});
