import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newest } from './index.js';

test('picks the newest version', () => {
  assert.equal(newest(['1.2.3', '1.10.0', '1.9.9']), '1.10.0');
});

test('runs on the Node that .nvmrc names', () => {
  assert.equal(process.versions.node.split('.')[0], '20');
});
