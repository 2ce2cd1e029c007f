import assert from 'node:assert/strict';
import { test } from 'node:test';
import { camel } from './index.js';

test('camel-cases', () => {
  assert.equal(camel('foo-bar'), 'fooBar');
});
