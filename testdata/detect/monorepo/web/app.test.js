const assert = require('node:assert/strict');
const { test } = require('node:test');

test('the web half runs', () => {
  assert.equal(1 + 1, 2);
});
