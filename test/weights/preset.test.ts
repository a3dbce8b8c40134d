// Presets train from the paper's ImageNet weights unless --pretrained says otherwise.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveConfig } from '../../src/train/config.js';

test('a preset defaults --pretrained to the weights of its architecture (resnet50: the original release)', () => {
  assert.equal(resolveConfig({ preset: 'cub', flags: { root: '/data' } }).pretrained, 'resnet50');
  assert.equal(resolveConfig({ preset: 'sop', flags: { root: '/d', arch: 'bninception' } }).pretrained, 'bninception');
  assert.equal(resolveConfig({ preset: 'sop', flags: { root: '/d', arch: 'smallcnn' } }).pretrained, null);
});

test('--pretrained none trains from scratch; an explicit name or file wins; no preset, no weights', () => {
  assert.equal(resolveConfig({ preset: 'cub', flags: { root: '/d', pretrained: 'none' } }).pretrained, null);
  assert.equal(
    resolveConfig({ preset: 'cub', flags: { root: '/d', pretrained: 'resnet50-v2' } }).pretrained,
    'resnet50-v2',
  );
  assert.equal(resolveConfig({ preset: 'cub', file: { pretrained: null }, flags: { root: '/d' } }).pretrained, null);
  assert.equal(resolveConfig({ flags: { dataset: 'cub', root: '/d' } }).pretrained, null);
  assert.equal(resolveConfig({ flags: { dataset: 'cub', root: '/d', pretrained: 'none' } }).pretrained, null);
});
